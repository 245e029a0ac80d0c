"""The api's root: every workspace service, the queues it sends to (and shows and redrives), schedules,
and the JWT signing key (the one deployable that reads it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from wacast.adapters.address_guard import AddressGuard
from wacast.adapters.aws import client
from wacast.adapters.clock import SystemClock
from wacast.adapters.dynamo.accounts import DynamoAccountRepository
from wacast.adapters.dynamo.apikeys import DynamoApiKeyRepository
from wacast.adapters.dynamo.audience_ids import DynamoAudienceIds
from wacast.adapters.dynamo.campaigns import DynamoCampaignRepository, DynamoCampaignStates
from wacast.adapters.dynamo.contacts import DynamoContactRepository
from wacast.adapters.dynamo.conversations import DynamoConversationRepository
from wacast.adapters.dynamo.login_attempts import DynamoLoginAttempts
from wacast.adapters.dynamo.messages import DynamoMessageRepository
from wacast.adapters.dynamo.optouts import DynamoOptOutRepository
from wacast.adapters.dynamo.senders import DynamoSenderRepository
from wacast.adapters.dynamo.templates import DynamoTemplateRepository
from wacast.adapters.dynamo.webhooks import DynamoDeliveryLog, DynamoWebhookEndpoints
from wacast.adapters.scheduler import EventBridgeScheduler, ScheduleTarget
from wacast.adapters.sqs import SqsQueue
from wacast.bootstrap.files import file_services
from wacast.bootstrap.shared import bind, presets_of
from wacast.domain.safety import IdenticalBodyRule
from wacast.domain.senders import DRIVER_NAMES
from wacast.ports import Clock, DeadLetterQueue, Queue
from wacast.security import TokenService
from wacast.services.accounts import AccountService
from wacast.services.apikeys import ApiKeyService
from wacast.services.audience import AudienceReader
from wacast.services.auth import AuthService
from wacast.services.campaigns import CampaignService
from wacast.services.contact_imports import ContactImportService
from wacast.services.contacts import ContactService
from wacast.services.conversations import ConversationService
from wacast.services.exports import ExportService
from wacast.services.governor import GovernorService
from wacast.services.messaging import MessagingService
from wacast.services.operations import OperationsService
from wacast.services.optouts import OptOutService
from wacast.services.registration import Registration
from wacast.services.safety import SafetyService
from wacast.services.schedules import ScheduleService
from wacast.services.senders import SenderService
from wacast.services.stats import StatsService
from wacast.services.templates import TemplateService
from wacast.services.webhooks import WebhookService
from wacast.settings import ApiSettings, DeployableSettings, split_list

QUEUE_NAMES = ("campaigns", "outbox", "events", "control")


@dataclass
class ApiServices:
    """What the HTTP API's routes use."""

    settings: ApiSettings
    clock: Clock
    auth: AuthService
    api_keys: ApiKeyService
    account: AccountService
    messaging: MessagingService
    contacts: ContactService
    imports: ContactImportService  # contact files through S3
    exports: ExportService
    opt_outs: OptOutService
    templates: TemplateService
    campaigns: CampaignService
    schedules: ScheduleService
    stats: StatsService
    operations: OperationsService
    senders: SenderService
    conversations: ConversationService
    safety: SafetyService
    webhooks: WebhookService


def jwt_secret(settings: ApiSettings) -> str:
    """The JWT signing secret: from settings locally, from Secrets Manager on AWS."""
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    from aws_lambda_powertools.utilities.parameters import get_secret

    value = get_secret(str(settings.jwt_secret_arn), max_age=300)
    return value if isinstance(value, str) else bytes(value).decode()


def allowed_drivers(settings: ApiSettings) -> tuple[str, ...]:
    """Drivers a sender may enable: the real ones, plus "simulated" where it is the default (local runs)."""
    return tuple(n for n in DRIVER_NAMES if n != "simulated" or settings.default_driver == "simulated")


