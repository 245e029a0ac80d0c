"""Senders: the WhatsApp numbers an account links, and the state of their sessions.

A sender can run several drivers (neonize first, the whatsapp-web.js sidecar as fallback). Each driver
is a separate linked device of the same WhatsApp account, so each has a session of its own; the
sender's state is derived from them (`overall_state`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from wacast.domain.pacing import PacingPolicy

#: Every driver wacast knows. "simulated" is offered only where the default driver is simulated.
DRIVER_NAMES = ("neonize", "webjs", "simulated")


class SenderState(StrEnum):
    NEW = "new"
    LINKING = "linking"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    LOGGED_OUT = "logged_out"
    FAILED = "failed"


#: Which driver session speaks for the sender: the best one. A sender with one connected driver can
#: send; one that is still trying (linking, reconnecting) is not failed yet; "failed" means nothing
#: is trying any more (circuit open), and a logged-out session must be linked again.
STATE_RANK: dict[SenderState, int] = {
    SenderState.CONNECTED: 5,
    SenderState.LINKING: 4,
    SenderState.DISCONNECTED: 3,
    SenderState.FAILED: 2,
    SenderState.LOGGED_OUT: 1,
    SenderState.NEW: 0,
}


class DriverSession(BaseModel):
    """The session of one driver of one sender, as the session host last saw it."""

    state: SenderState = SenderState.NEW
    since: datetime | None = None
    error: str | None = None


def overall_state(sessions: Mapping[str, DriverSession], enabled: Sequence[str]) -> tuple[SenderState, str | None]:
    """The sender's state and last error, from the sessions of its enabled drivers (best state wins;
    ties go to the earlier driver, the primary). The error is prefixed with the driver it comes from."""
    best: tuple[str, DriverSession] | None = None
    for name in enabled:
        session = sessions.get(name)
        if session is not None and (best is None or STATE_RANK[session.state] > STATE_RANK[best[1].state]):
            best = (name, session)
    if best is None:
        return SenderState.NEW, None
    name, session = best
    return session.state, (f"{name}: {session.error}" if session.error else None)


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
    #: Per-driver sessions (written by the session host with the state).
    driver_states: dict[str, DriverSession] = Field(default_factory=dict)
    created_at: datetime

    @property
    def linking_driver(self) -> str | None:
        """The driver whose QR code or pairing code is on show (the first one linking)."""
        return next(
            (n for n in self.drivers if self.driver_states.get(n, DriverSession()).state is SenderState.LINKING), None
        )
