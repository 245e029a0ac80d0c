"""Ports: the Protocols services depend on. Adapters implement them; tests use in-memory fakes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from wacast.domain.accounts import Account, User
from wacast.domain.messages import Message, MessageStatus, SendOutcome
from wacast.domain.senders import Sender


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


@dataclass
class QueueMessage:
    """One received SQS message."""

    body: dict[str, Any]
    receipt_handle: str
    message_id: str
    receive_count: int = 1
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueDepth:
    visible: int
    in_flight: int
    delayed: int


class Queue(Protocol):
    """An SQS queue, seen from producers and consumers."""

    name: str

    def send(self, body: Mapping[str, Any], delay_seconds: int = 0) -> None: ...

    def send_batch(self, entries: Sequence[tuple[Mapping[str, Any], int]]) -> None:
        """Send (body, delay_seconds) pairs, 10 per SQS call. Raises if any entry failed."""
        ...

    def receive(self, max_messages: int = 10, wait_seconds: int = 20) -> list[QueueMessage]: ...

    def delete(self, message: QueueMessage) -> None: ...

    def change_visibility(self, message: QueueMessage, seconds: int) -> None: ...

    def depth(self) -> QueueDepth: ...


class MessageRepository(Protocol):
    def create(self, message: Message) -> bool:
        """Write a new message (and count it on its campaign). False if that id already exists."""
        ...

    def get(self, message_id: str) -> Message | None: ...

    def transition(
        self,
        message: Message,
        new: MessageStatus,
        now: datetime,
        *,
        detail: str | None = None,
        changes: Mapping[str, Any] | None = None,
    ) -> Message:
        """Move `message` from the status it was read in to `new`, conditionally on nothing having
        changed since it was read (status, lease). Applies `changes` (field -> value) in the same
        write and moves the campaign counters atomically. Raises StaleState if the condition fails."""
        ...

    def mark_driver_called(self, message: Message, now: datetime) -> Message:
        """Record, under the caller's lease, that the driver is about to be called."""
        ...

    def find_by_provider_id(self, sender_id: str, provider_message_id: str) -> Message | None: ...

    def find_unknown_to(self, sender_id: str, phone: str) -> list[Message]: ...


class SenderRepository(Protocol):
    def create(self, sender: Sender) -> None: ...

    def get(self, account_id: str, sender_id: str) -> Sender | None: ...

    def list_for_account(self, account_id: str) -> list[Sender]: ...

    def list_all(self) -> list[Sender]: ...

    def save_config(self, sender: Sender) -> None:
        """Write only the configuration fields (phone, display name, drivers, pacing): the API's part.
        Raises NotFound if the sender does not exist."""
        ...

    def save_state(self, sender: Sender) -> None:
        """Write only the session-state fields (state, since, last error, QR, pairing code, driver
        sessions): the session host's part. Raises NotFound if the sender does not exist."""
        ...

    def delete(self, account_id: str, sender_id: str) -> bool:
        """Delete the sender. False when it did not exist."""
        ...


class AccountRepository(Protocol):
    def create_with_owner(self, account: Account, owner: User) -> None:
        """Create the account and its first user at once. Raises Conflict if the email is taken."""
        ...

    def get(self, account_id: str) -> Account | None: ...

    def save(self, account: Account) -> None: ...

    def get_user_by_email(self, email: str) -> User | None: ...

    def get_user(self, account_id: str, user_id: str) -> User | None: ...


class OptOutRepository(Protocol):
    """The opt-out list of an account, keyed by E.164 phone. Every send path consults it."""

    def is_opted_out(self, account_id: str, phone: str) -> bool: ...

    def opt_out(self, account_id: str, phone: str, source: str, at: datetime) -> None: ...

    def opt_in(self, account_id: str, phone: str) -> None: ...


class CampaignStates(Protocol):
    """What the delivery path needs to know of a campaign: its status (running, paused, cancelled...)."""

    def status_of(self, account_id: str, campaign_id: str) -> str | None: ...

    def mark_failed(self, account_id: str, campaign_id: str, reason: str) -> bool:
        """Set a scheduled or running campaign to failed. False if it was in another status."""
        ...


class PacingGuard(Protocol):
    """The last guard of pacing: a send slot per sender, shared by every host, never closer than the
    minimum gap and never above the daily cap."""

    def reserve(self, sender: Sender, now: datetime) -> float:
        """Reserve a slot at `now`. Returns 0 when reserved, else the seconds to wait before asking again."""
        ...


class DriverChain(Protocol):
    """Sends through a sender's drivers: the primary, then the fallback after a transient failure."""

    def is_ready(self, sender: Sender) -> bool: ...

    def send(self, sender: Sender, phone: str, body: str, media_url: str | None = None) -> SendOutcome: ...


class EventPublisher(Protocol):
    """Publishes what happens on WhatsApp (receipts, incoming messages, session state) to the events queue."""

    def publish(self, event: Mapping[str, Any]) -> None: ...
