"""The session host's root: the outbox and control queues it consumes, the events queue it publishes
to, the campaigns queue its governor resumes campaigns on, and the message, sender, opt-out and campaign
items it reads and writes."""

from __future__ import annotations

from dataclasses import dataclass

from wacast.adapters.aws import client
from wacast.adapters.clock import SystemClock
from wacast.adapters.cloudwatch import CloudWatchMetricsSink
from wacast.adapters.dynamo.campaigns import DynamoCampaignRepository, DynamoCampaignStates
from wacast.adapters.dynamo.messages import DynamoMessageRepository
from wacast.adapters.dynamo.optouts import DynamoOptOutRepository
from wacast.adapters.dynamo.pacing import DynamoPacingGuard
from wacast.adapters.dynamo.senders import DynamoSenderRepository
from wacast.adapters.events import QueueEventPublisher
from wacast.adapters.sqs import SqsQueue
from wacast.bootstrap.shared import bind, presets_of
from wacast.ports import (
    CampaignRepository,
    CampaignStates,
    Clock,
    EventPublisher,
    MessageRepository,
    OptOutRepository,
    PacingGuard,
    Queue,
    SenderRepository,
)
from wacast.settings import SessionHostSettings


@dataclass
class SessionHostServices:
    """The ports the session host (drivers, supervisor, delivery, consumers) is built on."""

    settings: SessionHostSettings
    clock: Clock
    outbox: Queue
    control: Queue
    publisher: EventPublisher
    messages: MessageRepository
    senders: SenderRepository
    optouts: OptOutRepository
    campaign_states: CampaignStates
    pacing_guard: PacingGuard
    #: The account-safety governor pauses a cooling sender's campaigns, and resumes them (campaign jobs).
    campaigns: CampaignRepository
    campaign_jobs: Queue
    #: Where the host's metrics go: PutMetricData once a minute (a container has no EMF extraction).
    metrics_sink: CloudWatchMetricsSink


def build_session_host(settings: SessionHostSettings, *, clock: Clock | None = None) -> SessionHostServices:
    bind(settings)
    sqs = client("sqs", settings.region)
    return SessionHostServices(
        settings=settings,
        clock=clock or SystemClock(),
        outbox=SqsQueue(settings.outbox_queue_url, sqs),
        control=SqsQueue(settings.control_queue_url, sqs),
        publisher=QueueEventPublisher(SqsQueue(settings.events_queue_url, sqs)),
        messages=DynamoMessageRepository(),
        senders=DynamoSenderRepository(),
        optouts=DynamoOptOutRepository(),
        campaign_states=DynamoCampaignStates(),
        pacing_guard=DynamoPacingGuard(presets_of(settings)),
        campaigns=DynamoCampaignRepository(),
        campaign_jobs=SqsQueue(settings.campaigns_queue_url, sqs),
        metrics_sink=CloudWatchMetricsSink(client("cloudwatch", settings.region)),
    )
