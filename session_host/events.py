"""The host's side of driver events: session state and QR go to DynamoDB, everything goes to the
events queue for the events function."""

from __future__ import annotations

from datetime import datetime

from wacast.domain.senders import Sender, SenderState
from wacast.observability import logger
from wacast.ports import EventPublisher, SenderRepository


class HostEvents:
    """Implements session_host.drivers.base.DriverEvents."""

    def __init__(self, senders: SenderRepository, publisher: EventPublisher) -> None:
        self.senders = senders
        self.publisher = publisher

    def on_state(self, sender: Sender, state: SenderState, error: str | None, at: datetime) -> None:
        current = self.senders.get(sender.account_id, sender.id) or sender
        if current.state is state and current.last_error == error:
            return
        updated = current.model_copy(update={"state": state, "state_since": at, "last_error": error})
        if state is SenderState.CONNECTED:
            updated = updated.model_copy(update={"qr": None, "pairing_code": None})
        self.senders.save_state(updated)
        logger.info("sender state", sender_id=sender.id, state=state, error=error)
        self.publisher.publish(
            {
                "type": "sender_state",
                "account_id": sender.account_id,
                "sender_id": sender.id,
                "state": state.value,
                "error": error,
                "at": at.isoformat(),
            }
        )

    def on_qr(self, sender: Sender, qr: str, at: datetime) -> None:
        current = self.senders.get(sender.account_id, sender.id) or sender
        self.senders.save_state(
            current.model_copy(update={"qr": qr, "qr_updated_at": at, "state": SenderState.LINKING})
        )

    def on_pairing_code(self, sender: Sender, code: str, at: datetime) -> None:
        current = self.senders.get(sender.account_id, sender.id) or sender
        self.senders.save_state(current.model_copy(update={"pairing_code": code, "state": SenderState.LINKING}))

    def on_receipt(
        self, sender: Sender, provider_ids: list[str], status: str, recipient: str | None, at: datetime
    ) -> None:
        self.publisher.publish(
            {
                "type": "receipt",
                "account_id": sender.account_id,
                "sender_id": sender.id,
                "provider_message_ids": provider_ids,
                "status": status,
                "recipient": recipient,
                "at": at.isoformat(),
            }
        )

    def on_incoming(self, sender: Sender, from_phone: str, text: str, at: datetime) -> None:
        self.publisher.publish(
            {
                "type": "incoming",
                "account_id": sender.account_id,
                "sender_id": sender.id,
                "sender_phone": from_phone,
                "text": text,
                "at": at.isoformat(),
            }
        )
