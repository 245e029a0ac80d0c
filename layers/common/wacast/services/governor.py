"""The account-safety governor's writes: a sender starts cooling down (its running campaigns pause, with the
reason), and its cooling ends (at its expiry, or when a user resumes the sender: the campaigns it paused
resume). The decisions themselves are pure (wacast.domain.governor); the session host makes them
(session_host.governor), the API lets a user end a cooling early.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from wacast import observability as obs
from wacast.domain.campaign_jobs import DispatchJob, RequeueJob, RunJob
from wacast.domain.campaigns import PAUSABLE, RESUMABLE, Campaign, CampaignStatus
from wacast.domain.errors import Conflict, NotFound, StaleState, Unavailable
from wacast.domain.governor import Cooling
from wacast.domain.senders import Sender
from wacast.observability import logger
from wacast.ports import CampaignRepository, CampaignStates, Clock, Queue, SenderRepository

GOVERNOR = "governor"
MAX_CAMPAIGN_PAGES = 200  # 10k campaigns per account at most: bounds the scan of one account's campaigns


class GovernorService:
    """Starts and ends a sender's cooling, pausing and resuming its campaigns."""

    def __init__(
        self,
        senders: SenderRepository,
        campaigns: CampaignRepository,
        states: CampaignStates,
        jobs: Queue,
        clock: Clock,
    ) -> None:
        self.senders = senders
        self.campaigns = campaigns
        self.states = states
        self.jobs = jobs
        self.clock = clock

    def cool_down(self, sender: Sender, cooling: Cooling) -> Cooling:
        """Hold the sender under `cooling` (a longer cooling in force is kept) and pause its running
        campaigns with the reason. Emits SenderPaused by reason. Returns the cooling in force."""
        for _ in range(3):  # another writer may race us: read again, decide again
            current = self.senders.get(sender.account_id, sender.id)
            if current is None:
                raise NotFound("no such sender", details={"sender_id": sender.id})
            held = current.cooling_at(cooling.since)
            if held is not None and _outlasts(held, cooling):
                cooling = held
                break
            try:
                self.senders.save_cooling(
                    sender.account_id, sender.id, cooling, current.cooling.since if current.cooling else None
                )
            except StaleState:
                continue
            obs.emit(obs.SENDER_PAUSED)
            logger.warning(
                "sender cooling down",
                sender_id=sender.id,
                reason=cooling.reason,
                detail=cooling.detail,
                until=cooling.until,
            )
            break
        for campaign in self._campaigns_of(sender, {CampaignStatus.RUNNING}):
            self.pause_campaign(campaign.account_id, campaign.id, cooling)
        return cooling

    def pause_campaign(self, account_id: str, campaign_id: str, cooling: Cooling) -> bool:
        """Pause one running campaign for the cooling. True when it is paused now (by us or before)."""
        try:
            self.campaigns.transition(
                account_id,
                campaign_id,
                PAUSABLE,
                CampaignStatus.PAUSED,
                self.clock.now(),
                pause_reason=cooling.summary,
                paused_by=GOVERNOR,
            )
        except (Conflict, NotFound):
            return self.states.status_of(account_id, campaign_id) is CampaignStatus.PAUSED
        logger.info("campaign paused: its sender is cooling down", campaign_id=campaign_id, reason=cooling.reason)
        return True

    def end_cooling(self, sender: Sender, by: str) -> Sender:
        """End the sender's cooling (`by`: "expiry" or "user") and resume the campaigns the governor paused.
        The ended cooling stays on the sender (its last pause, for the safety score). Ending a cooling that
        is already over is harmless."""
        current = self.senders.get(sender.account_id, sender.id)
        if current is None:
            raise NotFound("no such sender", details={"sender_id": sender.id})
        cooling = current.cooling
        if cooling is not None and cooling.ended_by is None:
            cooling = cooling.ended(by, self.clock.now())
            self.senders.save_cooling(sender.account_id, sender.id, cooling, cooling.since)
            logger.info("sender cooling ended", sender_id=sender.id, by=by, reason=cooling.reason)
        for campaign in self._campaigns_of(current, RESUMABLE):
            if campaign.paused_by == GOVERNOR:
                self._resume(campaign)
        return current.model_copy(update={"cooling": cooling})

    def expire(self, senders: Iterable[Sender], now: datetime) -> int:
        """End every cooling of `senders` whose expiry has passed. Returns how many ended."""
        ended = 0
        for sender in senders:
            cooling = sender.cooling
            if cooling is not None and cooling.ended_by is None and cooling.until is not None and cooling.until <= now:
                try:
                    self.end_cooling(sender, "expiry")
                except (StaleState, NotFound):
                    continue  # someone else ended (or renewed) it, or the sender is gone
                ended += 1
        return ended

    def _resume(self, campaign: Campaign) -> None:
        """CampaignService.resume, for a campaign the governor paused: queue its parked messages again and
        carry on with its fan-out."""
        dispatch = campaign.dispatch.model_copy(update={"seq": campaign.dispatch.seq + 1})
        try:
            resumed = self.campaigns.transition(
                campaign.account_id,
                campaign.id,
                RESUMABLE,
                CampaignStatus.RUNNING,
                self.clock.now(),
                dispatch=dispatch,
                pause_reason=None,
                paused_by=None,
            )
        except (Conflict, NotFound):
            return  # resumed, cancelled or deleted meanwhile
        kinds: list[type[RunJob]] = [RequeueJob] if resumed.dispatch.done else [RequeueJob, DispatchJob]
        jobs = [
            kind(account_id=resumed.account_id, campaign_id=resumed.id, run=resumed.run, seq=resumed.dispatch.seq)
            for kind in kinds
        ]
        try:
            self.jobs.send_batch([(job.model_dump(), 0) for job in jobs])
        except Unavailable:  # nothing would dispatch it: leave it paused by us, the next expiry check retries
            self.campaigns.transition(
                resumed.account_id,
                resumed.id,
                {CampaignStatus.RUNNING},
                CampaignStatus.PAUSED,
                self.clock.now(),
                pause_reason=campaign.pause_reason,
                paused_by=GOVERNOR,
            )
            raise
        if resumed.dispatch.done:
            self.states.complete_if_done(resumed.account_id, resumed.id, self.clock.now())
        logger.info("campaign resumed: its sender's cooling ended", campaign_id=resumed.id)

    def _campaigns_of(self, sender: Sender, statuses: Iterable[CampaignStatus]) -> list[Campaign]:
        wanted = set(statuses)
        found: list[Campaign] = []
        cursor: str | None = None
        for _ in range(MAX_CAMPAIGN_PAGES):
            page, cursor = self.campaigns.list_for_account(sender.account_id, limit=50, cursor=cursor)
            found += [c for c in page if c.sender_id == sender.id and c.status in wanted]
            if cursor is None:
                break
        return found


def _outlasts(held: Cooling, new: Cooling) -> bool:
    """A cooling in force that lasts at least as long as a new one is kept (never shortened)."""
    return held.until is None or (new.until is not None and held.until >= new.until)
