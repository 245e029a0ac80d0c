"""SQS consumer of the dead-letter queues: settles what could not be delivered, and counts it.

A body is read by the model of the queue it was dead-lettered from. One that no model reads names
nothing this function could settle: it is logged, whole, and dropped (the DLQ alarm has counted it)
rather than retried here for the DLQ's 14 days.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import ValidationError

from wacast.batch import consume
from wacast.bootstrap.dlq import DlqServices, build_dlq
from wacast.domain.campaign_jobs import CAMPAIGN_JOB, CampaignJob
from wacast.domain.outbox import OutboxMessage
from wacast.observability import log_keys_from_body, logger, metrics, tracer
from wacast.settings import DlqSettings


class DeadRecord(SqsRecordModel):
    body: str  # read by the model of the queue it was dead-lettered from (see `read`)


processor = BatchProcessor(event_type=EventType.SQS, model=DeadRecord)


@lru_cache(maxsize=1)
def get_services() -> DlqServices:
    """The dlq function's root, built at the first record (cold start), never at import."""
    return build_dlq(DlqSettings.load())


@log_keys_from_body("message_id", "campaign_id")
def record_handler(record: DeadRecord) -> None:
    services = get_services()
    source, settings = record.eventSourceARN, services.settings
    if source not in (settings.outbox_dlq_arn, settings.campaigns_dlq_arn):
        logger.error("dead-lettered message from an unexpected queue", queue=source, body=record.body)
        return
    body = read(record, outbox=source == settings.outbox_dlq_arn)
    if isinstance(body, OutboxMessage):
        services.deadletters.on_dead_outbox(body, int(record.attributes.ApproximateReceiveCount))
    elif body is not None:
        services.deadletters.on_dead_campaign_job(body)


def read(record: DeadRecord, *, outbox: bool) -> OutboxMessage | CampaignJob | None:
    """The body, read by its queue's model; None (logged) when that model cannot read it."""
    try:
        return OutboxMessage.model_validate_json(record.body) if outbox else CAMPAIGN_JOB.validate_json(record.body)
    except ValidationError as exc:
        logger.error("dead-lettered message its model cannot read; dropped", body=record.body, error=str(exc))
        return None


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    get_services()  # a deployable that cannot start fails the invocation, not each record
    return consume(event, context, processor=processor, record_handler=record_handler, function="dlq")
