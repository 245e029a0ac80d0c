"""SQS consumer of the events queue: receipts, incoming messages, sender state."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Field, Json

from wacast.bootstrap import get_services
from wacast.observability import logger, tracer
from wacast.services.receipts import IncomingEvent, ReceiptEvent, SenderStateEvent

Event = Annotated[ReceiptEvent | IncomingEvent | SenderStateEvent, Field(discriminator="type")]


class EventRecord(SqsRecordModel):
    body: Json[Event]  # type: ignore[assignment]


processor = BatchProcessor(event_type=EventType.SQS, model=EventRecord)


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
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
