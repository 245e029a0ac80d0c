"""The legacy /api/messages routes: same paths, meanings and request fields as the old system."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Header, Response, status
from pydantic import BaseModel, ConfigDict, Field, HttpUrl
from pydantic.alias_generators import to_camel

from routes.deps import PrincipalDep, ServicesDep
from routes.errors import ERRORS
from routes.fields import PhoneIn
from wacast.domain.campaigns import Counters
from wacast.domain.messages import PENDING, Message, MessageStatus
from wacast.services.schedules import ScheduledCampaign, ScheduleRequest

router = APIRouter(prefix="/api/messages", tags=["messages"], responses=ERRORS)


class Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


class SendRequest(Camel):
    phone: PhoneIn
    message: str = Field(min_length=1, max_length=4096)
    media_url: HttpUrl | None = Field(default=None, description="an image, document or video to send with it")
    sender_id: str | None = Field(default=None, max_length=64)
    campaign_id: str | None = Field(
        default=None, max_length=64, description="one of your campaigns: the message counts toward it"
    )
    idempotency_key: str | None = Field(default=None, max_length=128)


class StatusChangeOut(Camel):
    status: MessageStatus
    at: datetime
    detail: str | None = None


class JobOut(Camel):
    # a Message under the legacy routes' names: `id` is the job id, `body` the message
    job_id: str = Field(validation_alias="id")
    status: MessageStatus
    phone: str
    message: str = Field(validation_alias="body", description="the text sent (rendered, for a campaign message)")
    media_url: str | None = None
    sender_id: str
    campaign_id: str | None = None
    attempts: int
    driver: str | None = None
    fallback_used: bool = False
    provider_message_id: str | None = None
    last_error: str | None = None
    created_at: datetime
    updated_at: datetime
    history: list[StatusChangeOut] = Field(default_factory=list)


def job_out(message: Message) -> JobOut:
    return JobOut.model_validate(message, from_attributes=True)


@router.post(
    "/send",
    responses={202: {"model": JobOut, "description": "queued; the outcome is not known yet"}},
)
def send(
    body: SendRequest,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
    idempotency_key: str | None = Header(default=None, max_length=128),
) -> JobOut:
    """Send one message now. Waits up to ~10 s for the outcome: 200 with the outcome and the driver
    used, or 202 with the job id to poll."""
    message = services.messaging.send_direct(
        principal,
        body.phone,
        body.message,
        body.sender_id,
        body.idempotency_key or idempotency_key,
        media_url=str(body.media_url) if body.media_url else None,
        campaign_id=body.campaign_id,
    )
    message = services.messaging.wait_for_outcome(message, services.settings.send_wait_seconds)
    if message.status in PENDING:
        response.status_code = status.HTTP_202_ACCEPTED
    return job_out(message)


@router.get("/queue/job/{job_id}")
def job(job_id: str, principal: PrincipalDep, services: ServicesDep) -> JobOut:
    """The status of one message and its history."""
    return job_out(services.messaging.job(principal, job_id))


class QueueRequest(SendRequest):
    delay_ms: int = Field(default=0, ge=0, le=7 * 24 * 3600 * 1000, description="send no earlier than this")


class CampaignSendRequest(Camel):
    campaign_id: str = Field(min_length=1, max_length=64)
    delay_ms: int | None = Field(
        default=None,
        ge=1,
        le=3_600_000,
        description="the least gap between two sends of this run, in ms (jitter is added on top); never "
        "faster than the campaign's or the sender's own pacing",
    )


class CampaignAccepted(Camel):
    campaign_id: str
    status: str
    run: int
    min_gap_ms: int | None = Field(default=None, description="the run's least gap, when its pacing sets one")


@router.post("/queue", status_code=status.HTTP_202_ACCEPTED)
def queue(body: QueueRequest, principal: PrincipalDep, services: ServicesDep) -> JobOut:
    """Queue one message without waiting for its outcome (poll /queue/job/{jobId})."""
    message = services.messaging.send_direct(
        principal,
        body.phone,
        body.message,
        body.sender_id,
        body.idempotency_key,
        delay_ms=body.delay_ms,
        media_url=str(body.media_url) if body.media_url else None,
        campaign_id=body.campaign_id,
    )
    return job_out(message)


@router.post("/campaign-send", status_code=status.HTTP_202_ACCEPTED)
def campaign_send(body: CampaignSendRequest, principal: PrincipalDep, services: ServicesDep) -> CampaignAccepted:
    """Start a campaign (the legacy route; same as POST /api/campaigns/{id}/start)."""
    campaign = services.safety.start_campaign(principal, body.campaign_id, min_gap_ms=body.delay_ms)
    return CampaignAccepted(
        campaign_id=campaign.id,
        status=campaign.status.value,
        run=campaign.run,
        min_gap_ms=campaign.pacing.min_gap_ms if campaign.pacing else None,
    )


class QueueDepthOut(Camel):
    visible: int
    in_flight: int
    delayed: int


class QueueStatsOut(Camel):
    queues: dict[str, QueueDepthOut]
    account: Counters = Field(description="every message of this account, direct and campaign, by status")


@router.get("/queue/stats")
def queue_stats(principal: PrincipalDep, services: ServicesDep) -> QueueStatsOut:
    """SQS depths (visible, in flight, delayed) of every queue and DLQ, and this account's message counts."""
    stats = services.stats.queue_stats(principal)
    queues = {name: QueueDepthOut.model_validate(depth, from_attributes=True) for name, depth in stats.queues.items()}
    return QueueStatsOut(queues=queues, account=stats.account)


