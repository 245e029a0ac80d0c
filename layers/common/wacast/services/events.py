"""What the events function does with what happens on WhatsApp: receipts, incoming messages,
and changes of sender state."""

from __future__ import annotations

from datetime import datetime
from typing import assert_never

from wacast import observability as obs
from wacast.domain.errors import ProofPending, StaleState
from wacast.domain.events import HostEvent, IncomingEvent, ReceiptEvent, SenderStateEvent
from wacast.domain.messages import Message, MessageStatus, receipt_target
from wacast.domain.optout import is_stop_keyword
from wacast.observability import logger
from wacast.ports import AccountRepository, CampaignStates, MessageRepository
from wacast.services.optouts import OptOutService

STALE_RETRIES = 5


class EventsService:
    """Applies events from the session host to messages and contacts."""

    def __init__(
        self,
        messages: MessageRepository,
        opt_outs: OptOutService,
        accounts: AccountRepository,
        campaigns: CampaignStates,
    ) -> None:
        self.messages = messages
        self.opt_outs = opt_outs
        self.accounts = accounts
        self.campaigns = campaigns

    def handle(self, event: HostEvent) -> None:
        """Apply one event of the events queue: the one place that tells its kinds apart."""
        match event:
            case ReceiptEvent():
                self.on_receipt(event)
            case IncomingEvent():
                self.on_incoming(event)
            case SenderStateEvent():
                self.on_sender_state(event)
            case _:
                assert_never(event)

    def on_receipt(self, event: ReceiptEvent) -> int:
        """Move each message forward to DELIVERED/READ. Out-of-order receipts never move one back.
        Returns how many messages moved."""
        moved = 0
        for provider_id in event.provider_message_ids:
            message = self.messages.find_by_provider_id(event.sender_id, provider_id)
            if message is None and event.recipient:
                message = self._prove_send(event, provider_id)
            if message is not None and self._advance(message, MessageStatus(event.status), event.at):
                moved += 1
        return moved

    def on_incoming(self, event: IncomingEvent) -> bool:
        """An incoming stop keyword opts its writer out (and marks their contact). Returns True when it did."""
        account = self.accounts.get(event.account_id)
        keywords = account.settings.stop_keywords if account else None
        if not is_stop_keyword(event.text, keywords):
            return False
        self.opt_outs.record(event.account_id, event.sender_phone, "keyword", event.at)
        return True

    def on_sender_state(self, event: SenderStateEvent) -> None:
        logger.info("sender state changed", sender_id=event.sender_id, state=event.state, error=event.error)

    def _prove_send(self, event: ReceiptEvent, provider_id: str) -> Message | None:
        """A receipt for a provider id we never recorded, from a recipient we have an unproven send to
        (a worker died during or right after the driver call): that send happened. The oldest one
        takes the provider id and becomes SENT.

        A message still SENDING under a live lease is not proven by a stray receipt (it may be for a
        message typed on the phone): its worker is about to record what happened, so the receipt
        waits for that (ProofPending) and is tried again."""
        assert event.recipient is not None
        candidates = self.messages.find_unproven_to(event.sender_id, event.recipient)
        waiting = False
        for candidate in sorted(candidates, key=lambda m: m.driver_called_at or m.created_at):
            live = candidate.status is MessageStatus.SENDING and (
                candidate.lease_expires_at is None or candidate.lease_expires_at > event.at
            )
            if live:
                waiting = True
                continue
            try:
                proven = self.messages.transition(
                    candidate,
                    MessageStatus.SENT,
                    event.at,
                    detail="a receipt proved the send",
                    changes={"provider_message_id": provider_id, "lease_owner": None, "lease_expires_at": None},
                )
            except StaleState:
                continue
            if proven.campaign_id is not None:
                self.campaigns.complete_if_done(proven.account_id, proven.campaign_id, event.at)
            return proven
        if waiting:
            raise ProofPending("a send to this recipient is still being recorded", details={"provider_id": provider_id})
        return None

    def _advance(self, message: Message, receipt: MessageStatus, at: datetime) -> bool:
        for _ in range(STALE_RETRIES):
            target = receipt_target(message.status, receipt)
            if target is None:
                return False
            try:
                self.messages.transition(message, target, at, detail=f"{receipt.lower()} receipt")
            except StaleState:
                message = self.messages.get(message.id) or message
                continue
            obs.emit(obs.DELIVERED if target is MessageStatus.DELIVERED else obs.READ)
            return True
        raise StaleState("the message kept changing", details={"message_id": message.id})
