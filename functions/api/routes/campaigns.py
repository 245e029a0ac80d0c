"""Campaigns: CRUD, lifecycle (start, pause, resume, cancel), stats, messages and export."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from routes.deps import PrincipalDep, ServicesDep
from routes.errors import ERRORS, TOO_LARGE
from wacast.bootstrap.api import ApiServices
from wacast.domain.campaigns import Audience, Campaign, CampaignDraft, CampaignStatus, Counters
from wacast.domain.messages import Message, MessageStatus
from wacast.domain.pacing import PacingPolicy
from wacast.domain.safety import SafetyReport
from wacast.domain.schedules import CampaignSchedule
from wacast.services.schedules import ScheduleRequest
from wacast.services.stats import CampaignStats

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"], responses=ERRORS)


class CampaignOut(BaseModel):
    schedule: CampaignSchedule | None
    id: str
    name: str
    sender_id: str
    template_id: str | None
    body: str | None
    audience: Audience
    audience_size: int
    pacing: PacingPolicy | None
    status: CampaignStatus
    run: int
    counters: Counters
    failure_reason: str | None
    pause_reason: str | None = Field(default=None, description="why it is paused (its sender cooling down...)")
    paused_by: str | None = Field(default=None, description="user, or governor (resumes when the cooling ends)")
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    warnings: list[str] = Field(default_factory=list, description="ban risks found at creation")


class StartIn(BaseModel):
    confirm: bool = Field(default=False, description="start even though most recipients get the same text")


class CampaignPage(BaseModel):
    items: list[CampaignOut]
    next_cursor: str | None


class StatusChangeOut(BaseModel):
    status: MessageStatus
    at: datetime
    detail: str | None = None


class MessageOut(BaseModel):
    """One message of the campaign, with the text it was sent (rendered for its contact)."""

    id: str
    status: MessageStatus
    phone: str
    contact_id: str | None
    body: str
    media_url: str | None
    run: int
    attempts: int
    driver: str | None
    fallback_used: bool
    provider_message_id: str | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    history: list[StatusChangeOut]


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None


def message_out(message: Message) -> MessageOut:
    return MessageOut.model_validate(message, from_attributes=True)


def campaign_out(c: Campaign, services: ApiServices) -> CampaignOut:
    """The campaign as the API shows it: with its audience whole (contact ids are stored apart from it)."""
    return CampaignOut.model_validate(services.campaigns.with_contact_ids(c), from_attributes=True)


@router.post("", status_code=status.HTTP_201_CREATED)
def create(body: CampaignDraft, principal: PrincipalDep, services: ServicesDep) -> CampaignOut:
    created = services.safety.create_campaign(principal, body)
    return campaign_out(created.campaign, services).model_copy(update={"warnings": created.warnings})


@router.get("")
def list_campaigns(
    principal: PrincipalDep,
    services: ServicesDep,
    cursor: Annotated[str | None, Query(max_length=256)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> CampaignPage:
    items, next_cursor = services.campaigns.list(principal, cursor, limit)
    return CampaignPage(items=[campaign_out(c, services) for c in items], next_cursor=next_cursor)


@router.get("/{campaign_id}")
def get(campaign_id: str, principal: PrincipalDep, services: ServicesDep) -> CampaignOut:
    return campaign_out(services.campaigns.get(principal, campaign_id), services)


@router.put("/{campaign_id}")
def update(campaign_id: str, body: CampaignDraft, principal: PrincipalDep, services: ServicesDep) -> CampaignOut:
    """Replace the definition. The message and audience of a running campaign cannot change (409)."""
    return campaign_out(services.campaigns.update(principal, campaign_id, body), services)


@router.delete("/{campaign_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(campaign_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    services.campaigns.delete(principal, campaign_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{campaign_id}/start", status_code=status.HTTP_202_ACCEPTED)
def start(campaign_id: str, principal: PrincipalDep, services: ServicesDep, body: StartIn | None = None) -> CampaignOut:
    """Start a run: answers at once; the dispatcher fans it out from the campaigns queue. A campaign whose
    recipients would nearly all get the same text is refused (409) unless `confirm` is true."""
    confirm = body.confirm if body else False
    return campaign_out(services.safety.start_campaign(principal, campaign_id, confirm=confirm), services)


@router.get("/{campaign_id}/safety")
def safety(campaign_id: str, principal: PrincipalDep, services: ServicesDep) -> SafetyReport:
    """The campaign's safety score (0-100, higher is safer) and the reasons that lower it."""
    return services.safety.assess(principal, campaign_id)


@router.post("/{campaign_id}/pause")
def pause(campaign_id: str, principal: PrincipalDep, services: ServicesDep) -> CampaignOut:
    return campaign_out(services.campaigns.pause(principal, campaign_id), services)


@router.post("/{campaign_id}/resume", status_code=status.HTTP_202_ACCEPTED)
def resume(campaign_id: str, principal: PrincipalDep, services: ServicesDep) -> CampaignOut:
    return campaign_out(services.campaigns.resume(principal, campaign_id), services)


@router.post("/{campaign_id}/cancel")
def cancel(campaign_id: str, principal: PrincipalDep, services: ServicesDep) -> CampaignOut:
    return campaign_out(services.campaigns.cancel(principal, campaign_id), services)


@router.post("/{campaign_id}/schedule")
def schedule(campaign_id: str, body: ScheduleRequest, principal: PrincipalDep, services: ServicesDep) -> CampaignOut:
    """Run once at `send_at` (ISO 8601 with an offset), or on a `cron` in `timezone` until `end`.
    Scheduling again replaces the schedule; a time in the past is refused (422)."""
    return campaign_out(services.schedules.schedule(principal, campaign_id, body), services)


@router.delete("/{campaign_id}/schedule")
def unschedule(campaign_id: str, principal: PrincipalDep, services: ServicesDep) -> CampaignOut:
    """Delete the schedule; a scheduled campaign goes back to draft."""
    return campaign_out(services.schedules.unschedule(principal, campaign_id), services)


@router.get("/{campaign_id}/stats")
def stats(campaign_id: str, principal: PrincipalDep, services: ServicesDep) -> CampaignStats:
    return services.stats.campaign(principal, campaign_id)


@router.get("/{campaign_id}/messages")
def messages(
    campaign_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    status_filter: Annotated[MessageStatus | None, Query(alias="status")] = None,
    cursor: Annotated[str | None, Query(max_length=256)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> MessagePage:
    items, next_cursor = services.stats.messages_of(principal, campaign_id, status_filter, cursor, limit)
    return MessagePage(items=[message_out(m) for m in items], next_cursor=next_cursor)


@router.get("/{campaign_id}/export", response_class=StreamingResponse, responses=TOO_LARGE)
def export(campaign_id: str, principal: PrincipalDep, services: ServicesDep) -> StreamingResponse:
    """Every message of the campaign as CSV, inline up to 20,000 messages (a Lambda response is at most
    6 MB); above, 413: use `POST /api/campaigns/{campaign_id}/messages/exports`."""
    services.exports.check_inline_messages(principal, campaign_id)
    rows = services.stats.export_csv(principal, campaign_id)  # checks the campaign (404) first
    headers = {"Content-Disposition": f'attachment; filename="{campaign_id}-messages.csv"'}
    return StreamingResponse(rows, media_type="text/csv", headers=headers)
