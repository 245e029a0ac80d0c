"""SQS consumer of the events queue: receipts, incoming messages, sender state."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Field, Json

from wacast.batch import consume
from wacast.bootstrap import EventsServices, build_events
from wacast.observability import logger, tracer
from wacast.services.receipts import IncomingEvent, ReceiptEvent, SenderStateEvent
from wacast.settings import EventsSettings

Event = Annotated[ReceiptEvent | IncomingEvent | SenderStateEvent, Field(discriminator="type")]


class EventRecord(SqsRecordModel):
    body: Json[Event]  # type: ignore[assignment]


processor = BatchProcessor(event_type=EventType.SQS, model=EventRecord)


@lru_cache(maxsize=1)
def get_services() -> EventsServices:
    """The events function's root, built at the first record (cold start), never at import."""
    return build_events(EventsSettings.load())


def record_handler(record: EventRecord) -> None:
    events = get_services().events
    event = record.body
    if isinstance(event, ReceiptEvent):
        events.on_receipt(event)
    elif isinstance(event, IncomingEvent):
        events.on_incoming(event)
    else:
        events.on_sender_state(event)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    get_services()  # a deployable that cannot start fails the invocation, not each record
    return consume(event, context, processor=processor, record_handler=record_handler, function="events")
