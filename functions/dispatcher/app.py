"""SQS consumer of the campaigns queue: the paced fan-out of a campaign run, one window per job."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from wacast.bootstrap import get_services
from wacast.domain.campaigns import DispatchJob
from wacast.observability import logger, tracer


class JobRecord(SqsRecordModel):
    body: Json[DispatchJob]  # type: ignore[assignment]


processor = BatchProcessor(event_type=EventType.SQS, model=JobRecord)


def record_handler(record: JobRecord) -> None:
    services, job = get_services(), record.body
    if job.type == "fire":
        services.schedules.fire(job)
    else:
        services.dispatch.handle(job, int(record.attributes.ApproximateReceiveCount))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
