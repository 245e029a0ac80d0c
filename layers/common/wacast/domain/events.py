"""The events queue's messages: what happens on WhatsApp, a discriminated union on `type`.

Produced by the session host (`session_host.events.HostEvents`, from its drivers' callbacks);
consumed by the events function (`services.events.EventsService`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter

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


class IncomingEvent(BaseModel):
    type: Literal["incoming"] = "incoming"
    account_id: str
    sender_id: str
    sender_phone: str = Field(description="who wrote to us, E.164")
    text: str = ""
    at: datetime


class SenderStateEvent(BaseModel):
    type: Literal["sender_state"] = "sender_state"
    account_id: str
    sender_id: str
    state: SenderState
    error: str | None = None
    at: datetime


HostEvent = Annotated[ReceiptEvent | IncomingEvent | SenderStateEvent, Field(discriminator="type")]
#: Validates an events-queue body (a mapping, or JSON text) into its kind of event.
HOST_EVENT: TypeAdapter[HostEvent] = TypeAdapter(HostEvent)
