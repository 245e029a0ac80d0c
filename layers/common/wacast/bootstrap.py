"""The composition root: the only place that picks concrete adapters.

Every entrypoint (the API, the SQS consumers, the session host, the local stack, the tests) calls
`build_services(settings)`. Tests may pass fakes in place of any adapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from wacast.adapters.aws import client
from wacast.adapters.clock import SystemClock
from wacast.adapters.dynamo.accounts import DynamoAccountRepository
from wacast.adapters.dynamo.apikeys import DynamoApiKeyRepository
from wacast.adapters.dynamo.campaigns import DynamoCampaignRepository, DynamoCampaignStates
from wacast.adapters.dynamo.contacts import DynamoContactRepository
from wacast.adapters.dynamo.login_attempts import DynamoLoginAttempts
from wacast.adapters.dynamo.messages import DynamoMessageRepository
from wacast.adapters.dynamo.optouts import DynamoOptOutRepository
from wacast.adapters.dynamo.pacing import DynamoPacingGuard
from wacast.adapters.dynamo.senders import DynamoSenderRepository
from wacast.adapters.dynamo.table import bind_table
from wacast.adapters.dynamo.templates import DynamoTemplateRepository
from wacast.adapters.events import QueueEventPublisher
from wacast.adapters.scheduler import EventBridgeScheduler
from wacast.adapters.sqs import SqsQueue
from wacast.domain.pacing import PresetGaps
from wacast.domain.senders import DRIVER_NAMES
from wacast.ports import (
    AccountRepository,
    ApiKeyRepository,
    CampaignRepository,
    CampaignStates,
    Clock,
    ContactStore,
    EventPublisher,
    LoginAttempts,
    MessageRepository,
    OptOutRepository,
    PacingGuard,
    Queue,
    Scheduler,
    SenderRepository,
    TemplateStore,
)
from wacast.security import TokenService
from wacast.services.accounts import AccountService
from wacast.services.apikeys import ApiKeyService
from wacast.services.audience import AudienceReader
from wacast.services.auth import AuthService
from wacast.services.campaigns import CampaignService
from wacast.services.contacts import ContactService
from wacast.services.deadletters import DeadLetterService
from wacast.services.dispatch import DispatchService
from wacast.services.messaging import MessagingService
from wacast.services.optouts import OptOutService
from wacast.services.receipts import EventsService
from wacast.services.schedules import ScheduleService
from wacast.services.senders import SenderService
from wacast.services.stats import OperationsService, StatsService
from wacast.services.templates import TemplateService
from wacast.settings import Settings, get_settings, split_list


@dataclass
class Queues:
    campaigns: Queue
    outbox: Queue
    events: Queue
    control: Queue
    dlqs: dict[str, Queue]


@dataclass
class Repositories:
    """The storage ports. DynamoDB in every deployable; in-memory fakes in unit tests."""

    messages: MessageRepository
    senders: SenderRepository
    accounts: AccountRepository
    optouts: OptOutRepository
    campaign_states: CampaignStates
    pacing_guard: PacingGuard
    contacts: ContactStore
    templates: TemplateStore
    api_keys: ApiKeyRepository
    login_attempts: LoginAttempts
    campaigns: CampaignRepository
    scheduler: Scheduler


@dataclass
class Services:
    settings: Settings
    clock: Clock
    queues: Queues
    repos: Repositories
    presets: PresetGaps
    auth: AuthService
    api_keys: ApiKeyService
    account: AccountService
    messaging: MessagingService
    events: EventsService
    deadletters: DeadLetterService
    publisher: EventPublisher
    contacts: ContactService
    opt_outs: OptOutService
    templates: TemplateService
    campaigns: CampaignService
    schedules: ScheduleService
    dispatch: DispatchService
    stats: StatsService
    operations: OperationsService
    sender_admin: SenderService

    @property
    def messages(self) -> MessageRepository:
        return self.repos.messages

    @property
    def senders(self) -> SenderRepository:
        return self.repos.senders


def jwt_secret(settings: Settings) -> str:
    """The JWT signing secret: from settings locally, from Secrets Manager on AWS."""
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    if settings.jwt_secret_arn:
        from aws_lambda_powertools.utilities.parameters import get_secret

        value = get_secret(settings.jwt_secret_arn, max_age=300)
        return value if isinstance(value, str) else bytes(value).decode()
    raise RuntimeError("set WACAST_JWT_SECRET or WACAST_JWT_SECRET_ARN")


def build_queues(settings: Settings, sqs: Any | None = None) -> Queues:
    sqs = sqs or client("sqs", settings.region, settings.aws_endpoint_url)
    dlqs = {
        "campaigns": settings.campaigns_dlq_url,
        "outbox": settings.outbox_dlq_url,
        "events": settings.events_dlq_url,
        "control": settings.control_dlq_url,
    }
    return Queues(
        campaigns=SqsQueue(settings.campaigns_queue_url, sqs),
        outbox=SqsQueue(settings.outbox_queue_url, sqs),
        events=SqsQueue(settings.events_queue_url, sqs),
        control=SqsQueue(settings.control_queue_url, sqs),
        dlqs={name: SqsQueue(url, sqs) for name, url in dlqs.items() if url},
    )


def allowed_drivers(settings: Settings) -> tuple[str, ...]:
    """Drivers a sender may enable: the real ones, plus "simulated" where it is the default (local runs)."""
    return tuple(n for n in DRIVER_NAMES if n != "simulated" or settings.default_driver == "simulated")


def presets_of(settings: Settings) -> PresetGaps:
    return PresetGaps(
        fast_ms=settings.delay_fast_ms, balanced_ms=settings.delay_balanced_ms, safe_ms=settings.delay_safe_ms
    )


def dynamo_repositories(settings: Settings) -> Repositories:
    bind_table(settings.table_name, settings.region, settings.aws_endpoint_url)
    return Repositories(
        messages=DynamoMessageRepository(),
        senders=DynamoSenderRepository(),
        accounts=DynamoAccountRepository(),
        optouts=DynamoOptOutRepository(),
        campaign_states=DynamoCampaignStates(),
        pacing_guard=DynamoPacingGuard(presets_of(settings)),
        contacts=DynamoContactRepository(),
        templates=DynamoTemplateRepository(),
        api_keys=DynamoApiKeyRepository(),
        login_attempts=DynamoLoginAttempts(settings.login_max_failures, settings.login_window_seconds),
        campaigns=DynamoCampaignRepository(),
        scheduler=EventBridgeScheduler(
            client("scheduler", settings.region, settings.aws_endpoint_url),
            settings.schedule_group,
            settings.campaigns_queue_arn,
            settings.scheduler_role_arn,
            settings.scheduler_dlq_arn or None,
        ),
    )


def assemble(settings: Settings, clock: Clock, queues: Queues, repos: Repositories, tokens: TokenService) -> Services:
    """Wire the services over the given adapters (the one place that does it)."""
    api_keys = ApiKeyService(repos.api_keys, clock)
    opt_outs = OptOutService(repos.optouts, repos.accounts, clock)
    presets = presets_of(settings)
    audience = AudienceReader(repos.contacts)
    campaigns = CampaignService(
        repos.campaigns,
        repos.campaign_states,
        repos.accounts,
        repos.senders,
        repos.templates,
        audience,
        queues.campaigns,
        repos.scheduler,
        clock,
    )
    sources = {
        "campaigns": queues.campaigns,
        "outbox": queues.outbox,
        "events": queues.events,
        "control": queues.control,
    }
    return Services(
        settings=settings,
        clock=clock,
        queues=queues,
        repos=repos,
        presets=presets,
        auth=AuthService(
            repos.accounts, repos.senders, tokens, api_keys, repos.login_attempts, clock, settings.default_driver
        ),
        api_keys=api_keys,
        account=AccountService(repos.accounts),
        messaging=MessagingService(repos.messages, repos.senders, repos.accounts, repos.optouts, queues.outbox, clock),
        events=EventsService(repos.messages, opt_outs, repos.accounts, repos.campaign_states),
        deadletters=DeadLetterService(repos.messages, repos.campaign_states, clock),
        publisher=QueueEventPublisher(queues.events),
        contacts=ContactService(repos.contacts, repos.optouts, repos.accounts, clock),
        opt_outs=opt_outs,
        templates=TemplateService(repos.templates, repos.contacts, clock),
        campaigns=campaigns,
        schedules=ScheduleService(repos.campaigns, campaigns, repos.scheduler, clock),
        dispatch=DispatchService(
            repos.campaigns,
            repos.campaign_states,
            repos.senders,
            repos.templates,
            audience,
            repos.messages,
            repos.optouts,
            queues.outbox,
            queues.campaigns,
            clock,
            presets,
        ),
        stats=StatsService(
            repos.campaigns,
            repos.messages,
            repos.senders,
            {**sources, **{f"{name}-dlq": q for name, q in queues.dlqs.items()}},
            clock,
            presets,
        ),
        operations=OperationsService(sources, queues.dlqs, split_list(settings.operator_accounts)),
        sender_admin=SenderService(
            repos.senders,
            repos.accounts,
            queues.control,
            clock,
            allowed_drivers=allowed_drivers(settings),
            qr_max_age_seconds=settings.qr_max_age_seconds,
        ),
    )


def build_services(settings: Settings | None = None, *, clock: Clock | None = None) -> Services:
    """Wire every service against the configured AWS endpoint (AWS, moto or LocalStack)."""
    settings = settings or get_settings()
    tokens = TokenService(jwt_secret(settings), timedelta(seconds=settings.jwt_ttl_seconds))
    return assemble(settings, clock or SystemClock(), build_queues(settings), dynamo_repositories(settings), tokens)


@lru_cache(maxsize=1)
def get_services() -> Services:
    """The process-wide services, built at the first call (cold start), never at import."""
    return build_services()
