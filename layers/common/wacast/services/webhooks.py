"""Webhook endpoints for the API: register (the secret is shown once), list, change, enable and disable,
rotate the secret with an overlap, delete; each endpoint's delivery log, a test event, and the replay of a
dead delivery. Owners and admins manage endpoints; members may look."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from wacast.domain.accounts import Principal
from wacast.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from wacast.domain.webhooks import (
    MAX_ENDPOINTS,
    SUBSCRIBABLE,
    Delivery,
    DeliveryJob,
    DeliveryStatus,
    EventType,
    WebhookEndpoint,
    WebhookEvent,
    delivery_id,
    event_id,
)
from wacast.ports import Clock, DeliveryLog, Queue, UrlGuard, WebhookEndpointRepository

MAX_OVERLAP = timedelta(days=7)


@dataclass(frozen=True)
class WithSecret:
    """An endpoint and its new secret: the one time the secret is shown."""

    endpoint: WebhookEndpoint
    secret: str


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookService:
    """The account's webhook endpoints and their deliveries."""

    def __init__(
        self,
        endpoints: WebhookEndpointRepository,
        log: DeliveryLog,
        queue: Queue,
        guard: UrlGuard,
        clock: Clock,
    ) -> None:
        self.endpoints = endpoints
        self.log = log
        self.queue = queue
        self.guard = guard
        self.clock = clock

    def create(self, principal: Principal, url: str, events: Sequence[EventType], description: str = "") -> WithSecret:
        _require_manager(principal)
        self.guard.check(url)
        wanted = _events(events)
        if len(self.endpoints.list_for_account(principal.account_id)) >= MAX_ENDPOINTS:
            raise Conflict(f"an account has at most {MAX_ENDPOINTS} endpoints: delete one first")
        now, secret = self.clock.now(), new_secret()
        endpoint = WebhookEndpoint(
            id=f"wh_{uuid.uuid4().hex[:20]}",
            account_id=principal.account_id,
            url=url,
            events=wanted,
            description=description,
            secret=secret,
            created_at=now,
            updated_at=now,
        )
        self.endpoints.create(endpoint)
        return WithSecret(endpoint, secret)

    def all(self, principal: Principal) -> list[WebhookEndpoint]:
        return sorted(self.endpoints.list_for_account(principal.account_id), key=lambda e: e.created_at)

    def get(self, principal: Principal, endpoint_id: str) -> WebhookEndpoint:
        endpoint = self.endpoints.get(principal.account_id, endpoint_id)
        if endpoint is None:
            raise NotFound("no such webhook endpoint", details={"endpoint_id": endpoint_id})
        return endpoint

    def update(
        self,
        principal: Principal,
        endpoint_id: str,
        *,
        url: str | None = None,
        events: Sequence[EventType] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
    ) -> WebhookEndpoint:
        """Change what is given. Enabling a disabled endpoint clears its reason and its count of dead deliveries."""
        _require_manager(principal)
        endpoint = self.get(principal, endpoint_id)
        changes: dict[str, object] = {"updated_at": self.clock.now()}
        if url is not None:
            self.guard.check(url)
            changes["url"] = url
        if events is not None:
            changes["events"] = _events(events)
        if description is not None:
            changes["description"] = description
        if enabled is True and not endpoint.enabled:
            changes.update(enabled=True, disabled_reason=None, disabled_at=None, consecutive_dead=0)
        elif enabled is False and endpoint.enabled:
            changes.update(enabled=False, disabled_reason="disabled by a user", disabled_at=self.clock.now())
        updated = endpoint.model_copy(update=changes)
        self.endpoints.save(updated)
        return updated

    def rotate_secret(self, principal: Principal, endpoint_id: str, overlap: timedelta) -> WithSecret:
        """A new secret; the old one keeps signing (beside the new) for `overlap`, so receivers can switch."""
        _require_manager(principal)
        if overlap < timedelta(0) or overlap > MAX_OVERLAP:
            raise ValidationFailed("the overlap is between 0 and 7 days", field="overlap_seconds")
        endpoint = self.get(principal, endpoint_id)
        now, secret = self.clock.now(), new_secret()
        rotated = endpoint.model_copy(
            update={
                "secret": secret,
                "previous_secret": endpoint.secret if overlap else None,
                "previous_secret_expires_at": now + overlap if overlap else None,
                "updated_at": now,
            }
        )
        self.endpoints.save(rotated)
        return WithSecret(rotated, secret)

    def delete(self, principal: Principal, endpoint_id: str) -> None:
        _require_manager(principal)
        if not self.endpoints.delete(principal.account_id, endpoint_id):
            raise NotFound("no such webhook endpoint", details={"endpoint_id": endpoint_id})

    def deliveries(
        self, principal: Principal, endpoint_id: str, cursor: str | None, limit: int
    ) -> tuple[list[Delivery], str | None]:
        self.get(principal, endpoint_id)
        return self.log.page(endpoint_id, cursor=cursor, limit=limit)

    def send_test(self, principal: Principal, endpoint_id: str) -> Delivery:
        """Queue a `webhook.test` event for this endpoint alone (sent even while it is disabled)."""
        _require_manager(principal)
        endpoint = self.get(principal, endpoint_id)
        now = self.clock.now()
        event = WebhookEvent(
            id=event_id(EventType.WEBHOOK_TEST, endpoint.id, uuid.uuid4().hex),
            type=EventType.WEBHOOK_TEST,
            account_id=principal.account_id,
            created_at=now,
            data={"endpoint_id": endpoint.id, "message": "a test event from wacast"},
        )
        job = DeliveryJob(
            delivery_id=delivery_id(event, endpoint.id),
            account_id=principal.account_id,
            endpoint_id=endpoint.id,
            event=event,
        )
        return self._queue(job, now)

    def replay(self, principal: Principal, endpoint_id: str, delivery_id_: str) -> Delivery:
        """Try a dead delivery again from its first try (same event id, so receivers still deduplicate)."""
        _require_manager(principal)
        endpoint = self.get(principal, endpoint_id)
        if not endpoint.enabled:
            raise Conflict("enable the endpoint before replaying to it", details={"endpoint_id": endpoint_id})
        delivery = self.log.get(endpoint_id, delivery_id_)
        if delivery is None:
            raise NotFound("no such delivery", details={"delivery_id": delivery_id_})
        if delivery.status is not DeliveryStatus.DEAD:
            raise Conflict("only a dead delivery can be replayed", details={"status": delivery.status.value})
        event = self._event_of(delivery)
        job = DeliveryJob(
            delivery_id=delivery.id,
            account_id=principal.account_id,
            endpoint_id=endpoint_id,
            event=event,
            replay=delivery.replay + 1,
        )
        return self._queue(job, self.clock.now(), replay=delivery)

    def _event_of(self, delivery: Delivery) -> WebhookEvent:
        event = self.log.event_of(delivery.endpoint_id, delivery.id)
        if event is None:
            raise Conflict("the event of this delivery is no longer kept", details={"delivery_id": delivery.id})
        return event

    def _queue(self, job: DeliveryJob, now: datetime, replay: Delivery | None = None) -> Delivery:
        pending = Delivery(
            id=job.delivery_id,
            account_id=job.account_id,
            endpoint_id=job.endpoint_id,
            event_id=job.event.id,
            event_type=job.event.type,
            status=DeliveryStatus.PENDING,
            replay=job.replay,
            created_at=replay.created_at if replay else job.event.created_at,
            updated_at=now,
        )
        self.log.record(pending, job.event)
        self.queue.send(job.model_dump(mode="json"))
        return pending


def _events(events: Sequence[EventType]) -> list[EventType]:
    wanted = sorted(set(events), key=list(EventType).index)
    if not wanted:
        raise ValidationFailed("name at least one event", field="events")
    if any(e not in SUBSCRIBABLE for e in wanted):
        raise ValidationFailed("webhook.test is sent on request, not subscribed to", field="events")
    return wanted


def _require_manager(principal: Principal) -> None:
    if not principal.can_manage:
        raise Forbidden("only owners and admins manage webhooks")
