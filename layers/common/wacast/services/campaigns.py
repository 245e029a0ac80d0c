"""Campaigns: create, read, update, delete, and the lifecycle (start, pause, resume, cancel).

A campaign never runs inside an HTTP request: starting it puts a dispatch job on the campaigns
queue and answers at once.
"""

from __future__ import annotations

import uuid

from wacast.domain.accounts import Principal
from wacast.domain.campaign_jobs import DispatchJob, RequeueJob, RunJob, SweepJob
from wacast.domain.campaigns import (
    CANCELLABLE,
    DELETABLE,
    EDITABLE,
    PAUSABLE,
    RESUMABLE,
    RETUNABLE,
    STARTABLE,
    Audience,
    Campaign,
    CampaignDraft,
    CampaignStatus,
)
from wacast.domain.contacts import normalise_tags
from wacast.domain.errors import Conflict, NotFound, Unavailable
from wacast.domain.pacing import JITTER, PacingPolicy, PacingPreset, PresetGaps, gap_bounds_ms
from wacast.observability import logger
from wacast.ports import (
    AccountRepository,
    CampaignRepository,
    CampaignStates,
    Clock,
    Queue,
    Scheduler,
    SenderRepository,
    TemplateRepository,
)
from wacast.services.audience import AudienceReader

C = CampaignStatus


