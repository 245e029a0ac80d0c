"""SQS queues: the transport between every deployable."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from wacast.adapters.aws import error_details, unavailable_on_aws_failure
from wacast.domain.errors import Conflict, Unavailable
from wacast.ports import MoveTask, Queue, QueueDepth, QueueMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType
    from mypy_boto3_sqs.type_defs import (
        ChangeMessageVisibilityBatchRequestEntryTypeDef,
        DeleteMessageBatchRequestEntryTypeDef,
        SendMessageBatchRequestEntryTypeDef,
        StartMessageMoveTaskRequestTypeDef,
    )

MAX_DELAY_SECONDS = 900  # SQS DelaySeconds maximum
MAX_VISIBILITY_SECONDS = 43200  # SQS VisibilityTimeout maximum (12 hours)
BATCH = 10  # SQS batch maximum
MAX_MOVE_RATE = 500  # StartMessageMoveTask's MaxNumberOfMessagesPerSecond maximum
MAX_MOVE_TASKS = 10  # ListMessageMoveTasks' MaxResults maximum
# SQS refuses a second active move task on a source with InvalidParameterValue and this message.
_TASK_ALREADY_RUNNING = "already a task running"
_DEPTH: list[QueueAttributeNameType] = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]


class SqsQueue:
    """One SQS queue. Takes its client in the constructor; translates AWS errors to domain errors."""

    def __init__(self, queue_url: str, client: SQSClient) -> None:
        self.url = queue_url
        self.name = queue_url.rsplit("/", 1)[-1]
        self._sqs = client
        self._arn: str | None = None

    def send(self, body: Mapping[str, Any], delay_seconds: int = 0) -> None:
        self.send_batch([(body, delay_seconds)])

    def send_batch(self, entries: Sequence[tuple[Mapping[str, Any], int]]) -> None:
        for start in range(0, len(entries), BATCH):
            chunk: list[SendMessageBatchRequestEntryTypeDef] = [
                {
                    "Id": str(i),
                    "MessageBody": json.dumps(body, default=str),
                    "DelaySeconds": max(0, min(MAX_DELAY_SECONDS, int(delay))),
                }
                for i, (body, delay) in enumerate(entries[start : start + BATCH])
            ]
            with unavailable_on_aws_failure(f"send to the {self.name} queue"):
                response = self._sqs.send_message_batch(QueueUrl=self.url, Entries=chunk)
            failed = response.get("Failed") or []
            if failed:
                raise Unavailable(f"{len(failed)} messages were refused by the {self.name} queue", details=failed)

    def receive(self, max_messages: int = 10, wait_seconds: int = 20) -> list[QueueMessage]:
        with unavailable_on_aws_failure(f"receive from the {self.name} queue"):
            response = self._sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=max(1, min(BATCH, max_messages)),
                WaitTimeSeconds=wait_seconds,
                MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            )
        return [
            QueueMessage(
                body=json.loads(m["Body"]),
                receipt_handle=m["ReceiptHandle"],
                message_id=m["MessageId"],
                receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1")),
                attributes={str(name): value for name, value in m.get("Attributes", {}).items()},
            )
            for m in response.get("Messages", [])
        ]

    def delete(self, message: QueueMessage) -> None:
        with unavailable_on_aws_failure(f"delete from the {self.name} queue"):
            self._sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message.receipt_handle)

    def change_visibility(self, message: QueueMessage, seconds: int) -> None:
        with unavailable_on_aws_failure(f"change visibility on the {self.name} queue"):
            self._sqs.change_message_visibility(
                QueueUrl=self.url, ReceiptHandle=message.receipt_handle, VisibilityTimeout=_visibility(seconds)
            )

    def delete_batch(self, messages: Sequence[QueueMessage]) -> list[QueueMessage]:
        """Delete received messages, 10 per DeleteMessageBatch. Returns the ones SQS refused (an entry can
        fail alone, e.g. a receipt handle that expired); raises Unavailable when a whole call fails."""
        refused: list[QueueMessage] = []
        for start in range(0, len(messages), BATCH):
            chunk = messages[start : start + BATCH]
            entries: list[DeleteMessageBatchRequestEntryTypeDef] = [
                {"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(chunk)
            ]
            with unavailable_on_aws_failure(f"delete from the {self.name} queue"):
                response = self._sqs.delete_message_batch(QueueUrl=self.url, Entries=entries)
            refused.extend(chunk[int(f["Id"])] for f in response.get("Failed") or [])
        return refused

    def change_visibility_batch(self, changes: Sequence[tuple[QueueMessage, int]]) -> list[QueueMessage]:
        """Set each (message, seconds) visibility, 10 per ChangeMessageVisibilityBatch. Returns the messages
        SQS refused; raises Unavailable when a whole call fails."""
        refused: list[QueueMessage] = []
        for start in range(0, len(changes), BATCH):
            chunk = changes[start : start + BATCH]
            entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
                {"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": _visibility(seconds)}
                for i, (m, seconds) in enumerate(chunk)
            ]
            with unavailable_on_aws_failure(f"change visibility on the {self.name} queue"):
                response = self._sqs.change_message_visibility_batch(QueueUrl=self.url, Entries=entries)
            refused.extend(chunk[int(f["Id"])][0] for f in response.get("Failed") or [])
        return refused

    def depth(self) -> QueueDepth:
        with unavailable_on_aws_failure(f"read the depth of the {self.name} queue"):
            attrs = self._sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=_DEPTH)["Attributes"]
        visible, in_flight, delayed = (int(attrs.get(n, 0)) for n in _DEPTH)
        return QueueDepth(visible=visible, in_flight=in_flight, delayed=delayed)

    def arn(self) -> str:
        """The queue's ARN, asked of SQS once (no account id or partition is assumed)."""
        if self._arn is None:
            with unavailable_on_aws_failure(f"read the ARN of the {self.name} queue"):
                attrs = self._sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]
            self._arn = str(attrs["QueueArn"])
        return self._arn

    def start_redrive(self, destination: Queue, max_per_second: int | None = None) -> str:
        """Move every message of this queue (a dead-letter queue) to `destination` with one SQS message move
        task, which runs in the background. Returns the task handle. Conflict if a task already runs on
        this queue; Unavailable for any other refusal (e.g. this queue is no dead-letter queue)."""
        params: StartMessageMoveTaskRequestTypeDef = {"SourceArn": self.arn(), "DestinationArn": destination.arn()}
        if max_per_second is not None:
            params["MaxNumberOfMessagesPerSecond"] = max(1, min(MAX_MOVE_RATE, int(max_per_second)))
        with unavailable_on_aws_failure(f"start moving messages from the {self.name} queue", with_aws_error=True):
            try:
                response = self._sqs.start_message_move_task(**params)
            except ClientError as exc:
                details = error_details(exc)
                if details and _TASK_ALREADY_RUNNING in details["message"].lower():
                    raise Conflict(
                        f"a redrive of the {self.name} queue is already running; wait for it to finish",
                        details=details,
                    ) from exc
                raise
        return str(response["TaskHandle"])

    def redrives(self, max_results: int = MAX_MOVE_TASKS) -> list[MoveTask]:
        """The most recent message move tasks out of this queue, newest first (SQS keeps ten)."""
        with unavailable_on_aws_failure(f"list the redrives of the {self.name} queue", with_aws_error=True):
            response = self._sqs.list_message_move_tasks(
                SourceArn=self.arn(), MaxResults=max(1, min(MAX_MOVE_TASKS, max_results))
            )
        return [
            MoveTask(
                status=str(r["Status"]),
                moved=int(r.get("ApproximateNumberOfMessagesMoved", 0)),
                to_move=int(r["ApproximateNumberOfMessagesToMove"])
                if "ApproximateNumberOfMessagesToMove" in r
                else None,
                started_at=datetime.fromtimestamp(int(r.get("StartedTimestamp", 0)) / 1000, tz=UTC),
                task_handle=r.get("TaskHandle"),
                destination_arn=r.get("DestinationArn"),
                failure_reason=r.get("FailureReason"),
            )
            for r in response.get("Results", [])
        ]


def _visibility(seconds: int) -> int:
    return max(0, min(MAX_VISIBILITY_SECONDS, int(seconds)))
