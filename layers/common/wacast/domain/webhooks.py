"""Webhooks: the account's endpoints, the events they get, how a delivery is signed, and when it is tried
again. Pure: the clock's time and the jitter's randomness are passed in.

A delivery is a POST of the event's JSON with these headers:
- `Wacast-Signature: t=<unix seconds>,v1=<hex>`: HMAC-SHA256 with the endpoint's secret over
  `<t>.<raw body>`; during a secret rotation's overlap there is one `v1=` per secret, the new one first;
- `Wacast-Event-Id` (the receiver's deduplication key: a retried or replayed delivery keeps it),
  `Wacast-Event-Type`, `Wacast-Delivery-Id`, `Wacast-Attempt`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class EventType(StrEnum):
    MESSAGE_STATUS = "message.status"
    MESSAGE_RECEIVED = "message.received"
    CONTACT_OPTED_OUT = "contact.opted_out"
    CONTACT_OPTED_IN = "contact.opted_in"
    CAMPAIGN_STARTED = "campaign.started"
    CAMPAIGN_COMPLETED = "campaign.completed"
    CAMPAIGN_PAUSED = "campaign.paused"
    SENDER_STATE = "sender.state"
    #: An endpoint of the account was disabled after failing again and again (sent to its other endpoints).
    WEBHOOK_DISABLED = "webhook.disabled"
    #: "Send a test event": only ever sent to the endpoint it was asked for.
    WEBHOOK_TEST = "webhook.test"


SUBSCRIBABLE = tuple(t for t in EventType if t is not EventType.WEBHOOK_TEST)
MAX_ENDPOINTS = 10


class WebhookEvent(BaseModel):
    """What happened, as every endpoint that wants it receives it (the request body)."""

    id: str = Field(description="the same for every delivery and retry of this event: deduplicate on it")
    type: EventType
    account_id: str
    created_at: datetime
    data: dict[str, Any]

    def body(self) -> bytes:
        """The exact bytes sent (and signed)."""
        return json.dumps(self.model_dump(mode="json"), separators=(",", ":"), sort_keys=True).encode()


def event_id(*parts: str) -> str:
    """An event's id, derived from what identifies it (a stream record's id): a retried fan-out gives the same."""
    return "evt_" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


class WebhookEndpoint(BaseModel):
    id: str
    account_id: str
    url: str
    events: list[EventType]
    description: str = ""
    enabled: bool = True
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    secret: str = Field(repr=False)
    #: The secret before the last rotation, still signed with until `previous_secret_expires_at`.
    previous_secret: str | None = Field(default=None, repr=False)
    previous_secret_expires_at: datetime | None = None
    #: Deliveries that died in a row (a delivered one resets it); at the limit the endpoint is disabled.
    consecutive_dead: int = 0
    created_at: datetime
    updated_at: datetime

    def wants(self, event_type: EventType) -> bool:
        return self.enabled and event_type in self.events

    def secrets_at(self, now: datetime) -> list[str]:
        """The secrets to sign with now: the current one, and the previous one during its overlap."""
        expires = self.previous_secret_expires_at
        if self.previous_secret and expires is not None and now < expires:
            return [self.secret, self.previous_secret]
        return [self.secret]


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secrets: list[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={signature(s, timestamp, body)}" for s in secrets)])


def verify(header: str, secret: str, body: bytes, now: int, tolerance_seconds: int = 300) -> bool:
    """What a receiver does (docs/webhooks.md has it standalone): a fresh timestamp and one matching v1."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit() or abs(now - int(stamps[0])) > tolerance_seconds:
        return False
    expected = signature(secret, int(stamps[0]), body)
    return any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    RETRYING = "retrying"
    DEAD = "dead"


class DeliveryJob(BaseModel):
    """The webhooks queue's message: one event for one endpoint."""

    delivery_id: str
    account_id: str
    endpoint_id: str
    event: WebhookEvent
    #: 0 for the first series of tries; each replay of a dead delivery adds one.
    replay: int = 0


def delivery_id(event: WebhookEvent, endpoint_id: str) -> str:
    """Ordered by the event's time (the log lists newest first), the same for a retried fan-out."""
    millis = round(event.created_at.timestamp() * 1000)
    digest = hashlib.sha256(f"{event.id}|{endpoint_id}".encode()).hexdigest()[:16]
    return f"d_{millis:014d}_{digest}"


class Delivery(BaseModel):
    """One event's delivery to one endpoint, as its log shows it (the latest attempt)."""

    id: str
    account_id: str
    endpoint_id: str
    event_id: str
    event_type: EventType
    status: DeliveryStatus
    attempts: int = 0
    response_code: int | None = None
    latency_ms: int | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None
    replay: int = 0
    created_at: datetime
    updated_at: datetime


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    GIVE_UP = "give_up"


def verdict(status_code: int | None) -> Verdict:
    """2xx delivered; no answer (network error, timeout), 5xx, 408 and 429 are tried again; any other
    answer (4xx, a redirect: none is followed) will not change by trying again."""
    if status_code is None or status_code >= 500 or status_code in (408, 429):
        return Verdict.RETRY
    if 200 <= status_code < 300:
        return Verdict.DELIVERED
    return Verdict.GIVE_UP


class RetryPolicy(BaseModel):
    """Exponential backoff with jitter: the wait after try n is between half and all of
    min(cap, base * factor^(n-1)). The defaults try 10 times over about 6 to 9 hours."""

    max_attempts: int = Field(default=10, ge=1, le=20)
    base_seconds: float = Field(default=5.0, gt=0)
    factor: float = Field(default=3.0, ge=1)
    cap_seconds: float = Field(default=4 * 3600.0, gt=0, le=12 * 3600)  # an SQS visibility is at most 12 h

    def ceiling(self, attempt: int) -> float:
        return float(min(self.cap_seconds, self.base_seconds * self.factor ** (attempt - 1)))

    def wait_after(self, attempt: int, rand: float) -> int:
        """Whole seconds to wait after the failed try `attempt` (1-based); `rand` in [0, 1)."""
        ceiling = self.ceiling(attempt)
        return max(1, round(ceiling / 2 + rand * ceiling / 2))

    def total_ceiling(self) -> timedelta:
        return timedelta(seconds=sum(self.ceiling(n) for n in range(1, self.max_attempts)))
