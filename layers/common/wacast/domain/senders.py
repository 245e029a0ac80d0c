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

from wacast.domain.governor import Cooling
from wacast.domain.pacing import PacingPolicy, PacingPreset, SendingWindow, WarmupRamp

#: Every driver wacast knows. "simulated" is offered only where the default driver is simulated.
DRIVER_NAMES = ("neonize", "webjs", "simulated")


class SenderState(StrEnum):
    NEW = "new"
    LINKING = "linking"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    LOGGED_OUT = "logged_out"
    FAILED = "failed"
    #: Not a session state: shown while the account-safety governor holds the sender (`Sender.cooling`).
    COOLING_DOWN = "cooling_down"


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
    SenderState.COOLING_DOWN: 0,
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
    #: Set by the account-safety governor (wacast.domain.governor): nothing is sent while it is in force.
    cooling: Cooling | None = None
    created_at: datetime

    def cooling_at(self, now: datetime) -> Cooling | None:
        """The cooling in force at `now`, if any."""
        return self.cooling if self.cooling is not None and self.cooling.in_force(now) else None

    def shown_state(self, now: datetime) -> SenderState:
        """The state a user sees: cooling_down while the governor holds the sender, else the session's."""
        return SenderState.COOLING_DOWN if self.cooling_at(now) is not None else self.state

    @property
    def linking_driver(self) -> str | None:
        """The driver whose QR code or pairing code is on show (the first one linking)."""
        return next(
            (n for n in self.drivers if self.driver_states.get(n, DriverSession()).state is SenderState.LINKING), None
        )


def safe_default_pacing(timezone: str = "UTC") -> PacingPolicy:
    """A new sender's pacing when none is given: the community's safe pacing (random gaps of 30-60 s, a
    3-minute pause every 30 messages, a 09:00-20:00 window in `timezone`: the sender's own number's) on a
    warm-up ramp (20 a day, growing 1.5x a day, up to 500). The presets stay available by name."""
    return PacingPolicy(
        preset=PacingPreset.CUSTOM,
        min_gap_ms=30_000,
        max_gap_ms=60_000,
        pause_every=30,
        pause_ms=180_000,
        daily_cap=500,
        window=SendingWindow(timezone=timezone),
        warmup=WarmupRamp(),
    )
