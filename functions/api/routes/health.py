"""Liveness of the API."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str = "ok"
    service: str = "wacast"


@router.get("/health")
def health() -> Health:
    return Health()
