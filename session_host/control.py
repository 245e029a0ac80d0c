"""The control consumer: long-polls the control queue and applies session commands (link, pair,
logout, delete, sync) from the API.

Partial failures as Powertools' BatchProcessor has them: each message of a batch succeeds or fails on
its own; a success is deleted, a failure stays in the queue (it comes back after the visibility
timeout and, past maxReceiveCount, goes to the DLQ, where an alarm watches). Commands are idempotent,
and one already applied (same command id) is acknowledged again without being applied twice.
Commands of one sender are applied in order; different senders in parallel.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import timedelta

from pydantic import ValidationError

from wacast.domain.commands import SenderCommand
from wacast.observability import logger
from wacast.ports import Clock, Queue, QueueMessage

SEEN_LIMIT = 10_000
BATCH_DEADLINE_SECONDS = 50.0  # under the control queue's 60 s visibility timeout


class ControlConsumer:
    """Applies SenderCommands with `apply`; see the module docstring for the failure semantics."""

    def __init__(
        self,
        queue: Queue,
        apply: Callable[[SenderCommand], None],
        clock: Clock,
        max_age_seconds: float,
        wait_seconds: int = 20,
        workers: int = 4,
    ) -> None:
        self.queue = queue
        self.apply = apply
        self.clock = clock
        self.max_age = timedelta(seconds=max_age_seconds)
        self.wait_seconds = wait_seconds
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="control")
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._seen_lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="control-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling; commands being applied finish (each is bounded)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=self.wait_seconds + 5)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                batch = self.queue.receive(max_messages=10, wait_seconds=self.wait_seconds)
            except Exception:
                logger.exception("control receive failed; backing off")
                self._stopping.wait(2.0)
                continue
            if batch:
                self.process(batch)

    def process(self, batch: list[QueueMessage]) -> list[str]:
        """Apply a batch; returns the message ids that failed (they stay in the queue)."""
        failed: list[str] = []
        by_sender: dict[str, list[tuple[QueueMessage, SenderCommand]]] = defaultdict(list)
        for message in batch:
            try:
                command = SenderCommand.model_validate(message.body)
            except ValidationError:
                logger.error("malformed session command; it will go to the DLQ", body=message.body)
                failed.append(message.message_id)
                continue
            by_sender[command.sender_id].append((message, command))
        futures = {self._pool.submit(self._run_lane, lane): lane for lane in by_sender.values()}
        done, _ = wait(futures, timeout=BATCH_DEADLINE_SECONDS)
        failed += [m.message_id for f in done for m in f.result()]
        failed += [m.message_id for f, lane in futures.items() if f not in done for m, _ in lane]
        return failed

    def _run_lane(self, lane: list[tuple[QueueMessage, SenderCommand]]) -> list[QueueMessage]:
        return [message for message, command in lane if not self._handle(message, command)]

    def _handle(self, message: QueueMessage, command: SenderCommand) -> bool:
        """True when the message is done with (deleted)."""
        if self._already_applied(command.command_id) or self._stale(command):
            return self._ack(message)
        try:
            self.apply(command)
        except Exception:
            logger.exception("session command failed; it will be retried", command=command.type.value)
            return False
        self._remember(command.command_id)
        return self._ack(message)

    def _stale(self, command: SenderCommand) -> bool:
        if self.clock.now() - command.issued_at <= self.max_age:
            return False
        logger.warning("session command too old; dropped", command=command.type.value, sender_id=command.sender_id)
        return True

    def _ack(self, message: QueueMessage) -> bool:
        try:
            self.queue.delete(message)
        except Exception:
            logger.exception("could not delete a session command; it will come back and be skipped")
        return True

    def _already_applied(self, command_id: str) -> bool:
        with self._seen_lock:
            return command_id in self._seen

    def _remember(self, command_id: str) -> None:
        with self._seen_lock:
            self._seen[command_id] = None
            while len(self._seen) > SEEN_LIMIT:
                self._seen.popitem(last=False)
