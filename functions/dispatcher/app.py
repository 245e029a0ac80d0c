"""SQS consumer of the campaigns queue: the paced fan-out of a campaign run, one window per job."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from wacast.batch import consume
from wacast.bootstrap.dispatcher import DispatcherServices, build_dispatcher
from wacast.domain.campaign_jobs import CampaignJob
from wacast.observability import log_keys_from_body, logger, metrics, tracer
from wacast.settings import DispatcherSettings


class JobRecord(SqsRecordModel):
    body: Json[CampaignJob]  # type: ignore[assignment]


processor = BatchProcessor(event_type=EventType.SQS, model=JobRecord)


@lru_cache(maxsize=1)
def get_services() -> DispatcherServices:
    """The dispatcher's root, built at the first record (cold start), never at import."""
    return build_dispatcher(DispatcherSettings.load())


@log_keys_from_body("campaign_id")
def record_handler(record: JobRecord) -> None:
    get_services().jobs.run(record.body, int(record.attributes.ApproximateReceiveCount))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    get_services()  # a deployable that cannot start fails the invocation, not each record
    return consume(event, context, processor=processor, record_handler=record_handler, function="dispatcher")
