"""Configuration of every deployable, read from the environment once and validated at cold start."""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """All knobs of wacast. Names are `WACAST_*` unless an AWS or legacy name is given."""

    model_config = SettingsConfigDict(env_prefix="WACAST_", extra="ignore", populate_by_name=True)

    stage: str = "local"
    region: str = Field(
        default="us-east-1", validation_alias=AliasChoices("WACAST_REGION", "AWS_REGION", "AWS_DEFAULT_REGION")
    )
    aws_endpoint_url: str | None = Field(default=None, validation_alias=AliasChoices("AWS_ENDPOINT_URL"))

    table_name: str = "wacast"
    campaigns_queue_url: str = ""
    outbox_queue_url: str = ""
    events_queue_url: str = ""
    control_queue_url: str = ""
    campaigns_dlq_url: str = ""
    outbox_dlq_url: str = ""
    events_dlq_url: str = ""
    control_dlq_url: str = ""
    campaigns_queue_arn: str = ""
    schedule_group: str = "wacast"
    scheduler_role_arn: str = ""
    scheduler_dlq_arn: str = ""
    max_receive_count: int = Field(default=3, ge=1, le=1000)

    jwt_secret: SecretStr | None = None
    jwt_secret_arn: str | None = None
    jwt_ttl_seconds: int = Field(default=3600, ge=60)
    # Sign-in attempts allowed per email in each window (a success clears the window).
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=900, ge=60)

    # Pacing presets: base gap in milliseconds (legacy names kept, jitter is added on top).
    delay_fast_ms: int = Field(default=2000, ge=0, validation_alias=AliasChoices("DELAY_FAST", "WACAST_DELAY_FAST_MS"))
    delay_balanced_ms: int = Field(
        default=5000, ge=0, validation_alias=AliasChoices("DELAY_BALANCED", "WACAST_DELAY_BALANCED_MS")
    )
    delay_safe_ms: int = Field(default=10000, ge=0, validation_alias=AliasChoices("DELAY_SAFE", "WACAST_DELAY_SAFE_MS"))

    # Direct send: how long the route waits for the outcome before answering 202.
    send_wait_seconds: float = Field(default=10.0, ge=0, le=25)
    # Drivers a new sender gets; "simulated" makes new accounts get a connected simulated sender.
    default_driver: str = "simulated"

    # Accounts whose owners/admins may run operator actions (DLQ redrive): comma-separated ids, or "*".
    operator_accounts: str = ""

    # Session host.
    host_id: str = "host-local"
    send_timeout_seconds: float = Field(default=30.0, gt=0)
    # A claim's lease: the primary attempt (number lookup + send), one short pacing wait and the
    # fallback attempt fit in it (15 + 30 + 15 + 30 s at the drivers' limits, with room to spare).
    lease_seconds: float = Field(default=150.0, gt=0)
    session_store: str = "/data/sessions"
    webjs_url: str = "http://127.0.0.1:3001"
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

    # API: a QR code older than this has expired (WhatsApp rotates them every ~20 s).
    qr_max_age_seconds: float = Field(default=90.0, gt=0)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, validated once."""
    return Settings()


def split_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]
