"""Scheduled and recurring campaigns, held by EventBridge Scheduler (not by a process in memory).

A schedule fires a `fire` job onto the campaigns queue carrying its scheduled time; the campaign
records the last firing it started a run for, so a firing delivered twice starts one run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Self

from pydantic import BaseModel, Field, model_validator

from wacast.domain.accounts import Principal
from wacast.domain.campaign_jobs import FireJob
from wacast.domain.campaigns import FIREABLE, SCHEDULABLE, Campaign, CampaignStatus
from wacast.domain.errors import Conflict, NotFound, ValidationFailed
from wacast.domain.schedules import (
    CampaignSchedule,
    at_expression,
    next_fire,
    normalise_cron,
    parse_at,
    schedule_name,
    zone,
)
from wacast.observability import logger
from wacast.ports import CampaignRepository, Clock, Scheduler
from wacast.services.campaigns import CampaignService

C = CampaignStatus


class ScheduleRequest(BaseModel):
    send_at: datetime | None = Field(default=None, description="once: ISO 8601 with an offset")
    cron: str | None = Field(default=None, max_length=200, description="recurring: 5- or 6-field cron")
    timezone: str = Field(default="UTC", max_length=64, description="IANA zone the schedule runs in")
    end: datetime | None = Field(default=None, description="recurring: no run after this")

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if (self.send_at is None) == (self.cron is None):
            raise ValueError("give either send_at or cron")
        if self.end is not None and self.cron is None:
            raise ValueError("end goes with cron")
        return self


class ScheduledCampaign(BaseModel):
    campaign: Campaign
    next_run_at: datetime | None


def fire_time(raw: str | None, now: datetime) -> str:
    """A firing's scheduled time, normalised to sortable UTC ('...Z')."""
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else now
    except ValueError:
        moment = now
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ScheduleService:
    """Schedule, reschedule, unschedule and list; and start the run a firing asks for."""

    def __init__(
        self, campaigns: CampaignRepository, runs: CampaignService, scheduler: Scheduler, clock: Clock
    ) -> None:
        self.campaigns = campaigns
        self.runs = runs
        self.scheduler = scheduler
        self.clock = clock

    def schedule(self, principal: Principal, campaign_id: str, request: ScheduleRequest) -> Campaign:
        """Create or replace the campaign's schedule (one per campaign, by a deterministic name)."""
        current = self.runs.get(principal, campaign_id)
        if current.status not in SCHEDULABLE:
            raise Conflict(f"a {current.status} campaign cannot be scheduled", details={"status": current.status})
        schedule = self._build(campaign_id, request)
        # Scheduler adds the firing's scheduled_time to this payload each time it fires
        payload = FireJob(account_id=principal.account_id, campaign_id=campaign_id).model_dump(
            exclude={"scheduled_time"}
        )
        self.scheduler.put(schedule.name, schedule.expression, schedule.timezone, payload, end=schedule.end)
        try:
            return self.campaigns.transition(
                principal.account_id, campaign_id, SCHEDULABLE, C.SCHEDULED, self.clock.now(), schedule=schedule
            )
        except (Conflict, NotFound):
            if current.schedule is None:  # we made it for nothing: take it back
                self.scheduler.delete(schedule.name)
            raise

    def unschedule(self, principal: Principal, campaign_id: str) -> Campaign:
        """Delete the schedule. A scheduled campaign goes back to draft; a recurring one that is
        running finishes this run and runs no more."""
        current = self.runs.get(principal, campaign_id)
        if current.schedule is None:
            raise Conflict("this campaign has no schedule", details={"campaign_id": campaign_id})
        self.scheduler.delete(current.schedule.name)
        now = self.clock.now()
        if current.status is C.SCHEDULED:
            return self.campaigns.transition(
                principal.account_id, campaign_id, {C.SCHEDULED}, C.DRAFT, now, schedule=None
            )
        return self.campaigns.transition(
            principal.account_id, campaign_id, {current.status}, current.status, now, schedule=None
        )

    def scheduled(self, principal: Principal) -> list[ScheduledCampaign]:
        """The account's campaigns that have a schedule, with their next run (from DynamoDB)."""
        found: list[ScheduledCampaign] = []
        cursor: str | None = None
        for _ in range(1_000):
            page, cursor = self.campaigns.list_for_account(principal.account_id, cursor=cursor, limit=100)
            found += [ScheduledCampaign(campaign=c, next_run_at=self.next_run(c)) for c in page if c.schedule]
            if cursor is None:
                break
        return found

    def next_run(self, campaign: Campaign) -> datetime | None:
        schedule, now = campaign.schedule, self.clock.now()
        if schedule is None:
            return None
        if schedule.kind == "once":
            at = parse_at(schedule.expression, schedule.timezone)
            return at if at > now else None
        upcoming = next_fire(schedule.expression, schedule.timezone, now)
        return upcoming if upcoming and (schedule.end is None or upcoming <= schedule.end) else None

    def fire(self, job: FireJob) -> Campaign | None:
        """A schedule fired: start a run, once per firing, only if the campaign is waiting for it."""
        fired = fire_time(job.scheduled_time, self.clock.now())
        campaign = self.campaigns.get(job.account_id, job.campaign_id)
        if campaign is None:
            return None
        if campaign.last_fire is not None and campaign.last_fire >= fired:
            untouched = campaign.dispatch.pacer is None and not campaign.dispatch.done
            if campaign.last_fire == fired and campaign.status is C.RUNNING and untouched:
                # this firing started its run, but its dispatch job may never have been sent (a crash
                # between the two): send it again
                self.runs.resend_dispatch(campaign)
            return None  # this firing already started its run
        if campaign.schedule is None:
            logger.warning("a schedule fired for a campaign without one", campaign_id=job.campaign_id)
            return None
        if campaign.status not in FIREABLE:
            logger.warning("firing skipped: the campaign is not waiting for it", status=campaign.status, fired=fired)
            return None
        once = campaign.schedule.kind == "once"
        try:
            started = self.runs.start_run(
                job.account_id, job.campaign_id, FIREABLE, fired_for=fired, clear_schedule=once
            )
        except Conflict:
            return None  # a duplicate of this firing won the race
        if once:
            self.scheduler.delete(campaign.schedule.name)  # done with; Scheduler deletes it too
        logger.info("scheduled run started", campaign_id=job.campaign_id, run=started.run, fired=fired)
        return started

    def _build(self, campaign_id: str, request: ScheduleRequest) -> CampaignSchedule:
        now = self.clock.now()
        zone(request.timezone)
        name = schedule_name(campaign_id)
        if request.send_at is not None:
            expression = at_expression(request.send_at, request.timezone, now)
            return CampaignSchedule(
                kind="once", expression=expression, timezone=request.timezone, send_at=request.send_at, name=name
            )
        assert request.cron is not None
        if request.end is not None and (request.end.tzinfo is None or request.end <= now):
            raise ValidationFailed("end must be in the future, with a UTC offset", field="end")
        expression = normalise_cron(request.cron)
        if next_fire(expression, request.timezone, now) is None:
            raise ValidationFailed("this cron expression never fires", field="cron")
        return CampaignSchedule(
            kind="cron", expression=expression, timezone=request.timezone, end=request.end, name=name
        )