class CampaignService:
    """Campaign use cases, every one scoped to the caller's account."""

    def __init__(
        self,
        campaigns: CampaignRepository,
        states: CampaignStates,
        accounts: AccountRepository,
        senders: SenderRepository,
        templates: TemplateRepository,
        audience: AudienceReader,
        jobs: Queue,
        scheduler: Scheduler,
        clock: Clock,
        presets: PresetGaps,
    ) -> None:
        self.presets = presets
        self.campaigns = campaigns
        self.states = states
        self.accounts = accounts
        self.senders = senders
        self.templates = templates
        self.audience = audience
        self.jobs = jobs
        self.scheduler = scheduler
        self.clock = clock

    # -- CRUD -------------------------------------------------------------------------------------

    def create(self, principal: Principal, draft: CampaignDraft) -> Campaign:
        now = self.clock.now()
        sender_id = self._check_references(principal, draft)
        size = self._measured(principal.account_id, draft.audience)
        campaign = Campaign(
            id=f"cmp_{uuid.uuid4().hex[:20]}",
            account_id=principal.account_id,
            name=draft.name,
            sender_id=sender_id,
            template_id=draft.template_id,
            body=draft.body,
            audience=draft.audience,
            audience_size=size,
            pacing=draft.pacing,
            created_at=now,
            updated_at=now,
        )
        self.campaigns.create(campaign)
        return campaign

    def get(self, principal: Principal, campaign_id: str) -> Campaign:
        campaign = self.campaigns.get(principal.account_id, campaign_id)
        if campaign is None:
            raise NotFound("no such campaign", details={"campaign_id": campaign_id})
        return campaign

    def list(self, principal: Principal, cursor: str | None, limit: int) -> tuple[list[Campaign], str | None]:
        return self.campaigns.list_for_account(principal.account_id, cursor=cursor, limit=limit)

    def with_contact_ids(self, campaign: Campaign) -> Campaign:
        """The campaign with its audience's contact ids read, if it holds them by reference (a campaign read
        from the store does: its ids are apart from it). For what shows the whole audience: the API."""
        audience = self.audience.with_contact_ids(campaign.account_id, campaign.audience)
        return campaign if audience is campaign.audience else campaign.model_copy(update={"audience": audience})

    def update(self, principal: Principal, campaign_id: str, draft: CampaignDraft) -> Campaign:
        """Replace the definition. What is sent (body, template, audience, sender) is frozen once the
        campaign started; the name and pacing may change at any time before it ends."""
        current = self.with_contact_ids(self.get(principal, campaign_id))
        sender_id = self._check_references(principal, draft)
        audience_changed = draft.audience != current.audience
        content_changed = audience_changed or (draft.body, draft.template_id, sender_id) != (
            current.body,
            current.template_id,
            current.sender_id,
        )
        allowed = EDITABLE if content_changed else RETUNABLE
        if current.status not in allowed:
            raise Conflict(
                f"a {current.status} campaign's message and audience cannot change",
                details={"campaign_id": campaign_id, "status": current.status.value},
            )
        size = self._measured(principal.account_id, draft.audience) if content_changed else current.audience_size
        updated = current.model_copy(
            update={
                "name": draft.name,
                "sender_id": sender_id,
                "template_id": draft.template_id,
                "body": draft.body,
                # unchanged: the audience as stored (its ids are not written again)
                "audience": draft.audience if audience_changed else current.audience,
                "audience_size": size,
                "pacing": draft.pacing,
                "updated_at": self.clock.now(),
            }
        )
        self.campaigns.save_definition(updated, allowed)
        return updated

    def delete(self, principal: Principal, campaign_id: str) -> None:
        campaign = self.get(principal, campaign_id)
        self.campaigns.delete(principal.account_id, campaign_id, DELETABLE)
        if campaign.schedule is not None:
            self.scheduler.delete(campaign.schedule.name)

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self, principal: Principal, campaign_id: str, min_gap_ms: int | None = None) -> Campaign:
        """Start a new run now: 202 at once; the dispatcher does the fan-out. Starting a campaign
        scheduled once uses up its schedule. `min_gap_ms` (the legacy delayMs) slows this run's pacing
        to at least that gap between two sends; it never makes it faster (the sender's floor holds)."""
        current = self.get(principal, campaign_id)
        if current.status in STARTABLE and self.audience.is_empty(principal.account_id, current.audience):
            raise Conflict("the audience is empty: nobody would get this campaign", details={"field": "audience"})
        pacing = self._slowed(current, min_gap_ms) if min_gap_ms is not None else None
        once = current.schedule if current.schedule and current.schedule.kind == "once" else None
        started = self.start_run(
            principal.account_id, campaign_id, STARTABLE, clear_schedule=once is not None, pacing=pacing
        )
        if once is not None:
            self.scheduler.delete(once.name)
        return started

    def start_run(
        self,
        account_id: str,
        campaign_id: str,
        allowed: frozenset[CampaignStatus],
        *,
        fired_for: str | None = None,
        clear_schedule: bool = False,
        pacing: PacingPolicy | None = None,
    ) -> Campaign:
        """Start run N+1 if the campaign is in one of `allowed`. A schedule firing passes `fired_for`
        (its scheduled time): the same firing delivered twice starts one run. `pacing` replaces the
        campaign's pacing from this run on."""
        current = self.campaigns.get(account_id, campaign_id)
        if current is None:
            raise NotFound("no such campaign", details={"campaign_id": campaign_id})
        if current.status not in allowed:
            raise Conflict(f"a {current.status} campaign cannot be started", details={"status": current.status})
        extra: dict[str, object] = {}
        if fired_for is not None:
            extra["last_fire"] = fired_for
        if clear_schedule:
            extra["schedule"] = None
        if pacing is not None:
            extra["pacing"] = pacing
        now = self.clock.now()
        dispatch = current.dispatch.model_copy(
            update={"seq": current.dispatch.seq + 1, "cursor": None, "audience_index": 0, "pacer": None, "done": False}
        )
        started = self.campaigns.transition(
            account_id,
            campaign_id,
            allowed,
            C.RUNNING,
            now,
            run=current.run + 1,
            dispatch=dispatch,
            started_at=now,
            completed_at=None,
            failure_reason=None,
            **extra,
        )
        # A firing never reverts: its redelivery finds the run started and sends the job again.
        self._enqueue(started, DispatchJob, revert_to=None if fired_for else current.status)
        logger.info("campaign started", campaign_id=campaign_id, run=started.run)
        return started

    def resend_dispatch(self, campaign: Campaign) -> None:
        """Send the current dispatch job again (a duplicate is dropped by its seq)."""
        self._enqueue(campaign, DispatchJob, revert_to=None)

    def pause(self, principal: Principal, campaign_id: str) -> Campaign:
        return self.campaigns.transition(
            principal.account_id, campaign_id, PAUSABLE, C.PAUSED, self.clock.now(), paused_by="user", pause_reason=None
        )

    def resume(self, principal: Principal, campaign_id: str) -> Campaign:
        current = self.get(principal, campaign_id)
        sender = self.senders.get(current.account_id, current.sender_id)
        cooling = sender.cooling_at(self.clock.now()) if sender else None
        if cooling is not None:  # it would only be paused again: the sender sends nothing now
            raise Conflict(
                f"the {cooling.summary}: resume the sender first (POST /api/senders/{current.sender_id}/resume)",
                details={"field": "sender_id", "reason": cooling.reason.value},
            )
        dispatch = current.dispatch.model_copy(update={"seq": current.dispatch.seq + 1})
        resumed = self.campaigns.transition(
            principal.account_id,
            campaign_id,
            RESUMABLE,
            C.RUNNING,
            self.clock.now(),
            dispatch=dispatch,
            paused_by=None,
            pause_reason=None,
        )
        # the messages that came due while paused were parked (still QUEUED): queue them again now, and
        # carry on with the fan-out where it stopped
        kinds: list[type[RunJob]] = [RequeueJob] if resumed.dispatch.done else [RequeueJob, DispatchJob]
        self._enqueue(resumed, *kinds, revert_to=C.PAUSED)
        if resumed.dispatch.done:
            self.states.complete_if_done(resumed.account_id, resumed.id, self.clock.now())
        return resumed

    def cancel(self, principal: Principal, campaign_id: str) -> Campaign:
        """Cancel: nothing more is sent; queued messages become SKIPPED (swept by the dispatcher)."""
        current = self.get(principal, campaign_id)
        now = self.clock.now()
        cancelled = self.campaigns.transition(
            principal.account_id, campaign_id, CANCELLABLE, C.CANCELLED, now, completed_at=now, schedule=None
        )
        if current.schedule is not None:
            self.scheduler.delete(current.schedule.name)
        if current.run > 0:
            self._enqueue(cancelled, SweepJob, revert_to=None)
        return cancelled

    # -- internals --------------------------------------------------------------------------------

    def _enqueue(self, campaign: Campaign, *kinds: type[RunJob], revert_to: CampaignStatus | None) -> None:
        jobs = [
            kind(account_id=campaign.account_id, campaign_id=campaign.id, run=campaign.run, seq=campaign.dispatch.seq)
            for kind in kinds
        ]
        try:
            self.jobs.send_batch([(job.model_dump(), 0) for job in jobs])
        except Unavailable:
            if revert_to is not None:  # nothing will dispatch it: put it back as it was
                self.campaigns.transition(
                    campaign.account_id, campaign.id, {campaign.status}, revert_to, self.clock.now()
                )
            raise

    def _slowed(self, campaign: Campaign, min_gap_ms: int) -> PacingPolicy:
        """The campaign's pacing (or its sender's), with at least `min_gap_ms` between two sends and the
        usual jitter on top: never faster than it was."""
        sender = self.senders.get(campaign.account_id, campaign.sender_id)
        policy = campaign.pacing or (sender.pacing if sender else PacingPolicy())
        low, high = gap_bounds_ms(policy, self.presets)
        slowest = max(low, min_gap_ms)
        update = {"min_gap_ms": slowest, "max_gap_ms": max(high, round(slowest * (1 + JITTER)))}
        return policy.model_copy(update={**update, "preset": PacingPreset.CUSTOM})

    def _check_references(self, principal: Principal, draft: CampaignDraft) -> str:
        if draft.audience.tags is not None:  # tags are stored canonical: match them as stored
            draft.audience.tags = normalise_tags(draft.audience.tags, field="audience.tags")
        sender_id = draft.sender_id
        if sender_id is None:
            account = self.accounts.get(principal.account_id)
            sender_id = account.default_sender_id if account else None
        if sender_id is None or self.senders.get(principal.account_id, sender_id) is None:
            raise NotFound("no such sender in this account", details={"field": "sender_id"})
        if draft.template_id is not None and self.templates.get(principal.account_id, draft.template_id) is None:
            raise NotFound("no such template in this account", details={"field": "template_id"})
        return sender_id

    def _measured(self, account_id: str, audience: Audience) -> int:
        """How many contacts the audience has now; NotFound if it names contact ids the account does not
        have. One read of an explicit list does both."""
        size, unknown = self.audience.measure(account_id, audience)
        if unknown:
            raise NotFound(
                f"{len(unknown)} contact id(s) of the audience name no contact of this account",
                details={"field": "audience.contact_ids", "unknown": unknown},
            )
        return size
