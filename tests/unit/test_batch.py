"""wacast.batch: the partial batch response of the SQS consumers (what Powertools' batch utility did)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Json

from wacast import observability as obs
from wacast.batch import BatchProcessingError, BatchProcessor, SqsRecord, WholeBatchProcessor, consume

EVENTS = Path(__file__).resolve().parents[2] / "events"


class Body(BaseModel):
    n: int


class NumberRecord(SqsRecord):
    body: Json[Body]  # type: ignore[assignment]


def event(*bodies: str) -> dict[str, Any]:
    template = json.loads((EVENTS / "sqs_receipt.json").read_text())["Records"][0]
    return {"Records": [{**template, "messageId": f"m{i}", "body": body} for i, body in enumerate(bodies)]}


@pytest.fixture
def points() -> Any:
    sink = obs.MemorySink()
    obs.set_metrics_sink(sink)
    yield sink
    obs.set_metrics_sink(None)


def test_a_record_that_fails_to_parse_or_to_be_handled_fails_alone_by_its_message_id(points: obs.MemorySink) -> None:
    handled: list[int] = []

    def handle(record: NumberRecord) -> None:
        if record.body.n == 13:
            raise RuntimeError("unlucky")
        handled.append(record.body.n)

    batch = event('{"n": 1}', "not json", '{"n": 13}', '{"n": 2}')
    response = consume(batch, None, processor=BatchProcessor(NumberRecord), record_handler=handle, function="t")
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}
    assert handled == [1, 2]
    assert points.total(obs.BATCH_ITEM_FAILURES, Function="t") == 2


def test_a_batch_whose_every_record_failed_fails_the_invocation_unless_told_otherwise(points: obs.MemorySink) -> None:
    def handle(record: NumberRecord) -> None:
        raise RuntimeError(f"no {record.body.n}")

    batch = event('{"n": 1}', "{}")
    with pytest.raises(BatchProcessingError, match="All records failed") as failed:
        consume(batch, None, processor=BatchProcessor(NumberRecord), record_handler=handle, function="t")
    assert len(failed.value.child_exceptions) == 2 and "no 1" in str(failed.value)
    assert points.total(obs.BATCH_ITEM_FAILURES) == 0  # the invocation failed: the whole batch is retried
    lenient = BatchProcessor(NumberRecord, raise_on_entire_batch_failure=False)
    response = consume(batch, None, processor=lenient, record_handler=handle, function="t")
    assert response == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}


def test_an_empty_batch_and_a_clean_one_report_no_failure(points: obs.MemorySink) -> None:
    processor = BatchProcessor(NumberRecord)
    assert consume({"Records": []}, None, processor=processor, record_handler=lambda record: None, function="t") == {
        "batchItemFailures": []
    }
    assert consume(event('{"n": 1}'), None, processor=processor, record_handler=lambda record: None, function="t") == {
        "batchItemFailures": []
    }
    assert points.points == []


def test_the_lambda_context_goes_to_a_record_handler_that_names_it() -> None:
    seen: list[Any] = []

    def handle(record: NumberRecord, lambda_context: Any = None) -> None:
        seen.append(lambda_context)

    context = object()
    consume(event('{"n": 1}'), context, processor=BatchProcessor(NumberRecord), record_handler=handle, function="t")
    consume(event('{"n": 1}'), None, processor=BatchProcessor(NumberRecord), record_handler=handle, function="t")
    assert seen == [context, None]


def test_a_whole_batch_handler_gets_the_parsed_records_and_answers_for_each() -> None:
    given: list[int] = []

    def handle(records: Sequence[NumberRecord]) -> list[Exception | None]:
        given.extend(r.body.n for r in records)
        return [ValueError("odd") if r.body.n % 2 else None for r in records]

    batch = event('{"n": 1}', "[]", '{"n": 2}')
    response = consume(batch, None, processor=WholeBatchProcessor(NumberRecord), record_handler=handle, function="t")
    assert given == [1, 2]
    assert response == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}

    def crash(records: Sequence[NumberRecord]) -> list[Exception | None]:
        raise RuntimeError("down")

    lenient = WholeBatchProcessor(NumberRecord, raise_on_entire_batch_failure=False)
    response = consume(event('{"n": 2}', '{"n": 4}'), None, processor=lenient, record_handler=crash, function="t")
    assert response == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}


def test_the_record_model_reads_every_sqs_fixture_as_powertools_did() -> None:
    for fixture in sorted(EVENTS.glob("sqs_*.json")):
        for record in json.loads(fixture.read_text())["Records"]:
            parsed = SqsRecord.model_validate(record)
            assert parsed.messageId == record["messageId"] and int(parsed.attributes.ApproximateReceiveCount) >= 1
    with pytest.raises(ValueError):
        SqsRecord.model_validate(
            {**json.loads((EVENTS / "sqs_receipt.json").read_text())["Records"][0], "attributes": {}}
        )