def build_api(settings: ApiSettings, *, clock: Clock | None = None) -> ApiServices:
    """Wire the API against the configured AWS endpoint (AWS, moto or LocalStack)."""
    bind(settings)
    clock = clock or SystemClock()
    sqs = client("sqs", settings.region)
    sources: dict[str, Queue] = {
        "campaigns": SqsQueue(settings.campaigns_queue_url, sqs),
        "outbox": SqsQueue(settings.outbox_queue_url, sqs),
        "events": SqsQueue(settings.events_queue_url, sqs),
        "control": SqsQueue(settings.control_queue_url, sqs),
    }
    dlqs: dict[str, DeadLetterQueue] = {
        "campaigns": SqsQueue(settings.campaigns_dlq_url, sqs),
        "outbox": SqsQueue(settings.outbox_dlq_url, sqs),
        "events": SqsQueue(settings.events_dlq_url, sqs),
        "control": SqsQueue(settings.control_dlq_url, sqs),
    }
    dlq_depths: dict[str, Queue] = {f"{name}-dlq": q for name, q in dlqs.items()}
    accounts, senders, contacts = DynamoAccountRepository(), DynamoSenderRepository(), DynamoContactRepository()
    optouts, templates, campaigns = DynamoOptOutRepository(), DynamoTemplateRepository(), DynamoCampaignRepository()
    messages = DynamoMessageRepository(retention=timedelta(days=settings.message_retention_days))
    campaign_states = DynamoCampaignStates()
    scheduler = EventBridgeScheduler(
        client("scheduler", settings.region),
        settings.schedule_group,
        ScheduleTarget(settings.campaigns_queue_arn, settings.scheduler_role_arn, settings.scheduler_dlq_arn),
    )
    presets = presets_of(settings)
    tokens = TokenService(jwt_secret(settings), timedelta(seconds=settings.jwt_ttl_seconds))
    api_keys = ApiKeyService(DynamoApiKeyRepository(), clock)
    runs = CampaignService(
        campaigns,
        campaign_states,
        accounts,
        senders,
        templates,
        AudienceReader(contacts, DynamoAudienceIds()),
        sources["campaigns"],
        scheduler,
        clock,
        presets,
    )
    attempts = DynamoLoginAttempts(settings.login_max_failures, settings.login_window_seconds)
    imports, exports = file_services(settings, clock)
    safety = SafetyService(
        runs,
        senders,
        templates,
        AudienceReader(contacts, DynamoAudienceIds()),
        GovernorService(senders, campaigns, campaign_states, sources["campaigns"], clock),
        clock,
        presets,
        IdenticalBodyRule(
            warn_share=settings.identical_warn_share,
            refuse_share=settings.identical_refuse_share,
            min_audience=settings.identical_min_audience,
            sample=settings.identical_sample,
        ),
    )
    messaging = MessagingService(messages, senders, accounts, optouts, campaigns, sources["outbox"], clock)
    retention = timedelta(days=settings.message_retention_days)
    return ApiServices(
        settings=settings,
        clock=clock,
        auth=AuthService(
            accounts,
            tokens,
            api_keys,
            attempts,
            clock,
            Registration(accounts, senders, clock, settings.default_driver),
            registration_open=settings.registration_open,
        ),
        api_keys=api_keys,
        account=AccountService(accounts),
        messaging=messaging,
        contacts=ContactService(contacts, optouts, accounts, clock),
        imports=imports,
        exports=exports,
        opt_outs=OptOutService(optouts, accounts, clock),
        templates=TemplateService(templates, contacts, clock),
        campaigns=runs,
        schedules=ScheduleService(campaigns, runs, scheduler, clock),
        stats=StatsService(campaigns, messages, senders, {**sources, **dlq_depths}, clock, presets),
        operations=OperationsService(sources, dlqs, split_list(settings.operator_accounts)),
        senders=SenderService(
            senders,
            accounts,
            sources["control"],
            clock,
            allowed_drivers=allowed_drivers(settings),
            qr_max_age_seconds=settings.qr_max_age_seconds,
        ),
        conversations=ConversationService(DynamoConversationRepository(retention), accounts, messaging),
        safety=safety,
        webhooks=WebhookService(
            DynamoWebhookEndpoints(),
            DynamoDeliveryLog(),
            SqsQueue(settings.webhooks_queue_url, sqs),
            AddressGuard(allow_http=settings.webhook_allow_http, allow_loopback=settings.webhook_allow_loopback),
            clock,
        ),
    )


def build_registration(settings: DeployableSettings, *, default_driver: str = "neonize") -> Registration:
    """What the operator's `make owner` command uses: creates an account and its owner in the stack's
    table with the operator's own AWS credentials (no signing key, no API involved)."""
    bind(settings)
    return Registration(DynamoAccountRepository(), DynamoSenderRepository(), SystemClock(), default_driver)
