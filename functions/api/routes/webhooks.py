"""Webhook endpoints: register (the secret is shown once), list, change, enable/disable, rotate the secret
with an overlap, delete; each endpoint's delivery log, a test event, and the replay of a dead delivery."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from routes.deps import PrincipalDep, ServicesDep
from routes.errors import ERRORS
from wacast.domain.webhooks import Delivery, EventType, WebhookEndpoint

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"], responses=ERRORS)

EndpointId = Annotated[str, Path(max_length=64)]
Url = Annotated[str, Field(min_length=8, max_length=2048, examples=["https://example.com/hooks/wacast"])]
Events = Annotated[list[EventType], Field(min_length=1, max_length=len(EventType))]


class EndpointIn(BaseModel):
    url: Url
    events: Events
    description: str = Field(default="", max_length=200)


class EndpointPatch(BaseModel):
    """Only what is sent changes. `enabled: true` on a disabled endpoint clears its reason."""

    model_config = ConfigDict(extra="forbid")
    url: Url | None = None
    events: Events | None = None
    description: str | None = Field(default=None, max_length=200)
    enabled: bool | None = None


class RotateIn(BaseModel):
    overlap_seconds: int = Field(
        default=86400, ge=0, le=7 * 86400, description="how long the old secret still signs, beside the new one"
    )


class EndpointOut(BaseModel):
    id: str
    url: str
    events: list[EventType]
    description: str
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    previous_secret_expires_at: datetime | None = Field(description="the end of a rotation's overlap")
    consecutive_dead: int
    created_at: datetime
    updated_at: datetime


class EndpointWithSecret(EndpointOut):
    secret: str = Field(description="shown this once: keep it to verify the Wacast-Signature header")


class DeliveryPage(BaseModel):
    items: list[Delivery]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null at the end")


def endpoint_out(endpoint: WebhookEndpoint) -> EndpointOut:
    return EndpointOut.model_validate(endpoint, from_attributes=True)


def with_secret(endpoint: WebhookEndpoint, secret: str) -> EndpointWithSecret:
    return EndpointWithSecret(**endpoint_out(endpoint).model_dump(), secret=secret)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_endpoint(body: EndpointIn, principal: PrincipalDep, services: ServicesDep) -> EndpointWithSecret:
    """Register an endpoint (at most 10 per account): an https URL whose host is a public address. The
    secret is in this answer only."""
    made = services.webhooks.create(principal, body.url, body.events, body.description)
    return with_secret(made.endpoint, made.secret)


@router.get("")
def list_endpoints(principal: PrincipalDep, services: ServicesDep) -> list[EndpointOut]:
    return [endpoint_out(e) for e in services.webhooks.all(principal)]


@router.get("/{endpoint_id}")
def get_endpoint(endpoint_id: EndpointId, principal: PrincipalDep, services: ServicesDep) -> EndpointOut:
    return endpoint_out(services.webhooks.get(principal, endpoint_id))


@router.patch("/{endpoint_id}")
def update_endpoint(
    endpoint_id: EndpointId, body: EndpointPatch, principal: PrincipalDep, services: ServicesDep
) -> EndpointOut:
    changed = services.webhooks.update(
        principal, endpoint_id, url=body.url, events=body.events, description=body.description, enabled=body.enabled
    )
    return endpoint_out(changed)


@router.delete("/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_endpoint(endpoint_id: EndpointId, principal: PrincipalDep, services: ServicesDep) -> None:
    services.webhooks.delete(principal, endpoint_id)


@router.post("/{endpoint_id}/rotate-secret")
def rotate_secret(
    endpoint_id: EndpointId, body: RotateIn, principal: PrincipalDep, services: ServicesDep
) -> EndpointWithSecret:
    """A new secret (shown once); deliveries carry a signature with each secret until the overlap ends."""
    made = services.webhooks.rotate_secret(principal, endpoint_id, timedelta(seconds=body.overlap_seconds))
    return with_secret(made.endpoint, made.secret)


@router.get("/{endpoint_id}/deliveries")
def deliveries(
    endpoint_id: EndpointId,
    principal: PrincipalDep,
    services: ServicesDep,
    cursor: Annotated[str | None, Query(max_length=256)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> DeliveryPage:
    """The endpoint's deliveries, newest first: status, response code, latency, attempts, next try."""
    items, next_cursor = services.webhooks.deliveries(principal, endpoint_id, cursor, limit)
    return DeliveryPage(items=items, next_cursor=next_cursor)


@router.post("/{endpoint_id}/test", status_code=status.HTTP_202_ACCEPTED)
def send_test(endpoint_id: EndpointId, principal: PrincipalDep, services: ServicesDep) -> Delivery:
    """Queue a `webhook.test` event for this endpoint; its delivery shows in the log."""
    return services.webhooks.send_test(principal, endpoint_id)


@router.post("/{endpoint_id}/deliveries/{delivery_id}/replay", status_code=status.HTTP_202_ACCEPTED)
def replay(
    endpoint_id: EndpointId,
    delivery_id: Annotated[str, Path(max_length=64)],
    principal: PrincipalDep,
    services: ServicesDep,
) -> Delivery:
    """Try a dead delivery again, from its first try (same event id)."""
    return services.webhooks.replay(principal, endpoint_id, delivery_id)
