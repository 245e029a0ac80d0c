"""The webhooks function's root: the table's changes in (fan-out to the webhooks queue), signed deliveries
out (httpx, through the address guard). It reads no secret of the stack; it signs with the endpoints' own."""

from __future__ import annotations

from dataclasses import dataclass

from wacast.adapters.address_guard import AddressGuard
from wacast.adapters.aws import client
from wacast.adapters.clock import SystemClock
from wacast.adapters.dynamo.webhooks import DynamoDeliveryLog, DynamoWebhookEndpoints
from wacast.adapters.sqs import SqsQueue
from wacast.bootstrap.shared import bind
from wacast.domain.webhooks import RetryPolicy
from wacast.ports import Clock, Queue, WebhookTransport
from wacast.services.webhook_delivery import WebhookDelivery, WebhookFanout
from wacast.settings import WebhookSafety, WebhooksSettings


@dataclass
class WebhooksServices:
    settings: WebhooksSettings
    queue: Queue
    fanout: WebhookFanout
    delivery: WebhookDelivery


def address_guard(settings: WebhookSafety) -> AddressGuard:
    return AddressGuard(allow_http=settings.webhook_allow_http, allow_loopback=settings.webhook_allow_loopback)


def retry_policy(settings: WebhooksSettings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.webhook_max_attempts,
        base_seconds=settings.webhook_backoff_base_seconds,
        factor=settings.webhook_backoff_factor,
        cap_seconds=settings.webhook_backoff_cap_seconds,
    )


def build_webhooks(
    settings: WebhooksSettings, *, clock: Clock | None = None, transport: WebhookTransport | None = None
) -> WebhooksServices:
    bind(settings)
    clock = clock or SystemClock()
    queue = SqsQueue(settings.webhooks_queue_url, client("sqs", settings.region))
    endpoints = DynamoWebhookEndpoints()
    if transport is None:
        from wacast.adapters.webhook_http import HttpxWebhookTransport  # httpx: built at cold start, not imported

        transport = HttpxWebhookTransport(
            address_guard(settings),
            timeout_seconds=settings.webhook_timeout_seconds,
            max_response_bytes=settings.webhook_max_response_bytes,
        )
    delivery = WebhookDelivery(
        endpoints,
        DynamoDeliveryLog(),
        transport,
        queue,
        clock,
        retry_policy(settings),
        disable_after_dead=settings.webhook_disable_after_dead,
    )
    fanout = WebhookFanout(endpoints, queue, clock, settings.webhook_endpoint_cache_seconds)
    return WebhooksServices(settings, queue, fanout, delivery)
