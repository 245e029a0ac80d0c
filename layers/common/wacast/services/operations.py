"""Operator actions on the queues: redrive a dead-letter queue into its source queue, with SQS's own
message move task (it moves in the background; nothing here receives from a DLQ)."""

from __future__ import annotations

from pydantic import BaseModel

from wacast.domain.accounts import Principal
from wacast.domain.errors import Forbidden, NotFound
from wacast.ports import DeadLetterQueue, MoveTask, Queue


class RedriveStarted(BaseModel):
    queue: str
    task_handle: str
    #: Messages in the dead-letter queue when the move started (SQS moves them in the background).
    approximate_messages: int


class OperationsService:
    """Redrives of dead-letter queues, for the accounts named operators."""

    def __init__(self, sources: dict[str, Queue], dlqs: dict[str, DeadLetterQueue], operators: list[str]) -> None:
        self.sources = sources
        self.dlqs = dlqs
        self.operators = operators

    def redrive(self, principal: Principal, name: str, max_per_second: int | None = None) -> RedriveStarted:
        dlq, source = self._pair(principal, name)
        waiting = dlq.depth()
        handle = dlq.start_redrive(source, max_per_second)
        return RedriveStarted(queue=name, task_handle=handle, approximate_messages=waiting.visible + waiting.in_flight)

    def redrives(self, principal: Principal, name: str) -> list[MoveTask]:
        dlq, _ = self._pair(principal, name)
        return dlq.redrives()

    def _pair(self, principal: Principal, name: str) -> tuple[DeadLetterQueue, Queue]:
        if not principal.can_manage or ("*" not in self.operators and principal.account_id not in self.operators):
            raise Forbidden("only operators may redrive dead-letter queues")
        if name not in self.dlqs or name not in self.sources:
            raise NotFound(f"no dead-letter queue named {name!r}", details={"field": "queue"})
        return self.dlqs[name], self.sources[name]
