"""SQS consumer of the dead-letter queues: settles what could not be delivered, and counts it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from wacast.bootstrap import get_services
from wacast.observability import logger, tracer


class DeadRecord(SqsRecordModel):
    body: Json[dict[str, Any]]  # type: ignore[assignment]


processor = BatchProcessor(event_type=EventType.SQS, model=DeadRecord)


def record_handler(record: DeadRecord) -> None:
    services = get_services()
    queue_name = record.eventSourceARN.rsplit(":", 1)[-1]
    receives = int(record.attributes.ApproximateReceiveCount)
    if queue_name == services.queues.dlqs["outbox"].name:
        services.deadletters.on_dead_outbox(record.body, receives)
    elif queue_name == services.queues.dlqs["campaigns"].name:
        services.deadletters.on_dead_campaign_job(record.body)
    else:
        logger.error("dead-lettered message from an unexpected queue", queue=queue_name, body=record.body)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
