"""Configuration, one settings model per deployable, read from the environment and validated at cold start.

Each deployable (api, dispatcher, events, dlq, session host) reads only the variables it uses. A
required variable that is missing or empty stops the process with a `ConfigError` naming it, so a
template that forgets a variable fails at start, not at the first record. `load()` reads `os.environ`
or, for tests and the local stack, a given mapping.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated, Any, ClassVar, Self

from pydantic import AliasChoices, Field, SecretStr, StringConstraints, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

#: A variable that must be set, and not to an empty string.
Required = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

_environ: ContextVar[Mapping[str, str] | None] = ContextVar("wacast_environ", default=None)
#: Every settings class shares it (a mixin with a config of its own would reset the prefix).
_CONFIG = SettingsConfigDict(env_prefix="WACAST_", extra="ignore", populate_by_name=True, defer_build=True)


class ConfigError(RuntimeError):
    """The environment lacks what a deployable needs; the message names every variable at fault."""

    def __init__(self, deployable: str, problems: list[str]) -> None:
        self.deployable = deployable
        self.problems = problems
        super().__init__(f"the {deployable} cannot start: " + "; ".join(problems))


class _MappingEnvSource(EnvSettingsSource):
    """The environment source, reading a given mapping instead of os.environ when `load()` was given one."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        environ = _environ.get()
        if environ is None:
            return super()._load_env_vars()
        return parse_env_vars(environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


@contextmanager
def _reading(environ: Mapping[str, str] | None) -> Iterator[None]:
    token = _environ.set(environ)
    try:
        yield
    finally:
        _environ.reset(token)


class DeployableSettings(BaseSettings):
    """What every deployable reads: where it runs and the one table."""

    model_config = _CONFIG
    deployable: ClassVar[str] = "deployable"

    stage: str = "local"
    region: Required = Field(validation_alias=AliasChoices("WACAST_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"))
    table_name: Required

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, _MappingEnvSource(settings_cls))

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        """Read and validate the settings from `environ` (default: os.environ). Raises ConfigError."""
        try:
            with _reading(environ):
                return cls(**overrides)
        except ValidationError as exc:
            raise ConfigError(cls.deployable, [_describe(cls, error) for error in exc.errors()]) from None

    @classmethod
    def variable(cls, field_name: str) -> str:
        """The environment variable a field is read from (its first name when it has several)."""
        info: FieldInfo = cls.model_fields[field_name]
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            first = alias.choices[0]
            return first if isinstance(first, str) else field_name.upper()
        if isinstance(alias, str):
            return alias
        return f"WACAST_{field_name.upper()}"

    @classmethod
    def required_variables(cls) -> list[str]:
        return [cls.variable(name) for name, info in cls.model_fields.items() if info.is_required()]


def _describe(cls: type[DeployableSettings], error: Any) -> str:
    loc = [part for part in error.get("loc", ()) if isinstance(part, str)]
    if not loc:
        return str(error.get("msg", "invalid configuration"))
    name = loc[0]
    variable = cls.variable(name) if name in cls.model_fields else name
    if error.get("type") in ("missing", "string_too_short"):
        return f"{variable} is missing or empty"
    return f"{variable} is invalid: {error.get('msg')}"


class PacingPresets(BaseSettings):
    """The pacing presets' base gaps in milliseconds (legacy names kept; jitter is added on top)."""

    model_config = _CONFIG

    delay_fast_ms: int = Field(default=2000, ge=0, validation_alias=AliasChoices("DELAY_FAST", "WACAST_DELAY_FAST_MS"))
    delay_balanced_ms: int = Field(
        default=5000, ge=0, validation_alias=AliasChoices("DELAY_BALANCED", "WACAST_DELAY_BALANCED_MS")
    )
    delay_safe_ms: int = Field(default=10000, ge=0, validation_alias=AliasChoices("DELAY_SAFE", "WACAST_DELAY_SAFE_MS"))


class MessageRetention(BaseSettings):
    """The deployables that create messages (api: direct sends; dispatcher: campaigns) stamp their expiry."""

    model_config = _CONFIG

    #: Messages (phone, rendered text, history: personal data) are deleted by DynamoDB TTL this long after
    #: they were created. Campaign counters stay.
    message_retention_days: int = Field(default=180, ge=1, le=3650)


class WebhookSafety(BaseSettings):
    """Where webhooks may go: https only and public addresses only on AWS. The local stack allows http and
    loopback (its tests run receivers on 127.0.0.1); private and link-local addresses are never allowed."""

    model_config = _CONFIG

    webhook_allow_http: bool = False
    webhook_allow_loopback: bool = False


