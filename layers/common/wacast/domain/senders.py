"""Senders: the WhatsApp numbers an account links, and the state of their sessions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from wacast.domain.pacing import PacingPolicy


class SenderState(StrEnum):
    NEW = "new"
    LINKING = "linking"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    LOGGED_OUT = "logged_out"
    FAILED = "failed"


class Sender(BaseModel):
    id: str
    account_id: str
    phone: str | None = None
    display_name: str = ""
    #: Enabled drivers in order: the first is the primary, the next the fallback.
    drivers: list[str] = Field(default_factory=lambda: ["neonize", "webjs"])
    pacing: PacingPolicy = Field(default_factory=PacingPolicy)
    state: SenderState = SenderState.NEW
    state_since: datetime | None = None
    last_error: str | None = None
    qr: str | None = None
    qr_updated_at: datetime | None = None
    pairing_code: str | None = None
    created_at: datetime
