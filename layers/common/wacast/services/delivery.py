"""The send path of one outbox message, run by the session host: claim, send, record one outcome.

It follows the state machine in wacast.domain.messages exactly:
- every check that can hold a message back (campaign, opt-out, sender, pacing) comes first; then one
  write claims it (QUEUED|RETRYING -> SENDING, with a lease) and records `driver_called_at`, and the
  driver is called right after: a dead worker's claim means the driver may have been reached
  (-> UNKNOWN, never re-sent); a claim without `driver_called_at` (written before this rule) is
  claimed again;
- deferrals (pacing, a disconnected sender, a paused campaign) never count as attempts;
- a settled message that is delivered again is acknowledged and dropped.
The service decides; the consumer applies the returned Disposition to SQS.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from wacast import observability as obs
from wacast.domain.campaigns import CampaignStatus
from wacast.domain.errors import StaleState
from wacast.domain.governor import Cooling
from wacast.domain.messages import SETTLED, Message, MessageStatus, retry_delay_seconds
from wacast.domain.outbox import OutboxMessage
from wacast.domain.outcomes import OutcomeKind, SendCode, SendOutcome
from wacast.domain.pacing import PresetGaps, gap_bounds_ms
from wacast.domain.recent_sends import RecentSends
from wacast.domain.senders import Sender
from wacast.observability import logger
from wacast.ports import (
    CampaignStates,
    Clock,
    DriverChain,
    MessageRepository,
    NumberCheck,
    OptOutRepository,
    PacingGuard,
    SenderRepository,
    SendGovernor,
)
from wacast.settings import session_host_default

S = MessageStatus


class Act(StrEnum):
    ACK = "ack"  # done with it: delete from the queue
    RETRY = "retry"  # transient failure: visible again after `seconds` (counts toward the DLQ)
    DEFER = "defer"  # not now: re-enqueue a fresh copy with `seconds` delay, delete the original
    WAIT = "wait"  # someone else holds it: look again after `seconds`


@dataclass(frozen=True)
class Disposition:
    act: Act
    seconds: int = 0
    reason: str = ""


ACK = Disposition(Act.ACK)
NOT_ON_WHATSAPP = "not on WhatsApp"
PLAN_TOLERANCE = 1.0  # seconds a message may arrive before its planned time and still go
INLINE_WAIT_LIMIT = 15.0  # a pacing wait up to this long is slept in the host; longer ones defer


#: How long the host trusts a sender it read (its pacing, its drivers): a change applies within this.
SENDER_TTL = timedelta(seconds=5)


@dataclass
class DeliveryConfig:
    """The host's settings the delivery path uses (their defaults are the settings' own)."""

    host_id: str
    lease_seconds: float = session_host_default("lease_seconds")
    disconnected_recheck_seconds: int = session_host_default("disconnected_recheck_seconds")
    #: The pacing presets' gaps (DELAY_*), for the gap since the end of a sender's last send.
    presets: PresetGaps = field(default_factory=PresetGaps)


class DeliveryService:
    """Delivers one outbox message at a time, exactly as the state machine says."""

    def __init__(
        self,
        messages: MessageRepository,
        senders: SenderRepository,
        chain: DriverChain,
        pacing: PacingGuard,
        optouts: OptOutRepository,
        campaigns: CampaignStates,
        clock: Clock,
        config: DeliveryConfig,
        rng: random.Random | None = None,
        governor: SendGovernor | None = None,
        numbers: NumberCheck | None = None,
        recent: RecentSends | None = None,
    ) -> None:
        self.messages = messages
        self.senders = senders
        self.chain = chain
        self.pacing = pacing
        self.optouts = optouts
        self.campaigns = campaigns
        self.clock = clock
        self.config = config
        self.rng = rng or random.Random()
        self.governor = governor
        self.numbers = numbers
        self.recent = recent  # what this host sent, for its receipts (session_host/events.py)
        self._ended: dict[str, datetime] = {}  # sender id -> when its last driver call ended
        self._senders: dict[str, tuple[datetime, Sender | None]] = {}  # sender id -> (read at, sender)

    def handle(self, body: OutboxMessage) -> Disposition:
        # An eventually consistent read (half the cost): every write below is conditional on the version it
        # read, so a stale read can only fail a write (StaleState), never win one; then it is read again,
        # consistently. A message too new for this read is read again too, before it could be dropped.
        message = self.messages.get(body.message_id, consistent=False) or self.messages.get(body.message_id)
        if message is None:
            logger.warning("outbox message for an unknown message id", body=body.model_dump())
            return ACK
        with obs.log_keys(message_id=message.id, campaign_id=message.campaign_id):  # this lane's lines only
            try:
                return self._deliver(message)
            except StaleState:
                fresh = self.messages.get(message.id)
                if fresh is None or fresh.version == message.version:
                    logger.info("message changed meanwhile; re-checking")
                    return Disposition(Act.WAIT, 5, "changed meanwhile")
            try:
                return self._deliver(fresh)  # what we read was stale: once more, on the current item
            except StaleState:
                # Someone changed the message between our read and our write: look again shortly.
                logger.info("message changed meanwhile; re-checking")
                return Disposition(Act.WAIT, 5, "changed meanwhile")

    def _deliver(self, message: Message) -> Disposition:
        if message.status in SETTLED:
            # A duplicate delivery of a settled message. Its campaign may still await completion (the
            # worker that settled it may have died before completing it): complete it now if due.
            self._complete_campaign(message)
            return ACK
        if message.status is S.SENDING:
            held = self._recover_claim(message)
            if held is not None:
                return held
        blocked = self._gatekeep(message)
        if blocked is not None:
            return blocked
        early = self._seconds_early(message)
        if early > 0:
            return self._defer(message, early, "planned later")
        sender = self._sender(message)
        held = self._check_sender(message, sender)
        if held is not None or sender is None:
            return held or ACK
        wait = self._reserve_slot(sender)
        if wait > 0:
            return self._defer(message, wait, "pacing")
        return self._send(message, sender)

    def _check_sender(self, message: Message, sender: Sender | None) -> Disposition | None:
        """The sender's side, right before the pacing slot: gone, cooling down (the account-safety governor),
        not connected, or the recipient is not on WhatsApp. Only the first fails the message; none of the
        others is an attempt."""
        if sender is None:
            self._settle(message, S.FAILED, "the sender no longer exists")
            return ACK
        cooling = self.governor.hold(sender, self.clock.now()) if self.governor else None
        if cooling is not None:
            return self._hold(message, cooling)
        if not self.chain.is_ready(sender):
            return self._defer(message, self.config.disconnected_recheck_seconds, "sender not connected")
        if self.numbers is not None and self.numbers.not_on_whatsapp(sender, message.phone, self.clock.now()):
            self._settle(message, S.SKIPPED, NOT_ON_WHATSAPP)
            return ACK
        return None

    def _recover_claim(self, message: Message) -> Disposition | None:
        """A redelivered message found SENDING: either someone holds it, or its worker died."""
        now = self.clock.now()
        if message.lease_expires_at is not None and message.lease_expires_at > now:
            return Disposition(Act.WAIT, max(1, int((message.lease_expires_at - now).total_seconds()) + 1), "leased")
        if message.driver_called_at is not None:
            self._settle(message, S.UNKNOWN, "the worker stopped between its claim and the outcome")
            obs.emit(obs.MESSAGES_UNKNOWN)
            return ACK
        return None  # the worker died before calling the driver: nothing reached WhatsApp, claim again

    def _gatekeep(self, message: Message) -> Disposition | None:
        """Campaign state and opt-out: read for each message right before the claim, so a pause, a cancel or
        an opt-out stops the very next send (a cache here would save a read unit and let sends through)."""
        if message.campaign_id is not None:
            status = self.campaigns.status_of(message.account_id, message.campaign_id)
            if status == CampaignStatus.PAUSED:
                return self._park(message)
            if status is None or status == CampaignStatus.CANCELLED:
                self._settle(message, S.SKIPPED, "campaign cancelled" if status else "campaign deleted")
                return ACK
        if self.optouts.is_opted_out(message.account_id, message.phone):
            self._settle(message, S.SKIPPED, "opted out")
            return ACK
        return None

    def _sender(self, message: Message) -> Sender | None:
        """The message's sender, read at most every SENDER_TTL seconds per sender (its configuration
        changes rarely; the claim and the opt-out are always read fresh)."""
        now = self.clock.now()
        cached = self._senders.get(message.sender_id)
        if cached is not None and now - cached[0] < SENDER_TTL:
            return cached[1]
        sender = self.senders.get(message.account_id, message.sender_id)
        self._senders[message.sender_id] = (now, sender)
        return sender

    def _seconds_early(self, message: Message) -> int:
        """A message the dispatcher planned for later than SQS could delay it waits for its time."""
        if message.send_at is None or message.status is not S.QUEUED:
            return 0
        early = (message.send_at - self.clock.now()).total_seconds()
        return math.ceil(early) if early > PLAN_TOLERANCE else 0

    def _reserve_slot(self, sender: Sender, tries: int = 8) -> int:
        for _ in range(tries):  # bounded: each wait is at most INLINE_WAIT_LIMIT
            wait = self._since_last_end(sender) or self.pacing.reserve(sender, self.clock.now())
            if wait <= 0:
                return 0
            if wait > INLINE_WAIT_LIMIT:
                return int(wait) + 1
            self.clock.sleep(wait)
        return int(INLINE_WAIT_LIMIT)

    def _send(self, message: Message, sender: Sender) -> Disposition:
        claimed = self._claim(message)
        started = self.clock.now()
        try:
            # a fallback attempt is another write to WhatsApp from the same number: it needs its own slot
            # (one short wait at most: the claim's lease must outlast both attempts)
            outcome = self.chain.send(
                sender,
                claimed.phone,
                claimed.body,
                claimed.media_url,
                before_fallback=lambda _: self._reserve_slot(sender, 2) == 0,
            )
        except Exception as exc:  # a driver bug: we cannot know whether WhatsApp got it
            logger.exception("driver raised", message_id=claimed.id)
            outcome = SendOutcome.unknown("chain", SendCode.DRIVER_ERROR, f"the driver raised {type(exc).__name__}")
        latency_ms = (self.clock.now() - started).total_seconds() * 1000
        if outcome.kind in (OutcomeKind.SENT, OutcomeKind.UNKNOWN):  # WhatsApp may have the message now
            self._record_send(sender)
        disposition = self._record(claimed, outcome, latency_ms)
        if self.governor is not None:  # after the outcome is recorded: the governor never stands in its way
            try:
                self.governor.observe(sender, outcome, self.clock.now())
            except Exception:
                logger.exception("the governor could not weigh a send", message_id=claimed.id)
        return disposition

    def _claim(self, message: Message) -> Message:
        """One write claims the message and records that the driver is called next: nothing that can fail
        stands between the two, so a worker that dies after this write may have reached WhatsApp (UNKNOWN).
        The lease names this attempt: when the write went through but its answer was lost (the SDK's retry
        then finds the condition failed), the message read again shows the attempt's own claim, and the
        send goes on, rather than waiting out the lease to end UNKNOWN."""
        now = self.clock.now()
        owner = f"{self.config.host_id}/{uuid.uuid4().hex[:12]}"
        try:
            return self.messages.transition(
                message,
                S.SENDING,
                now,
                detail=f"claimed by {self.config.host_id}",
                changes={
                    "lease_owner": owner,
                    "lease_expires_at": now + timedelta(seconds=self.config.lease_seconds),
                    "driver_called_at": now,
                },
            )
        except StaleState:
            current = self.messages.get(message.id)
            if current is not None and current.status is S.SENDING and current.lease_owner == owner:
                return current
            raise

    def _record_send(self, sender: Sender) -> None:
        """A driver call can take seconds after its slot was reserved: the next slot of this sender also
        counts its gap from the end of this one. Kept in this process (one host holds a sender's session);
        the guard's reserved slots hold the gap between starts across hosts."""
        self._ended[sender.id] = self.clock.now()

    def _since_last_end(self, sender: Sender) -> float:
        """Seconds to wait before the minimum gap since this sender's last send ended has passed (0: none)."""
        ended = self._ended.get(sender.id)
        if ended is None:
            return 0.0
        gap = timedelta(milliseconds=gap_bounds_ms(sender.pacing, self.config.presets)[0])
        return max(0.0, (ended + gap - self.clock.now()).total_seconds())

    def _record(self, message: Message, outcome: SendOutcome, latency_ms: float) -> Disposition:
        lease_cleared = {"lease_owner": None, "lease_expires_at": None}
        if outcome.kind is OutcomeKind.SENT:
            self._settle(
                message,
                S.SENT,
                f"sent via {outcome.driver}" + (" (fallback)" if outcome.fallback_used else ""),
                driver=outcome.driver,
                provider_message_id=outcome.provider_message_id,
                fallback_used=outcome.fallback_used,
                **lease_cleared,
            )
            if self.recent is not None and outcome.provider_message_id:  # after the write: a receipt naming
                self.recent.remember(message.sender_id, outcome.provider_message_id, message.id)  # it finds it SENT
            obs.emit(obs.MESSAGES_SENT, Driver=outcome.driver)
            obs.emit(obs.SEND_LATENCY, latency_ms, "Milliseconds")
            if outcome.fallback_used:
                obs.emit(obs.FALLBACK_USED)
            logger.info("message sent", message_id=message.id, driver=outcome.driver, fallback=outcome.fallback_used)
            return ACK
        if outcome.kind is OutcomeKind.TRANSIENT and outcome.code is SendCode.NOT_CONNECTED:
            # the session dropped between the readiness check and the send: a deferral, not an attempt
            self.messages.transition(
                message,
                S.RETRYING,
                self.clock.now(),
                detail=outcome.reason,
                changes={"driver_called_at": None, **lease_cleared},
            )
            return self._defer(message, self.config.disconnected_recheck_seconds, "sender not connected")
        if outcome.kind is OutcomeKind.TRANSIENT:
            attempts = message.attempts + 1
            self.messages.transition(
                message,
                S.RETRYING,
                self.clock.now(),
                detail=outcome.reason,
                changes={"attempts": attempts, "last_error": outcome.reason, "driver_called_at": None, **lease_cleared},
            )
            delay = retry_delay_seconds(attempts, self.rng)
            logger.info("send failed, will retry", message_id=message.id, reason=outcome.reason, delay=delay)
            return Disposition(Act.RETRY, delay, outcome.reason or "transient")
        if outcome.code is SendCode.NOT_ON_WHATSAPP and outcome.kind is OutcomeKind.PERMANENT:
            # the driver's lookup refused it before any send: no attempt, and never asked again for a while
            self._settle(message, S.SKIPPED, NOT_ON_WHATSAPP, driver=outcome.driver, **lease_cleared)
            if self.numbers is not None:
                self.numbers.remember(message.phone, False, self.clock.now())
            return ACK
        status = S.FAILED if outcome.kind is OutcomeKind.PERMANENT else S.UNKNOWN
        self._settle(message, status, outcome.reason, driver=outcome.driver, last_error=outcome.reason, **lease_cleared)
        if status is S.FAILED:
            obs.emit(obs.MESSAGES_FAILED, Reason=outcome.code.value if outcome.code else "unknown")
        else:
            obs.emit(obs.MESSAGES_UNKNOWN)
        logger.info("send settled", message_id=message.id, status=status, reason=outcome.reason)
        return ACK

    def _settle(self, message: Message, status: MessageStatus, detail: str | None, **changes: Any) -> Message:
        if status in (S.FAILED, S.UNKNOWN, S.SKIPPED) and "last_error" not in changes and detail:
            changes["last_error"] = detail
        # its campaign's run ends when the counters function has counted this change (services/counters.py)
        return self.messages.transition(message, status, self.clock.now(), detail=detail, changes=changes)

    def _complete_campaign(self, message: Message) -> None:
        if message.campaign_id is not None:
            self.campaigns.complete_if_done(message.account_id, message.campaign_id, self.clock.now())

    def _park(self, message: Message) -> Disposition:
        """A paused campaign's message leaves the outbox and stays QUEUED (no attempt burnt, no polling
        while paused); resuming the campaign queues its waiting messages again at once (the dispatcher's
        requeue job)."""
        obs.emit(obs.MESSAGES_DEFERRED)
        logger.info("message parked: its campaign is paused", message_id=message.id, campaign_id=message.campaign_id)
        return ACK

    def _hold(self, message: Message, cooling: Cooling) -> Disposition:
        """The sender is cooling down: its campaign pauses (the message is parked, still QUEUED), a direct
        message waits for the cooling to end. Neither is an attempt."""
        assert self.governor is not None
        if message.campaign_id is not None and self.governor.pause_campaign(
            message.account_id, message.campaign_id, cooling
        ):
            return self._park(message)
        return self._defer(message, cooling.defer_seconds(self.clock.now()), f"sender cooling down: {cooling.reason}")

    def _defer(self, message: Message, seconds: int, reason: str) -> Disposition:
        obs.emit(obs.MESSAGES_DEFERRED)
        logger.info("message deferred", message_id=message.id, reason=reason, seconds=seconds)
        return Disposition(Act.DEFER, seconds, reason)