class ApiSettings(DeployableSettings, PacingPresets, MessageRetention, WebhookSafety):
    """The HTTP API: every queue (to send to, and to show depths and redrive), schedules, and the JWT secret."""

    deployable: ClassVar[str] = "api"

    campaigns_queue_url: Required
    outbox_queue_url: Required
    events_queue_url: Required
    control_queue_url: Required
    #: Webhook test events and replays go straight to the webhooks queue.
    webhooks_queue_url: Required
    campaigns_dlq_url: Required
    outbox_dlq_url: Required
    events_dlq_url: Required
    control_dlq_url: Required
    # EventBridge Scheduler targets the campaigns queue with this role, dead-lettering to this queue.
    campaigns_queue_arn: Required
    schedule_group: Required
    scheduler_role_arn: Required
    scheduler_dlq_arn: Required

    #: The JWT signing key itself (local runs), or the ARN of the secret holding it (AWS): one is required.
    jwt_secret: SecretStr | None = None
    jwt_secret_arn: str | None = None
    jwt_ttl_seconds: int = Field(default=3600, ge=60)
    # Sign-in attempts allowed per email in each window (a success clears the window).
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=900, ge=60)
    #: Whether anyone may sign up. Closed on AWS unless the OpenRegistration parameter opens it.
    registration_open: bool = False

    # Direct send: how long the route waits for the outcome before answering 202.
    send_wait_seconds: float = Field(default=10.0, ge=0, le=25)
    # Drivers a new sender gets; "simulated" makes new accounts get a connected simulated sender.
    default_driver: Required
    # Accounts whose owners/admins may run operator actions (DLQ redrive): comma-separated ids, or "*".
    operator_accounts: str = ""
    # A QR code older than this has expired (WhatsApp rotates them every ~20 s).
    qr_max_age_seconds: float = Field(default=90.0, gt=0)
    # The identical-text rule (docs/account-safety.md): a campaign whose recipients would get the same text
    # is warned about at creation above the first share and refused at start above the second, unless the
    # user confirms; audiences under the minimum are not judged; the share is estimated on a sample.
    identical_warn_share: float = Field(default=0.5, gt=0, le=1)
    identical_refuse_share: float = Field(default=0.9, gt=0, le=1)
    identical_min_audience: int = Field(default=20, ge=1)
    identical_sample: int = Field(default=500, ge=10, le=5000)
    # Big files (contact imports, exports) go through this bucket; their jobs through this queue.
    files_bucket: Required
    files_queue_url: Required

    @model_validator(mode="after")
    def _one_jwt_secret(self) -> Self:
        if self.jwt_secret is None and not (self.jwt_secret_arn or "").strip():
            raise ValueError("WACAST_JWT_SECRET_ARN (or WACAST_JWT_SECRET) is missing or empty")
        return self


class DispatcherSettings(DeployableSettings, PacingPresets, MessageRetention):
    """The dispatcher: campaign jobs in, messages out; deletes one-time schedules once they fired."""

    deployable: ClassVar[str] = "dispatcher"

    campaigns_queue_url: Required
    outbox_queue_url: Required
    schedule_group: Required


class EventsSettings(DeployableSettings):
    """The events function: receipts, incoming messages and sender state, applied to the table."""

    deployable: ClassVar[str] = "events function"


class FilesSettings(DeployableSettings):
    """The files function: contact imports and exports, between the files bucket and the table."""

    deployable: ClassVar[str] = "files function"

    files_bucket: Required
    #: Its own queue: a long import queues its continuation there.
    files_queue_url: Required


class WebhooksSettings(DeployableSettings, WebhookSafety):
    """The webhooks function: the table's changes in (as events), signed deliveries out, with retries."""

    deployable: ClassVar[str] = "webhooks function"

    webhooks_queue_url: Required
    #: Tries per delivery, and the backoff between them (exponential with jitter; domain/webhooks.py).
    webhook_max_attempts: int = Field(default=10, ge=1, le=20)
    webhook_backoff_base_seconds: float = Field(default=5.0, gt=0)
    webhook_backoff_factor: float = Field(default=3.0, ge=1)
    webhook_backoff_cap_seconds: float = Field(default=4 * 3600.0, gt=0, le=12 * 3600)
    #: A whole request (connect, send, the answer's first bytes) takes at most this long.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=20)
    webhook_max_response_bytes: int = Field(default=64 * 1024, ge=1024, le=1024 * 1024)
    #: An endpoint whose deliveries died this many times in a row (after every retry) is disabled.
    webhook_disable_after_dead: int = Field(default=5, ge=1)
    #: How long the function trusts its copy of an account's endpoints (a new endpoint waits at most this).
    webhook_endpoint_cache_seconds: float = Field(default=30.0, ge=0)


