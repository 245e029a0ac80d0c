"""SQS consumer of the events queue: receipts, incoming messages, sender state."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.batch import EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from wacast.batch import WholeBatchProcessor, consume
from wacast.bootstrap.events import EventsServices, build_events
from wacast.domain.events import HostEvent
from wacast.observability import logger, metrics, tracer
from wacast.settings import EventsSettings


class EventRecord(SqsRecordModel):
    body: Json[HostEvent]  # type: ignore[assignment]


#: The records of a batch are applied together: their receipts grouped by message, one write each.
processor = WholeBatchProcessor(event_type=EventType.SQS, model=EventRecord)


@lru_cache(maxsize=1)
def get_services() -> EventsServices:
    """The events function's root, built at the first record (cold start), never at import."""
    return build_events(EventsSettings.load())


def batch_handler(records: Sequence[EventRecord]) -> list[Exception | None]:
    """Each record's failure (None: applied); Powertools reports the failed ones for a retry."""
    return get_services().events.handle_batch([record.body for record in records])


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    get_services()  # a deployable that cannot start fails the invocation, not each record
    return consume(event, context, processor=processor, record_handler=batch_handler, function="events")
