"""SQS consumer of the events queue: receipts, incoming messages, sender state."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from wacast.batch import consume
from wacast.bootstrap import EventsServices, build_events
from wacast.domain.events import HostEvent
from wacast.observability import log_keys_from_body, logger, metrics, tracer
from wacast.settings import EventsSettings


class EventRecord(SqsRecordModel):
    body: Json[HostEvent]  # type: ignore[assignment]


processor = BatchProcessor(event_type=EventType.SQS, model=EventRecord)


@lru_cache(maxsize=1)
def get_services() -> EventsServices:
    """The events function's root, built at the first record (cold start), never at import."""
    return build_events(EventsSettings.load())


@log_keys_from_body("account_id", "sender_id", "provider_message_ids")
def record_handler(record: EventRecord) -> None:
    get_services().events.handle(record.body)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    get_services()  # a deployable that cannot start fails the invocation, not each record
    return consume(event, context, processor=processor, record_handler=record_handler, function="events")
