"""The webhooks function, with two event sources:
- the table's stream (only the changes that are events, by the mapping's filters): each record's events
  become delivery jobs on the webhooks queue (services/webhook_delivery.py `WebhookFanout`). Like the
  counters mapping, a failed batch is retried whole; a job queued twice has the same event id, which
  receivers deduplicate on;
- the webhooks queue: each job is tried once per receive; a job to retry stays on the queue, invisible for
  the backoff's wait (partial batch response).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.batch import EventType
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from wacast.batch import WholeBatchProcessor, consume
from wacast.bootstrap.webhooks import WebhooksServices, build_webhooks
from wacast.domain.webhooks import DeliveryJob
from wacast.observability import logger, metrics, tracer
from wacast.ports import QueueMessage
from wacast.settings import WebhooksSettings


class JobRecord(SqsRecordModel):
    body: Json[DeliveryJob]  # type: ignore[assignment]


#: A batch whose every job is to be retried is normal (an endpoint is down): not an invocation error.
processor = WholeBatchProcessor(event_type=EventType.SQS, model=JobRecord, raise_on_entire_batch_failure=False)


@lru_cache(maxsize=1)
def get_services() -> WebhooksServices:
    """The webhooks function's root, built at the first batch (cold start), never at import."""
    return build_webhooks(WebhooksSettings.load())


def deliver_batch(records: Sequence[JobRecord]) -> list[Exception | None]:
    items = [
        (r.body, int(r.attributes.ApproximateReceiveCount), QueueMessage({}, r.receiptHandle, r.messageId))
        for r in records
    ]
    return get_services().delivery.attempt_batch(items)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    services = get_services()  # a deployable that cannot start fails the invocation
    records = event.get("Records") or []
    if records and records[0].get("eventSource") == "aws:dynamodb":
        services.fanout.publish_changes(records)
        return {}
    return dict(consume(event, context, processor=processor, record_handler=deliver_batch, function="webhooks"))
