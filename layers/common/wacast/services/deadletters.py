"""What happens to a message that exhausted its receives: it settles, with its last error."""

from __future__ import annotations

from wacast import observability as obs
from wacast.domain.campaign_jobs import CampaignJob
from wacast.domain.errors import StaleState
from wacast.domain.messages import PENDING, MessageStatus, is_unproven
from wacast.domain.outbox import OutboxMessage
from wacast.observability import logger
from wacast.ports import CampaignStates, Clock, MessageRepository

S = MessageStatus


class DeadLetterService:
    """Settles dead-lettered outbox messages: FAILED, or UNKNOWN when a driver may have been reached."""

    def __init__(self, messages: MessageRepository, campaigns: CampaignStates, clock: Clock) -> None:
        self.messages = messages
        self.campaigns = campaigns
        self.clock = clock

    def on_dead_campaign_job(self, job: CampaignJob) -> bool:
        """A campaign job that kept failing: its campaign cannot go on, so it is marked failed."""
        failed = self.campaigns.mark_failed(job.account_id, job.campaign_id, "dispatch kept failing; see the DLQ")
        logger.error("campaign job dead-lettered", campaign_id=job.campaign_id, job=job.type, marked_failed=failed)
        return failed

    def on_dead_outbox(self, body: OutboxMessage, receive_count: int) -> MessageStatus | None:
        message = self.messages.get(body.message_id)
        if message is None:
            logger.warning("dead-lettered outbox message for an unknown message", body=body.model_dump())
            return None
        if message.status not in PENDING:
            if message.campaign_id is not None:  # already settled; its campaign may still await completion
                self.campaigns.complete_if_done(message.account_id, message.campaign_id, self.clock.now())
            return message.status
        if is_unproven(message):  # SENDING, its driver called: it may have reached WhatsApp
            target, reason = S.UNKNOWN, "dead-lettered while a driver call was in flight"
        else:
            last = f" (last error: {message.last_error})" if message.last_error else ""
            target, reason = S.FAILED, f"retries_exhausted: gave up after {receive_count} receives{last}"
        try:
            self.messages.transition(message, target, self.clock.now(), detail=reason, changes={"last_error": reason})
        except StaleState:
            logger.info("dead-lettered message changed meanwhile; leaving it", message_id=message.id)
            return None
        if message.campaign_id is not None:
            self.campaigns.complete_if_done(message.account_id, message.campaign_id, self.clock.now())
        if target is S.FAILED:
            obs.emit(obs.MESSAGES_FAILED, Reason="retries_exhausted")
        else:
            obs.emit(obs.MESSAGES_UNKNOWN)
        logger.warning("dead-lettered message settled", message_id=message.id, status=target)
        return target
