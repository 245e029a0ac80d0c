"""Operator actions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from routes.deps import PrincipalDep, ServicesDep
from routes.errors import ERRORS
from wacast.services.operations import RedriveStarted

router = APIRouter(prefix="/api/admin", tags=["admin"], responses=ERRORS)

QueueName = Literal["campaigns", "outbox", "events", "control"]


class Redrive(BaseModel):
    status: str
    moved: int
    to_move: int | None
    started_at: datetime
    failure_reason: str | None


@router.post("/dlq/{queue}/redrive", status_code=status.HTTP_202_ACCEPTED)
def redrive(
    queue: QueueName,
    principal: PrincipalDep,
    services: ServicesDep,
    max_per_second: Annotated[int | None, Query(ge=1, le=500)] = None,
) -> RedriveStarted:
    """Move every message of a dead-letter queue back to its source queue (operators only). SQS moves
    them in the background; `GET .../redrives` shows the progress. 409 while a redrive is running."""
    return services.operations.redrive(principal, queue, max_per_second)


@router.get("/dlq/{queue}/redrives")
def redrives(queue: QueueName, principal: PrincipalDep, services: ServicesDep) -> list[Redrive]:
    """The recent redrives of a dead-letter queue, newest first (operators only)."""
    tasks = services.operations.redrives(principal, queue)
    return [Redrive.model_validate(task, from_attributes=True) for task in tasks]
