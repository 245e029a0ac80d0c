"""The one way an SQS consumer function processes its batch: Powertools' partial batch response, plus a
metric of the records it handed back (the template alarms on it: a failing record is retried and then
dead-lettered, so without it a consumer can fail for hours while the Lambda Errors metric stays at 0)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from pydantic import ValidationError

from wacast import observability as obs

#: Handles every parsed record of a batch at once; says, per record, the exception that failed it (or None).
BatchHandler = Callable[[Sequence[Any]], Sequence[Exception | None]]


class WholeBatchProcessor(BatchProcessor):
    """A BatchProcessor whose handler gets every record of the batch at once (a `BatchHandler`), for
    consumers whose records are cheaper applied together. Powertools still parses each record with the
    model (a record that does not parse fails alone) and reports the failures the handler returns, one
    per record; if the handler itself raises, every record it was given fails."""

    def process(self) -> list[tuple[Any, ...]]:
        results: list[tuple[Any, ...] | None] = [None] * len(self.records)
        parsed: list[tuple[int, Any]] = []  # (its index, the record as the model parsed it)
        for i, record in enumerate(self.records):
            try:
                parsed.append((i, self._to_batch_type(record=record, event_type=self.event_type, model=self.model)))
            except ValidationError:
                results[i] = self._register_model_validation_error_record(record)
        handle: BatchHandler = self.handler
        try:
            failures = list(handle([data for _, data in parsed]))
            assert len(failures) == len(parsed), "a batch handler answers for each record"
        except Exception as exc:
            failures = [exc] * len(parsed)
        for (i, data), failure in zip(parsed, failures, strict=True):
            if failure is None:
                results[i] = self.success_handler(record=self.records[i], result=None)
            else:
                results[i] = self.failure_handler(
                    record=data, exception=(type(failure), failure, failure.__traceback__)
                )
        return [r for r in results if r is not None]


def consume(
    event: dict[str, Any],
    context: Any,
    *,
    processor: BatchProcessor,
    record_handler: Callable[[Any], None] | BatchHandler,
    function: str,
) -> PartialItemFailureResponse:
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    failed = len(response.get("batchItemFailures", []))
    if failed:
        obs.emit(obs.BATCH_ITEM_FAILURES, failed, Function=function)
    return response
