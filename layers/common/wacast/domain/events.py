"""The events queue's messages: what happens on WhatsApp, a discriminated union on `type`.

Produced by the session host (`session_host.events.HostEvents`, from its drivers' callbacks);
consumed by the events function (`services.events.EventsService`).

Receipts travel in batches (`ReceiptBatchEvent`: the host collects them for about a second), one
`Receipt` per message; `ReceiptEvent`, one message per driver callback, is still read (a host of the
previous version may have queued some).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter

from wacast.domain.messages import RECEIPT_RANK, MessageStatus
from wacast.domain.senders import SenderState

#: The receipts a driver reports (a played voice note counts as read).
ReceiptStatus = Literal["DELIVERED", "READ"]


class ReceiptEvent(BaseModel):
    type: Literal["receipt"] = "receipt"
    account_id: str
    sender_id: str
    provider_message_ids: list[str] = Field(min_length=1)
    status: ReceiptStatus
    recipient: str | None = None
    at: datetime

    def as_receipts(self) -> list[Receipt]:
        """One Receipt per provider id (what a ReceiptBatchEvent carries)."""
        return [
            Receipt(
                account_id=self.account_id,
                sender_id=self.sender_id,
                provider_message_id=provider_id,
                status=self.status,
                recipient=self.recipient,
                at=self.at,
            )
            for provider_id in self.provider_message_ids
        ]


class Receipt(BaseModel):
    """One receipt of one sent message, as the recipient's phone reported it."""

    account_id: str
    sender_id: str
    provider_message_id: str
    status: ReceiptStatus
    recipient: str | None = None
    at: datetime
    #: The message, when the host that sent it still remembers (wacast.domain.recent_sends): read directly.
    message_id: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """The message it is about: a provider id is unique per sender."""
        return self.sender_id, self.provider_message_id

    def supersedes(self, other: Receipt) -> bool:
        """True when this receipt says more than `other` about the same message: READ implies DELIVERED
        (the state machine moves SENT -> READ directly), so a READ makes a DELIVERED of it redundant."""
        return RECEIPT_RANK[MessageStatus(self.status)] > RECEIPT_RANK[MessageStatus(other.status)]


class ReceiptBatchEvent(BaseModel):
    """The receipts a session host collected over a short window, at most one per message."""

    type: Literal["receipt_batch"] = "receipt_batch"
    receipts: list[Receipt] = Field(min_length=1)


def strongest(receipts: Iterable[Receipt]) -> dict[tuple[str, str], Receipt]:
    """One receipt per message: the one that says the most (READ over DELIVERED; the first of equals),
    with the recipient the other named if it names none (a recipient can prove an unrecorded send)."""
    best: dict[tuple[str, str], Receipt] = {}
    for receipt in receipts:
        held = best.get(receipt.key)
        if held is None:
            best[receipt.key] = receipt
            continue
        kept, other = (receipt, held) if receipt.supersedes(held) else (held, receipt)
        if kept.recipient is None and other.recipient is not None:
            kept = kept.model_copy(update={"recipient": other.recipient})
        if kept.message_id is None and other.message_id is not None:
            kept = kept.model_copy(update={"message_id": other.message_id})
        best[receipt.key] = kept
    return best


class IncomingEvent(BaseModel):
    type: Literal["incoming"] = "incoming"
    account_id: str
    sender_id: str
    sender_phone: str = Field(description="who wrote to us, E.164")
    text: str = ""
    at: datetime
    #: The driver's id of the incoming message, when it gives one (the stored reply's id is derived from it).
    provider_message_id: str | None = None
    #: A media message's kind (image, audio, video, document, sticker...); its caption is `text`.
    media_type: str | None = None


class SenderStateEvent(BaseModel):
    type: Literal["sender_state"] = "sender_state"
    account_id: str
    sender_id: str
    state: SenderState
    error: str | None = None
    at: datetime


HostEvent = Annotated[ReceiptBatchEvent | ReceiptEvent | IncomingEvent | SenderStateEvent, Field(discriminator="type")]
#: Validates an events-queue body (a mapping, or JSON text) into its kind of event.
HOST_EVENT: TypeAdapter[HostEvent] = TypeAdapter(HostEvent)
