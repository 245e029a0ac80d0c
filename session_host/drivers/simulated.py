"""A fake WhatsApp network in the same process, for local runs, tests and benchmarks.

Configurable latency; transient, permanent and unknown-outcome failure rates; delivered and read
receipts after delays; incoming replies (some of them stop keywords); a session lifecycle (QR,
connected, logged out); and seeded randomness, so a run can be reproduced.

It can be taught the signs of a coming ban (for the account-safety governor's tests): a temporary ban
with a code and an expiry (`temporary_ban`), a logout WhatsApp forces (`remote_logout`), a burst of
failed sends (`fail_next`), and sends whose delivery receipts never come (`withhold_receipts`).
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field

from session_host.drivers.base import DriverEvents
from session_host.timers import Timers
from wacast.domain.events import ReceiptStatus
from wacast.domain.governor import AccountSignal
from wacast.domain.outcomes import SendCode, SendOutcome
from wacast.domain.senders import Sender, SenderState
from wacast.ports import Clock


class SimulatedConfig(BaseModel):
    seed: int = 7
    latency_ms: tuple[int, int] = (20, 120)
    transient_rate: float = Field(default=0.0, ge=0, le=1)
    permanent_rate: float = Field(default=0.0, ge=0, le=1)
    unknown_rate: float = Field(default=0.0, ge=0, le=1)
    delivered_after_s: tuple[float, float] = (0.2, 1.0)
    read_after_s: tuple[float, float] = (0.5, 2.0)
    read_rate: float = Field(default=1.0, ge=0, le=1)
    #: Send delivered/read receipts at all (a load test may do without the events traffic).
    receipts: bool = True
    reply_rate: float = Field(default=0.0, ge=0, le=1)
    replies: list[str] = Field(default_factory=lambda: ["Thanks!", "STOP", "Who is this?"])
    #: Numbers that are not on WhatsApp: always a permanent failure.
    unregistered: set[str] = Field(default_factory=set)
    #: Start a sender's session already linked (local runs) instead of showing a QR first.
    auto_link: bool = True
    link_after_s: float = 3.0
    #: A JSON-lines file that records every send that reached the simulated network, so a test can see
    #: what a session host in another process sent (one line per send; several drivers may share it).
    ledger: Path | None = None


@dataclass
class _Session:
    sender: Sender
    state: SenderState = SenderState.NEW
    linked: bool = False
    failing: int = 0  # this many more sends fail (transient, "refused by the server")
    silent: bool = False  # sends go, receipts never come
    sent: list[tuple[str, str, str, datetime]] = field(default_factory=list)  # (provider id, phone, body, at)


class SimulatedDriver:
    """A Driver over the simulated network. Several can run side by side under different names."""

    def __init__(
        self, events: DriverEvents, clock: Clock, timers: Timers, config: SimulatedConfig, name: str = "simulated"
    ) -> None:
        self.name = name
        self.events = events
        self.clock = clock
        self.timers = timers
        self.config = config
        self._rng = random.Random(config.seed)
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}
        self.lookups = 0  # number lookups asked (tests count them)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, sender: Sender) -> None:
        session = self._sessions.setdefault(sender.id, _Session(sender))
        if session.state is SenderState.CONNECTED:
            return
        if self.config.auto_link:
            self._set_state(session, SenderState.CONNECTED, None)
            return
        self._set_state(session, SenderState.LINKING, None)
        self.events.on_qr(sender, f"2@sim-{self._draw_hex()},{sender.id}", self.clock.now())
        self.timers.call_later(self.config.link_after_s, lambda: self._link(session))

    def _link(self, session: _Session) -> None:
        if session.state is SenderState.LINKING:
            self._set_state(session, SenderState.CONNECTED, None)

    def is_connected(self, sender_id: str) -> bool:
        session = self._sessions.get(sender_id)
        return session is not None and session.state is SenderState.CONNECTED

    def request_pairing_code(self, sender: Sender, phone: str) -> None:
        session = self._sessions.setdefault(sender.id, _Session(sender))
        self._set_state(session, SenderState.LINKING, None)
        self.events.on_pairing_code(sender, self._draw_hex()[:8].upper(), self.clock.now())
        self.timers.call_later(self.config.link_after_s, lambda: self._link(session))

    def logout(self, sender: Sender) -> None:
        session = self._sessions.setdefault(sender.id, _Session(sender))
        self._set_state(session, SenderState.LOGGED_OUT, None)

    def disconnect(self, sender_id: str, error: str = "connection lost") -> None:
        """Test and demo hook: the connection drops."""
        session = self._sessions.get(sender_id)
        if session is not None:
            self._set_state(session, SenderState.DISCONNECTED, error)

    def temporary_ban(self, sender_id: str, code: int = 104, expires_in_s: float = 3600.0) -> None:
        """Test hook: WhatsApp bans the number for a while (whatsmeow's code), and drops the session."""
        session = self._sessions.get(sender_id)
        if session is None:
            return
        signal = AccountSignal(kind="temporary_ban", driver=self.name, code=code, expires_in_seconds=expires_in_s)
        self.events.on_account_signal(session.sender, signal, self.clock.now())
        self._set_state(session, SenderState.FAILED, f"temporary_ban: code {code}")

    def remote_logout(self, sender_id: str, reason: str = "logged out from the phone") -> None:
        """Test hook: WhatsApp (or the phone) logs the session out."""
        session = self._sessions.get(sender_id)
        if session is None:
            return
        signal = AccountSignal(kind="logged_out", driver=self.name, detail=reason)
        self.events.on_account_signal(session.sender, signal, self.clock.now())
        self._set_state(session, SenderState.LOGGED_OUT, f"logged_out: {reason}")

    def fail_next(self, sender_id: str, count: int) -> None:
        """Test hook: the next `count` sends of this sender fail (a burst of refusals)."""
        session = self._sessions.get(sender_id)
        if session is not None:
            session.failing = count

    def withhold_receipts(self, sender_id: str, silent: bool = True) -> None:
        """Test hook: sends still go, but no delivery receipt ever comes (silently blocked)."""
        session = self._sessions.get(sender_id)
        if session is not None:
            session.silent = silent

    def is_on_whatsapp(self, sender: Sender, phone: str) -> bool | None:
        """The simulated network's number lookup (None while the session is not connected)."""
        if not self.is_connected(sender.id):
            return None
        self.lookups += 1
        return phone not in self.config.unregistered

    def stop(self) -> None:
        self._sessions.clear()

    def close(self, sender_id: str) -> None:
        session = self._sessions.get(sender_id)
        if session is not None and session.state is not SenderState.LOGGED_OUT:
            session.state = SenderState.NEW

    def forget(self, sender: Sender) -> None:
        self._sessions.pop(sender.id, None)

    def is_linked(self, sender: Sender) -> bool:
        """A simulated session is linked once it has been connected (or when it links by itself)."""
        session = self._sessions.get(sender.id)
        return self.config.auto_link or (session is not None and session.linked)

    def probe(self, sender_id: str, timeout: float) -> bool:
        return self.is_connected(sender_id)

    def sent_to(self, sender_id: str) -> list[tuple[str, str, str, datetime]]:
        """What reached the simulated network (provider id, phone, body, when the driver was called)."""
        session = self._sessions.get(sender_id)
        return list(session.sent) if session else []

    # -- sending ------------------------------------------------------------------------------

    def send(self, sender: Sender, phone: str, body: str, media_url: str | None = None) -> SendOutcome:
        session = self._sessions.get(sender.id)
        if session is None or session.state is not SenderState.CONNECTED:
            return SendOutcome.transient(self.name, SendCode.NOT_CONNECTED, "the simulated session is not connected")
        called_at = self.clock.now()
        with self._lock:
            latency = self._rng.uniform(*self.config.latency_ms) / 1000
            roll = self._rng.random()
        self.clock.sleep(latency)
        cfg = self.config
        if phone in cfg.unregistered:
            return SendOutcome.permanent(self.name, SendCode.NOT_ON_WHATSAPP, f"{phone} is not on WhatsApp")
        if session.failing > 0:
            session.failing -= 1
            return SendOutcome.transient(self.name, SendCode.NETWORK, "simulated burst of failures")
        if roll < cfg.transient_rate:
            return SendOutcome.transient(self.name, SendCode.NETWORK, "simulated transient failure")
        if roll < cfg.transient_rate + cfg.permanent_rate:
            return SendOutcome.permanent(self.name, SendCode.NOT_ON_WHATSAPP, f"{phone} is not on WhatsApp")
        provider_id = f"SIM{self._draw_hex()}"
        with self._lock:
            session.sent.append((provider_id, phone, body, called_at))
            self._record(sender.id, provider_id, phone, body, called_at)
        if not session.silent:
            self._schedule_receipts(session.sender, provider_id, phone)
        if roll < cfg.transient_rate + cfg.permanent_rate + cfg.unknown_rate:
            return SendOutcome.unknown(self.name, SendCode.TIMEOUT, "no answer from the simulated server")
        return SendOutcome.sent(self.name, provider_id)

    def _record(self, sender_id: str, provider_id: str, phone: str, body: str, at: datetime) -> None:
        if self.config.ledger is None:
            return
        line = {"driver": self.name, "sender_id": sender_id, "provider_id": provider_id, "phone": phone, "body": body}
        with self.config.ledger.open("a", encoding="utf-8") as ledger:  # one append per line: atomic on POSIX
            ledger.write(json.dumps({**line, "at": at.isoformat()}) + "\n")

    def _schedule_receipts(self, sender: Sender, provider_id: str, phone: str) -> None:
        with self._lock:
            delivered = self._rng.uniform(*self.config.delivered_after_s)
            read = delivered + self._rng.uniform(*self.config.read_after_s)
            reads = self._rng.random() < self.config.read_rate
            replies = self._rng.random() < self.config.reply_rate
            reply = self._rng.choice(self.config.replies) if self.config.replies else ""

        def receipt(status: ReceiptStatus) -> None:
            self.events.on_receipt(sender, [provider_id], status, phone, self.clock.now())

        if not self.config.receipts:
            return
        self.timers.call_later(delivered, lambda: receipt("DELIVERED"))
        if reads:
            self.timers.call_later(read, lambda: receipt("READ"))
        if replies:
            self.timers.call_later(
                read + 0.1,
                lambda: self.events.on_incoming(sender, phone, reply, self.clock.now(), provider_id=f"IN{provider_id}"),
            )

    def _set_state(self, session: _Session, state: SenderState, error: str | None) -> None:
        session.state = state
        session.linked = (session.linked or state is SenderState.CONNECTED) and state is not SenderState.LOGGED_OUT
        self.events.on_state(session.sender, state, error, self.clock.now())

    def _draw_hex(self) -> str:
        with self._lock:
            return uuid.UUID(int=self._rng.getrandbits(128)).hex[:20].upper()
