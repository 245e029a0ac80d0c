"""Direct sends and the job view of one message (the legacy /api/messages routes)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

from wacast.domain.accounts import Principal
from wacast.domain.campaigns import CampaignStatus
from wacast.domain.errors import Conflict, NotFound, OptedOut, ValidationFailed
from wacast.domain.messages import PENDING, Message, MessageStatus, StatusChange
from wacast.domain.outbox import OutboxMessage
from wacast.domain.phones import normalise_phone
from wacast.domain.senders import Sender
from wacast.ports import (
    AccountRepository,
    CampaignRepository,
    Clock,
    MessageRepository,
    OptOutRepository,
    Queue,
    SenderRepository,
)

POLL_INTERVAL = 0.25


class MessagingService:
    """Sends one message now (through the outbox and the session host) and reports on it."""

    def __init__(
        self,
        messages: MessageRepository,
        senders: SenderRepository,
        accounts: AccountRepository,
        optouts: OptOutRepository,
        campaigns: CampaignRepository,
        outbox: Queue,
        clock: Clock,
    ) -> None:
        self.campaigns = campaigns
        self.messages = messages
        self.senders = senders
        self.accounts = accounts
        self.optouts = optouts
        self.outbox = outbox
        self.clock = clock

    def send_direct(
        self,
        principal: Principal,
        phone: str,
        text: str,
        sender_id: str | None = None,
        idempotency_key: str | None = None,
        delay_ms: int = 0,
        media_url: str | None = None,
        campaign_id: str | None = None,
    ) -> Message:
        """Queue one message, to go no earlier than `delay_ms` from now. With the same idempotency key,
        a retried call returns the first message. With `campaign_id` (one of the caller's campaigns) the
        message belongs to that campaign: its listing, stats and counters include it."""
        account = self.accounts.get(principal.account_id)
        if account is None:
            raise NotFound("account not found")
        e164 = normalise_phone(phone, account.settings.default_country)
        if self.optouts.is_opted_out(principal.account_id, e164):
            raise OptedOut("this number opted out of messages from this account", details={"field": "phone"})
        sender = self._sender(principal, sender_id or account.default_sender_id)
        if campaign_id is not None:
            self._linkable_campaign(principal, campaign_id)
        message_id = _direct_id(principal.account_id, idempotency_key)
        existing = self.messages.get(message_id) if idempotency_key else None
        if existing is not None:
            return existing
        now = self.clock.now()
        send_at = now + timedelta(milliseconds=delay_ms) if delay_ms else None
        message = Message(
            id=message_id,
            account_id=principal.account_id,
            sender_id=sender.id,
            phone=e164,
            body=text,
            media_url=media_url,
            campaign_id=campaign_id,
            send_at=send_at,
            created_at=now,
            updated_at=now,
            history=[StatusChange(status=MessageStatus.QUEUED, at=now, detail="queued by the API")],
        )
        if not self.messages.create(message):
            return self.messages.get(message_id) or message
        self.outbox.send(OutboxMessage.of(message).model_dump(), delay_seconds=min(900, delay_ms // 1000))
        return message

    def wait_for_outcome(self, message: Message, timeout_seconds: float) -> Message:
        """Poll the item until it leaves QUEUED/SENDING/RETRYING or the timeout passes (bounded)."""
        current = message
        waited = 0.0
        while current.status in PENDING and waited < timeout_seconds:
            self.clock.sleep(POLL_INTERVAL)
            waited += POLL_INTERVAL
            current = self.messages.get(message.id) or current
        return current

    def job(self, principal: Principal, job_id: str) -> Message:
        message = self.messages.get(job_id)
        if message is None or message.account_id != principal.account_id:
            raise NotFound("no such job", details={"job_id": job_id})
        return message

    def _linkable_campaign(self, principal: Principal, campaign_id: str) -> None:
        campaign = self.campaigns.get(principal.account_id, campaign_id)
        if campaign is None:
            raise NotFound("no such campaign in this account", details={"field": "campaign_id"})
        if campaign.status is CampaignStatus.CANCELLED:
            raise Conflict("a cancelled campaign takes no more messages", details={"field": "campaign_id"})

    def _sender(self, principal: Principal, sender_id: str | None) -> Sender:
        if not sender_id:
            raise ValidationFailed("this account has no default sender: name one", field="sender_id")
        sender = self.senders.get(principal.account_id, sender_id)
        if sender is None:
            raise NotFound("no such sender", details={"field": "sender_id"})
        return sender


def _direct_id(account_id: str, idempotency_key: str | None) -> str:
    if not idempotency_key:
        return f"m_{uuid.uuid4().hex[:24]}"
    return "m_" + hashlib.sha256(f"direct:{account_id}:{idempotency_key}".encode()).hexdigest()[:24]