class CampaignScheduleRequest(Camel):
    campaign_id: str = Field(min_length=1, max_length=64)
    scheduled_time: datetime = Field(description="ISO 8601; without an offset it is read as UTC")
    timezone: str = Field(default="UTC", max_length=64)


class ScheduledOut(Camel):
    campaign_id: str
    name: str
    status: str
    kind: str
    expression: str
    timezone: str
    next_run_at: datetime | None


@router.post("/campaign-schedule")
def campaign_schedule(body: CampaignScheduleRequest, principal: PrincipalDep, services: ServicesDep) -> ScheduledOut:
    """Schedule a campaign once (the legacy route; see POST /api/campaigns/{id}/schedule)."""
    send_at = body.scheduled_time if body.scheduled_time.tzinfo else body.scheduled_time.replace(tzinfo=UTC)
    request = ScheduleRequest(send_at=send_at, timezone=body.timezone)
    campaign = services.schedules.schedule(principal, body.campaign_id, request)
    return scheduled_out(ScheduledCampaign(campaign=campaign, next_run_at=services.schedules.next_run(campaign)))


@router.delete("/schedule/{campaign_id}")
def cancel_schedule(campaign_id: str, principal: PrincipalDep, services: ServicesDep) -> ScheduledOut:
    """Delete a campaign's schedule; it goes back to draft (the legacy route)."""
    campaign = services.schedules.unschedule(principal, campaign_id)
    return scheduled_out(ScheduledCampaign(campaign=campaign, next_run_at=None), removed=True)


@router.get("/scheduled")
def scheduled(principal: PrincipalDep, services: ServicesDep) -> list[ScheduledOut]:
    """This account's scheduled campaigns and their next run."""
    return [scheduled_out(item) for item in services.schedules.scheduled(principal)]


def scheduled_out(item: ScheduledCampaign, removed: bool = False) -> ScheduledOut:
    c, schedule = item.campaign, item.campaign.schedule
    return ScheduledOut(
        campaign_id=c.id,
        name=c.name,
        status=c.status.value,
        kind=schedule.kind if schedule else "none",
        expression=schedule.expression if schedule else "",
        timezone=schedule.timezone if schedule else "",
        next_run_at=None if removed else item.next_run_at,
    )
