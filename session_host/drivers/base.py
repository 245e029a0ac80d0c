"""What every driver offers the host, and what the host offers every driver back."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from wacast.domain.events import ReceiptStatus
from wacast.domain.governor import AccountSignal
from wacast.domain.outcomes import SendOutcome
from wacast.domain.senders import Sender, SenderState


class DriverEvents(Protocol):
    """Callbacks a driver makes as things happen on WhatsApp. The host publishes them."""

    def on_state(self, sender: Sender, state: SenderState, error: str | None, at: datetime) -> None: ...

    def on_qr(self, sender: Sender, qr: str, at: datetime) -> None: ...

    def on_pairing_code(self, sender: Sender, code: str, at: datetime) -> None: ...

    def on_receipt(
        self, sender: Sender, provider_ids: list[str], status: ReceiptStatus, recipient: str | None, at: datetime
    ) -> None: ...

    def on_incoming(
        self,
        sender: Sender,
        from_phone: str,
        text: str,
        at: datetime,
        *,
        provider_id: str | None = None,
        media_type: str | None = None,
    ) -> None: ...

    def on_account_signal(self, sender: Sender, signal: AccountSignal, at: datetime) -> None:
        """A temporary ban or a logout WhatsApp forced: the account-safety governor cools the sender down."""
        ...


class Driver(Protocol):
    """One way of talking to WhatsApp, for any number of senders."""

    name: str

    def start(self, sender: Sender) -> None:
        """Open (or link) the sender's session. Returns at once; progress arrives as events."""
        ...

    def is_connected(self, sender_id: str) -> bool: ...

    def send(self, sender: Sender, phone: str, body: str, media_url: str | None = None) -> SendOutcome:
        """Send one text (with the media at `media_url`, when given). Never raises for WhatsApp-side
        problems: it classifies them as an outcome."""
        ...

    def request_pairing_code(self, sender: Sender, phone: str) -> None: ...

    def logout(self, sender: Sender) -> None: ...

    def stop(self) -> None:
        """Close every session (the process is stopping). Sessions stay linked."""
        ...


class SessionDriver(Driver, Protocol):
    """A driver whose sessions the supervisor keeps alive."""

    def is_linked(self, sender: Sender) -> bool:
        """Whether the session store holds a linked device (reconnect it) or not (it must be linked)."""
        ...

    def probe(self, sender_id: str, timeout: float) -> bool:
        """A cheap round trip through the session; False when it does not answer within `timeout`."""
        ...

    def close(self, sender_id: str) -> None:
        """Close one session without logging it out, and without reporting it."""
        ...

    def forget(self, sender: Sender) -> None:
        """Close the session and delete its store (the sender is deleted)."""
        ...
