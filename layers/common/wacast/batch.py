"""The one way an SQS consumer function processes its batch: Powertools' partial batch response, plus a
metric of the records it handed back (the template alarms on it: a failing record is retried and then
dead-lettered, so without it a consumer can fail for hours while the Lambda Errors metric stays at 0)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

from wacast import observability as obs


def consume(
    event: dict[str, Any],
    context: Any,
    *,
    processor: BatchProcessor,
    record_handler: Callable[[Any], None],
    function: str,
) -> PartialItemFailureResponse:
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    failed = len(response.get("batchItemFailures", []))
    if failed:
        obs.emit(obs.BATCH_ITEM_FAILURES, failed, Function=function)
    return response
