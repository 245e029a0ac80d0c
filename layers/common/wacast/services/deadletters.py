"""What happens to a message that exhausted its receives: it settles, with its last error."""

from __future__ import annotations

from typing import Any

from wacast import observability as obs
from wacast.domain.errors import StaleState
from wacast.domain.messages import MessageStatus
from wacast.observability import logger
from wacast.ports import CampaignStates, Clock, MessageRepository

S = MessageStatus


class DeadLetterService:
    """Settles dead-lettered outbox messages: FAILED, or UNKNOWN when a driver may have been reached."""

    def __init__(self, messages: MessageRepository, campaigns: CampaignStates, clock: Clock) -> None:
        self.messages = messages
        self.campaigns = campaigns
        self.clock = clock

    def on_dead_campaign_job(self, body: dict[str, Any]) -> bool:
        """A dispatch job that kept failing: its campaign cannot go on, so it is marked failed."""
        account_id, campaign_id = str(body.get("account_id", "")), str(body.get("campaign_id", ""))
        if not account_id or not campaign_id:
            logger.error("dead-lettered campaign job without ids", body=body)
            return False
        failed = self.campaigns.mark_failed(account_id, campaign_id, "dispatch kept failing; see the DLQ")
        logger.error("campaign dispatch dead-lettered", campaign_id=campaign_id, marked_failed=failed)
        return failed

    def on_dead_outbox(self, body: dict[str, Any], receive_count: int) -> MessageStatus | None:
        message = self.messages.get(str(body.get("message_id", "")))
        if message is None:
            logger.warning("dead-lettered outbox message for an unknown message", body=body)
            return None
        if message.status not in (S.QUEUED, S.RETRYING, S.SENDING):
            if message.campaign_id is not None:  # already settled; its campaign may still await completion
                self.campaigns.complete_if_done(message.account_id, message.campaign_id, self.clock.now())
            return message.status
        if message.status is S.SENDING and message.driver_called_at is not None:
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
