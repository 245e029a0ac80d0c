"""SQS consumer of the files queue: contact imports and exports between the files bucket and the table.

An import run stops near the function's timeout and queues its own continuation; one that dies is
delivered again and resumes from the last chunk it recorded (services/contact_imports.py).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from wacast.batch import consume
from wacast.bootstrap.files import FilesServices, build_files
from wacast.domain.file_jobs import FileJobMessage, ImportFileJob
from wacast.observability import log_keys, logger, metrics, tracer
from wacast.settings import FilesSettings


class FileJobRecord(SqsRecordModel):
    body: Json[FileJobMessage]  # type: ignore[assignment]


processor = BatchProcessor(event_type=EventType.SQS, model=FileJobRecord)


@lru_cache(maxsize=1)
def get_services() -> FilesServices:
    """The files function's root, built at the first record (cold start), never at import."""
    return build_files(FilesSettings.load())


def record_handler(record: FileJobRecord, lambda_context: Any = None) -> None:
    """Powertools passes `lambda_context` (the time left) to a record handler that names it."""
    services, job = get_services(), record.body
    with log_keys(job_id=job.job_id, account_id=job.account_id):
        if isinstance(job, ImportFileJob):
            services.imports.run(job, time_left=lambda: _seconds_left(lambda_context))
        else:
            services.exports.run(job)


def _seconds_left(context: Any) -> float:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return float(remaining()) / 1000 if callable(remaining) else float("inf")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    get_services()  # a deployable that cannot start fails the invocation, not each record
    return consume(event, context, processor=processor, record_handler=record_handler, function="files")
