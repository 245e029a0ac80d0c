"""The host's side of driver events: session state and QR codes go to DynamoDB (the sender item),
and everything goes to the events queue for the events function.

`DriverEventsFor` binds the events of one driver: states go through the supervisor (which keeps the
per-driver sessions and decides on reconnects), the rest straight to HostEvents.

Receipts go out in batches (session_host.receipt_buffer: up to three seconds of them per events-queue
message, once `start`ed); incoming messages and sender states, rare, one event each.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING

from session_host.receipt_buffer import ReceiptBuffer
from wacast.domain.errors import NotFound
from wacast.domain.events import HostEvent, IncomingEvent, Receipt, ReceiptStatus, SenderStateEvent
from wacast.domain.governor import AccountSignal
from wacast.domain.recent_sends import RecentSends
from wacast.domain.senders import DriverSession, Sender, SenderState, overall_state
from wacast.observability import logger
from wacast.ports import EventPublisher, SenderRepository

if TYPE_CHECKING:
    from session_host.governor import HostGovernor
    from session_host.supervisor import SessionSupervisor


class HostEvents:
    """Writes session state to the sender item and publishes what happens on WhatsApp."""

    def __init__(
        self,
        senders: SenderRepository,
        publisher: EventPublisher,
        receipts: ReceiptBuffer | None = None,
        recent: RecentSends | None = None,
    ) -> None:
        self.senders = senders
        self.publisher = publisher
        self.receipts = receipts or ReceiptBuffer(publisher)
        self.recent = recent  # what this host sent: its receipts name their message
        self._lock = threading.Lock()  # one read-modify-write of a sender item at a time

    def start(self) -> None:
        """From now on, receipts wait up to the buffer's window to share an events-queue message."""
        self.receipts.start()

    def stop(self) -> None:
        """Publish the receipts still waiting; from now on, each is published at once."""
        self.receipts.stop()

    def publish_state(self, sender: Sender, sessions: dict[str, DriverSession], at: datetime) -> None:
        """Write the per-driver sessions and the sender's overall state (and publish a change)."""
        with self._lock:
            changed = self._write_state(sender, sessions, at)
        if changed is not None:
            state, error = changed
            logger.info("sender state", sender_id=sender.id, state=state, error=error)
            self._publish(
                SenderStateEvent(account_id=sender.account_id, sender_id=sender.id, state=state, error=error, at=at)
            )

    def _write_state(
        self, sender: Sender, sessions: dict[str, DriverSession], at: datetime
    ) -> tuple[SenderState, str | None] | None:
        """Returns the new (state, error) when they changed."""
        current = self.senders.get(sender.account_id, sender.id)
        if current is None:
            logger.info("state of a deleted sender dropped", sender_id=sender.id)
            return None
        state, error = overall_state({**current.driver_states, **sessions}, current.drivers)
        merged = {**current.driver_states, **sessions}
        changed = current.state is not state or current.last_error != error
        update: dict[str, object] = {"state": state, "last_error": error, "driver_states": merged}
        if changed:
            update["state_since"] = at
        if not any(s.state is SenderState.LINKING for s in merged.values()):
            update.update(qr=None, qr_updated_at=None, pairing_code=None)  # nothing left to link
        saved = self._save(current.model_copy(update=update))
        return (state, error) if saved and changed else None

    def on_qr(self, sender: Sender, qr: str, at: datetime) -> None:
        with self._lock:
            current = self.senders.get(sender.account_id, sender.id)
            if current is not None:
                self._save(current.model_copy(update={"qr": qr, "qr_updated_at": at}))

    def on_pairing_code(self, sender: Sender, code: str, at: datetime) -> None:
        with self._lock:
            current = self.senders.get(sender.account_id, sender.id)
            if current is not None:
                self._save(current.model_copy(update={"pairing_code": code}))

    def on_receipt(
        self, sender: Sender, provider_ids: list[str], status: ReceiptStatus, recipient: str | None, at: datetime
    ) -> None:
        self.receipts.add(
            Receipt(
                account_id=sender.account_id,
                sender_id=sender.id,
                provider_message_id=provider_id,
                status=status,
                recipient=recipient,
                at=at,
                message_id=self.recent.message_of(sender.id, provider_id) if self.recent is not None else None,
            )
            for provider_id in provider_ids
        )

    def on_incoming(
        self,
        sender: Sender,
        from_phone: str,
        text: str,
        at: datetime,
        *,
        provider_id: str | None = None,
        media_type: str | None = None,
    ) -> None:
        self._publish(
            IncomingEvent(
                account_id=sender.account_id,
                sender_id=sender.id,
                sender_phone=from_phone,
                text=text,
                at=at,
                provider_message_id=provider_id,
                media_type=media_type,
            )
        )

    def _publish(self, event: HostEvent) -> None:
        self.publisher.publish(event.model_dump(mode="json"))

    def _save(self, sender: Sender) -> bool:
        try:
            self.senders.save_state(sender)
        except NotFound:
            logger.info("state of a deleted sender dropped", sender_id=sender.id)
            return False
        return True


class DriverEventsFor:
    """The DriverEvents of one driver (implements session_host.drivers.base.DriverEvents)."""

    def __init__(
        self, driver: str, host: HostEvents, supervisor: SessionSupervisor, governor: HostGovernor | None = None
    ) -> None:
        self.driver = driver
        self.host = host
        self.supervisor = supervisor
        self.governor = governor

    def on_state(self, sender: Sender, state: SenderState, error: str | None, at: datetime) -> None:
        self.supervisor.on_driver_state(self.driver, sender, state, error, at)

    def on_qr(self, sender: Sender, qr: str, at: datetime) -> None:
        if self.supervisor.state_of(sender.id, self.driver) is not SenderState.LINKING:
            self.supervisor.on_driver_state(self.driver, sender, SenderState.LINKING, None, at)
        self.host.on_qr(sender, qr, at)

    def on_pairing_code(self, sender: Sender, code: str, at: datetime) -> None:
        if self.supervisor.state_of(sender.id, self.driver) is not SenderState.LINKING:
            self.supervisor.on_driver_state(self.driver, sender, SenderState.LINKING, None, at)
        self.host.on_pairing_code(sender, code, at)

    def on_receipt(
        self, sender: Sender, provider_ids: list[str], status: ReceiptStatus, recipient: str | None, at: datetime
    ) -> None:
        self.host.on_receipt(sender, provider_ids, status, recipient, at)
        if self.governor is not None:
            self.governor.on_receipt(sender, provider_ids)

    def on_incoming(
        self,
        sender: Sender,
        from_phone: str,
        text: str,
        at: datetime,
        *,
        provider_id: str | None = None,
        media_type: str | None = None,
    ) -> None:
        self.host.on_incoming(sender, from_phone, text, at, provider_id=provider_id, media_type=media_type)

    def on_account_signal(self, sender: Sender, signal: AccountSignal, at: datetime) -> None:
        if self.governor is not None:
            self.governor.on_signal(sender, signal, at)
        else:
            logger.warning("account signal, and no governor to act on it", sender_id=sender.id, kind=signal.kind)
