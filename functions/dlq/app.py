"""SQS consumer of the dead-letter queues: settles what could not be delivered, and counts it."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from wacast.batch import consume
from wacast.bootstrap import DlqServices, build_dlq
from wacast.observability import logger, tracer
from wacast.settings import DlqSettings


class DeadRecord(SqsRecordModel):
    body: Json[dict[str, Any]]  # type: ignore[assignment]


processor = BatchProcessor(event_type=EventType.SQS, model=DeadRecord)


@lru_cache(maxsize=1)
def get_services() -> DlqServices:
    """The dlq function's root, built at the first record (cold start), never at import."""
    return build_dlq(DlqSettings.load())


def record_handler(record: DeadRecord) -> None:
    services = get_services()
    source, settings = record.eventSourceARN, services.settings
    receives = int(record.attributes.ApproximateReceiveCount)
    if source == settings.outbox_dlq_arn:
        services.deadletters.on_dead_outbox(record.body, receives)
    elif source == settings.campaigns_dlq_arn:
        services.deadletters.on_dead_campaign_job(record.body)
    else:
        logger.error("dead-lettered message from an unexpected queue", queue=source, body=record.body)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    get_services()  # a deployable that cannot start fails the invocation, not each record
    return consume(event, context, processor=processor, record_handler=record_handler, function="dlq")
