"""The one way an SQS consumer function processes its batch: a partial batch response (the records that
failed go back to the queue, to be retried and then dead-lettered; the others are deleted), plus a metric
of the records it handed back (the template alarms on it: a failing record is retried and then
dead-lettered, so without it a consumer can fail for hours while the Lambda Errors metric stays at 0).

This is the SQS path of Powertools' batch utility, the only one these functions use, with its behaviour:
each record is parsed with the function's model (`SqsRecord` and its subclasses, Powertools' SQS record
model field for field); a record that does not parse, or whose handler raises, fails alone and is
reported by its message id; when every record of a batch failed, the invocation raises
`BatchProcessingError` (the whole batch is retried) unless the processor says otherwise. Importing
Powertools' utility cost every consumer's cold start ~50 ms: its package loads all its processors, a
data class for every event source, and the parser package for the model.
"""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ValidationError

from wacast import observability as obs


class SqsAttributes(BaseModel):
    """An SQS record's system attributes (Powertools' `SqsAttributesModel`)."""

    ApproximateReceiveCount: str
    ApproximateFirstReceiveTimestamp: datetime
    MessageDeduplicationId: str | None = None
    MessageGroupId: str | None = None
    SenderId: str
    SentTimestamp: datetime
    SequenceNumber: str | None = None
    AWSTraceHeader: str | None = None
    DeadLetterQueueSourceArn: str | None = None


class SqsMessageAttribute(BaseModel):
    """One message attribute of an SQS record (Powertools' `SqsMsgAttributeModel`)."""

    stringValue: str | None = None
    binaryValue: str | None = None
    stringListValues: list[str] = []
    binaryListValues: list[str] = []
    dataType: str


class SqsRecord(BaseModel):
    """One record of an SQS event (Powertools' `SqsRecordModel`); a consumer's model narrows `body`."""

    messageId: str
    receiptHandle: str
    body: str
    attributes: SqsAttributes
    messageAttributes: dict[str, SqsMessageAttribute]
    md5OfBody: str
    md5OfMessageAttributes: str | None = None
    eventSource: Literal["aws:sqs"]
    eventSourceARN: str
    awsRegion: str


class PartialItemFailure(TypedDict):
    itemIdentifier: str


class PartialItemFailureResponse(TypedDict):
    batchItemFailures: list[PartialItemFailure]


class BatchProcessingError(Exception):
    """Every record of the batch failed: the invocation fails, and the whole batch is retried."""

    def __init__(self, msg: str, child_exceptions: Sequence[BaseException]) -> None:
        super().__init__(msg)
        self.child_exceptions = list(child_exceptions)

    def __str__(self) -> str:
        details = ["".join(traceback.format_exception(exc)) for exc in self.child_exceptions]
        return "\n".join([super().__str__(), *details])


#: Handles every parsed record of a batch at once; says, per record, the exception that failed it (or None).
BatchHandler = Callable[[Sequence[Any]], Sequence[Exception | None]]


class BatchProcessor:
    """Each record parsed with `model`, then handed to the record handler alone (with `lambda_context` too
    when the handler names that parameter)."""

    def __init__(self, model: type[SqsRecord], *, raise_on_entire_batch_failure: bool = True) -> None:
        self.model = model
        self.raise_on_entire_batch_failure = raise_on_entire_batch_failure

    def failures(
        self, records: Sequence[dict[str, Any]], handler: Callable[..., Any], context: Any
    ) -> list[Exception | None]:
        """Each record's failure, or None: handled."""
        with_context = context is not None and "lambda_context" in inspect.signature(handler).parameters
        failures: list[Exception | None] = []
        for record in records:
            try:
                data = self.model.model_validate(record)
                if with_context:
                    handler(record=data, lambda_context=context)
                else:
                    handler(record=data)
                failures.append(None)
            except Exception as exc:
                failures.append(exc)
        return failures


class WholeBatchProcessor(BatchProcessor):
    """A processor whose handler gets every record of the batch at once (a `BatchHandler`), for consumers
    whose records are cheaper applied together. Each record is still parsed with the model (a record that
    does not parse fails alone), and the handler says which of the others failed; if the handler itself
    raises, every record it was given fails."""

    def failures(
        self, records: Sequence[dict[str, Any]], handler: Callable[..., Any], context: Any
    ) -> list[Exception | None]:
        failures: list[Exception | None] = [None] * len(records)
        parsed: list[tuple[int, SqsRecord]] = []  # (its index, the record as the model parsed it)
        for i, record in enumerate(records):
            try:
                parsed.append((i, self.model.model_validate(record)))
            except ValidationError as exc:
                failures[i] = exc
        handle: BatchHandler = handler
        try:
            answers = list(handle([data for _, data in parsed]))
            assert len(answers) == len(parsed), "a batch handler answers for each record"
        except Exception as exc:
            answers = [exc] * len(parsed)
        for (i, _), failure in zip(parsed, answers, strict=True):
            failures[i] = failure
        return failures


def consume(
    event: dict[str, Any],
    context: Any,
    *,
    processor: BatchProcessor,
    record_handler: Callable[[Any], None] | BatchHandler,
    function: str,
) -> PartialItemFailureResponse:
    """Process an SQS event's records: the partial batch response Lambda expects, and the metric."""
    records: list[dict[str, Any]] = event["Records"]
    failures = processor.failures(records, record_handler, context)
    failed = [(record, exc) for record, exc in zip(records, failures, strict=True) if exc is not None]
    if failed and len(failed) == len(records) and processor.raise_on_entire_batch_failure:
        raise BatchProcessingError(
            f"All records failed processing. {len(failed)} individual errors logged separately below.",
            [exc for _, exc in failed],
        )
    response: PartialItemFailureResponse = {
        "batchItemFailures": [{"itemIdentifier": str(record["messageId"])} for record, _ in failed]
    }
    if failed:
        obs.emit(obs.BATCH_ITEM_FAILURES, len(failed), Function=function)
    return response
