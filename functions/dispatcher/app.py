"""SQS consumer of the campaigns queue: the paced fan-out of a campaign run, one window per job."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import Json

from wacast.batch import BatchProcessor, PartialItemFailureResponse, SqsRecord, consume
from wacast.bootstrap.dispatcher import DispatcherServices, build_dispatcher
from wacast.domain.campaign_jobs import CampaignJob
from wacast.observability import log_keys_from_body, logger, metrics, tracer
from wacast.settings import DispatcherSettings


class JobRecord(SqsRecord):
    body: Json[CampaignJob]  # type: ignore[assignment]


processor = BatchProcessor(JobRecord)


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
