"""The dispatcher's root: the paced fan-out of campaign runs, and the firings of their schedules. It reads
no secret."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from wacast.adapters.aws import client
from wacast.adapters.clock import SystemClock
from wacast.adapters.dynamo.accounts import DynamoAccountRepository
from wacast.adapters.dynamo.audience_ids import DynamoAudienceIds
from wacast.adapters.dynamo.campaigns import DynamoCampaignRepository, DynamoCampaignStates
from wacast.adapters.dynamo.contacts import DynamoContactRepository
from wacast.adapters.dynamo.messages import DynamoMessageRepository
from wacast.adapters.dynamo.optouts import DynamoOptOutRepository
from wacast.adapters.dynamo.senders import DynamoSenderRepository
from wacast.adapters.dynamo.templates import DynamoTemplateRepository
from wacast.adapters.scheduler import EventBridgeScheduler
from wacast.adapters.sqs import SqsQueue
from wacast.bootstrap.shared import bind, presets_of
from wacast.ports import Clock
from wacast.services.audience import AudienceReader
from wacast.services.campaign_jobs import CampaignJobRunner
from wacast.services.campaigns import CampaignService
from wacast.services.dispatch import DispatchService
from wacast.services.schedules import ScheduleService
from wacast.settings import DispatcherSettings


@dataclass
class DispatcherServices:
    """The paced fan-out of campaign runs, and the firings of their schedules."""

    settings: DispatcherSettings
    jobs: CampaignJobRunner  # runs each job of the campaigns queue with one of the two below
    dispatch: DispatchService
    schedules: ScheduleService


def build_dispatcher(settings: DispatcherSettings, *, clock: Clock | None = None) -> DispatcherServices:
    bind(settings)
    clock = clock or SystemClock()
    sqs = client("sqs", settings.region)
    campaigns_queue, outbox = SqsQueue(settings.campaigns_queue_url, sqs), SqsQueue(settings.outbox_queue_url, sqs)
    campaigns, campaign_states = DynamoCampaignRepository(), DynamoCampaignStates()
    senders, templates = DynamoSenderRepository(), DynamoTemplateRepository()
    presets = presets_of(settings)
    audience = AudienceReader(DynamoContactRepository(), DynamoAudienceIds())
    # A firing deletes its one-time schedule: no target, so no queue ARN or role to pass.
    scheduler = EventBridgeScheduler(client("scheduler", settings.region), settings.schedule_group)
    runs = CampaignService(
        campaigns,
        campaign_states,
        DynamoAccountRepository(),
        senders,
        templates,
        audience,
        campaigns_queue,
        scheduler,
        clock,
        presets,
    )
    dispatch = DispatchService(
        campaigns,
        campaign_states,
        senders,
        templates,
        audience,
        DynamoMessageRepository(retention=timedelta(days=settings.message_retention_days)),
        DynamoOptOutRepository(),
        outbox,
        campaigns_queue,
        clock,
        presets,
    )
    schedules = ScheduleService(campaigns, runs, scheduler, clock)
    return DispatcherServices(settings, CampaignJobRunner(dispatch, schedules), dispatch, schedules)