class CountersSettings(DeployableSettings):
    """The counters function: message status changes from the table's stream, applied to the counters."""

    deployable: ClassVar[str] = "counters function"


class DlqSettings(DeployableSettings):
    """The dlq function: tells the dead-letter queues it consumes apart by their ARNs."""

    deployable: ClassVar[str] = "dlq function"

    outbox_dlq_arn: Required
    campaigns_dlq_arn: Required


def _default_host_id() -> str:
    return f"host-{socket.gethostname()}-{os.getpid()}"


class SessionHostSettings(DeployableSettings, PacingPresets):
    """The session host: the outbox and control queues in, the events queue out, sessions on disk."""

    deployable: ClassVar[str] = "session host"

    outbox_queue_url: Required
    events_queue_url: Required
    control_queue_url: Required
    #: The governor resumes the campaigns it paused (a requeue and a dispatch job) when a cooling ends.
    campaigns_queue_url: Required

    #: The owner written on every claim's lease: unique per process.
    host_id: str = Field(default_factory=_default_host_id)
    send_timeout_seconds: float = Field(default=30.0, gt=0)
    # A claim's lease: the primary attempt (number lookup + send), one short pacing wait and the
    # fallback attempt fit in it (15 + 30 + 15 + 30 s at the drivers' limits, with room to spare).
    lease_seconds: float = Field(default=150.0, gt=0)
    #: A message whose sender is not connected is looked at again this much later (no attempt burnt).
    disconnected_recheck_seconds: int = Field(default=30, ge=1, le=900)
    #: The outbox queue's own VisibilityTimeout (template.yaml, OutboxQueue; a unit test checks they match):
    #: a message waiting on a sender's lane is kept invisible this long at each heartbeat.
    outbox_visibility_seconds: int = Field(default=180, ge=1, le=43200)
    session_store: Required
    webjs_url: str = "http://127.0.0.1:3001"
    #: The sidecar's shared secret; without it the whatsapp-web.js fallback is off.
    webjs_secret: SecretStr | None = None
    #: An outbound proxy for neonize ("socks5://host:port" or "http://host:port"), or none.
    neonize_proxy: str | None = None
    #: A connect attempt that shows neither a QR code nor a connection within this long has failed.
    connect_timeout_seconds: float = Field(default=30.0, gt=0, le=120)
    # Session supervision: reconnect backoff, circuit breaker, liveness probe.
    reconnect_base_seconds: float = Field(default=2.0, gt=0)
    reconnect_max_seconds: float = Field(default=300.0, gt=0)
    circuit_failures: int = Field(default=5, ge=1, le=100)
    circuit_cooldown_seconds: float = Field(default=900.0, gt=0)
    probe_every_seconds: float = Field(default=60.0, gt=0)
    probe_timeout_seconds: float = Field(default=15.0, gt=0)
    #: Control commands older than this are dropped (a pairing code asked for an hour ago is useless).
    command_max_age_seconds: float = Field(default=600.0, gt=0)
    # The account-safety governor (wacast.domain.governor, docs/account-safety.md): when a sender cools down.
    governor_failure_window_seconds: float = Field(default=600.0, gt=0)
    governor_failure_min_sends: int = Field(default=10, ge=1)
    governor_failure_share: float = Field(default=0.5, gt=0, le=1)
    governor_failure_cooldown_seconds: float = Field(default=3600.0, gt=0)
    governor_receipt_timeout_seconds: float = Field(default=900.0, gt=0)
    governor_receipt_sample: int = Field(default=50, ge=1)
    governor_receipt_min_sends: int = Field(default=20, ge=1)
    governor_missing_receipt_share: float = Field(default=0.8, gt=0, le=1)
    governor_receipt_cooldown_seconds: float = Field(default=21600.0, gt=0)
    governor_ban_min_cooldown_seconds: float = Field(default=3600.0, gt=0)
    # The not-on-WhatsApp check before each send: answers kept this long per phone, one lookup per sender
    # at most this often.
    lookup_found_ttl_seconds: float = Field(default=604800.0, gt=0)
    lookup_missing_ttl_seconds: float = Field(default=86400.0, gt=0)
    lookup_min_interval_seconds: float = Field(default=2.0, ge=0)
    #: Touched by the outbox consumer on every poll; the container's health check reads its age.
    heartbeat_file: str = "/tmp/wacast-session-host.heartbeat"  # noqa: S108 - a per-container file


def session_host_default(name: str) -> Any:
    """The default of a SessionHostSettings field. The session host's configuration objects (the supervisor
    policy, the delivery config, the drivers' timeouts, the outbox consumer) default to it, so that each
    number is written once, here; the host builds them from the loaded settings."""
    return SessionHostSettings.model_fields[name].get_default(call_default_factory=True)


def split_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]
