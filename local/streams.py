"""Plays Lambda's event-source mapping of a DynamoDB stream: reads every shard in order, keeps the records
that match the mapping's filter patterns, and calls the real handler with a real stream event (batch size
and batching window as the template says). A batch whose invocation fails is retried, unchanged, until it
succeeds (MaximumRetryAttempts -1): a shard never moves past a failed batch.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from local.lambda_runtime import Handler, LambdaContext
from wacast.observability import logger

RETRY_SECONDS = 1.0


def matches(pattern: Any, value: Any) -> bool:
    """Lambda's filter syntax, the part the template uses: nested objects, lists of exact values, and
    {"prefix": ...}. A record matches when every key of the pattern matches."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and matches(p, value[k]) for k, p in pattern.items())
    if isinstance(pattern, list):
        return any(
            isinstance(v, str) and isinstance(option, dict) and v.startswith(option.get("prefix", "\\0"))
            if isinstance(option, dict)
            else v == option
            for option in pattern
            for v in [value]
        )
    return bool(pattern == value)


def stream_event(records: list[dict[str, Any]], stream_arn: str, region: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventID": r["eventID"],
                "eventName": r["eventName"],
                "eventVersion": r.get("eventVersion", "1.1"),
                "eventSource": "aws:dynamodb",
                "awsRegion": region,
                "dynamodb": r["dynamodb"],
                "eventSourceARN": stream_arn,
            }
            for r in records
        ]
    }


class StreamPoller:
    """One DynamoDB-stream event-source mapping: a thread per poller, every shard of the stream."""

    def __init__(
        self,
        streams: Any,
        stream_arn: str,
        handler: Handler,
        function_name: str,
        *,
        batch_size: int,
        batching_window: int,
        filters: tuple[str, ...],
        timeout_seconds: int,
        region: str,
        wait_seconds: float = 0.5,
    ) -> None:
        self.streams = streams
        self.stream_arn = stream_arn
        self.handler = handler
        self.function_name = function_name
        self.batch_size = batch_size
        self.batching_window = batching_window
        self.filters = [json.loads(f) for f in filters]
        self.timeout_seconds = timeout_seconds
        self.region = region
        self.wait_seconds = wait_seconds
        self.invocations = 0
        self._iterators: dict[str, str | None] = {}  # shard -> next iterator (None: closed and done)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"stream-{function_name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.timeout_seconds + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.poll_once():
                    self._stop.wait(self.wait_seconds)
            except Exception:
                logger.exception("stream poller failed; retrying", function=self.function_name)
                self._stop.wait(RETRY_SECONDS)

    def poll_once(self) -> int:
        """Read each shard once and deliver its batch. Returns how many records were delivered."""
        delivered = 0
        for shard in self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            delivered += self._deliver(shard_id)
        return delivered

    def _deliver(self, shard_id: str) -> int:
        iterator = self._iterators.get(shard_id)
        if iterator is None:
            return 0
        records: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.batching_window
        next_iterator: str | None = iterator
        while next_iterator is not None and len(records) < self.batch_size and not self._stop.is_set():
            page = self.streams.get_records(ShardIterator=next_iterator, Limit=self.batch_size - len(records))
            records += [r for r in page.get("Records", []) if self._wanted(r)]
            next_iterator = page.get("NextShardIterator")
            if not page.get("Records") and (not records or time.monotonic() >= deadline):
                break
            if not page.get("Records"):
                time.sleep(0.1)
        if records:
            self._invoke(records)  # raises on failure: the shard stays at `iterator`, the batch is retried
        self._iterators[shard_id] = next_iterator
        return len(records)

    def _wanted(self, record: dict[str, Any]) -> bool:
        return not self.filters or any(matches(pattern, record) for pattern in self.filters)

    def _invoke(self, records: list[dict[str, Any]]) -> None:
        context = LambdaContext(
            function_name=self.function_name,
            timeout_seconds=self.timeout_seconds,
            region=self.region,
            account_id=self.stream_arn.split(":")[4],
        )
        self.invocations += 1
        self.handler(stream_event(records, self.stream_arn, self.region), context)
