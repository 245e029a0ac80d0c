"""Plays Lambda's SQS event-source mappings: long-polls a queue, calls the real handler with a real
SQS event (batch size and batching window as the template says), and deletes what succeeded.

With ReportBatchItemFailures, the records the handler lists in batchItemFailures stay in the queue
(they come back after the visibility timeout and, past maxReceiveCount, go to the DLQ); if the
handler raises, the whole batch stays. That is what Lambda does.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

from local.lambda_runtime import Handler, LambdaContext
from wacast.observability import logger


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {
                    "ApproximateReceiveCount": m.get("Attributes", {}).get("ApproximateReceiveCount", "1"),
                    "SentTimestamp": m.get("Attributes", {}).get("SentTimestamp", str(int(time.time() * 1000))),
                    "SenderId": m.get("Attributes", {}).get("SenderId", "AIDALOCAL"),
                    "ApproximateFirstReceiveTimestamp": m.get("Attributes", {}).get(
                        "ApproximateFirstReceiveTimestamp", str(int(time.time() * 1000))
                    ),
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(m["Body"].encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


class SqsPoller:
    """One event-source mapping."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        handler: Handler,
        function_name: str,
        *,
        batch_size: int,
        batching_window: int,
        report_failures: bool,
        timeout_seconds: int,
        region: str,
        wait_seconds: int = 1,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.handler = handler
        self.function_name = function_name
        self.batch_size = batch_size
        self.batching_window = batching_window
        self.report_failures = report_failures
        self.timeout_seconds = timeout_seconds
        self.region = region
        self.wait_seconds = wait_seconds
        self.invocations = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"poller-{function_name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.wait_seconds + self.timeout_seconds + 5)

    def _receive(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.batching_window
        while len(messages) < self.batch_size and not self._stop.is_set():
            response = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, self.batch_size - len(messages)),
                WaitTimeSeconds=self.wait_seconds if not messages else 0,
                MessageSystemAttributeNames=["All"],
            )
            got = response.get("Messages", [])
            messages.extend(got)
            if not got or time.monotonic() >= deadline:
                break
        return messages

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self._receive()
                if messages:
                    self.invoke(messages)
            except Exception:
                logger.exception("poller failed; retrying", function=self.function_name)
                self._stop.wait(1.0)

    def invoke(self, messages: list[dict[str, Any]]) -> None:
        event = sqs_event(messages, self.queue_arn, self.region)
        context = LambdaContext(
            function_name=self.function_name,
            timeout_seconds=self.timeout_seconds,
            region=self.region,
            account_id=self.queue_arn.split(":")[4],
        )
        self.invocations += 1
        try:
            response = self.handler(event, context) or {}
        except Exception:
            logger.exception("function raised: the batch stays in the queue", function=self.function_name)
            return
        failed = set()
        if self.report_failures:
            failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start : start + 10])
                ],
            )
