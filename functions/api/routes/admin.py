"""Operator actions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from routes.deps import PrincipalDep, ServicesDep
from routes.errors import ERRORS

router = APIRouter(prefix="/api/admin", tags=["admin"], responses=ERRORS)


class Redriven(BaseModel):
    queue: str
    moved: int


@router.post("/dlq/{queue}/redrive")
def redrive(
    queue: Literal["campaigns", "outbox", "events", "control"],
    principal: PrincipalDep,
    services: ServicesDep,
    max_messages: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Redriven:
    """Move up to `max_messages` from a dead-letter queue back to its source queue (operators only)."""
    return Redriven(queue=queue, moved=services.operations.redrive(principal, queue, max_messages))
