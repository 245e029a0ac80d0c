"""SQS queues: the transport between every deployable."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from wacast.domain.errors import Unavailable
from wacast.ports import QueueDepth, QueueMessage

MAX_DELAY_SECONDS = 900  # SQS DelaySeconds maximum
BATCH = 10  # SQS batch maximum


class SqsQueue:
    """One SQS queue. Takes its client in the constructor; translates AWS errors to domain errors."""

    def __init__(self, queue_url: str, client: Any) -> None:
        self.url = queue_url
        self.name = queue_url.rsplit("/", 1)[-1]
        self._sqs = client

    def send(self, body: Mapping[str, Any], delay_seconds: int = 0) -> None:
        self.send_batch([(body, delay_seconds)])

    def send_batch(self, entries: Sequence[tuple[Mapping[str, Any], int]]) -> None:
        for start in range(0, len(entries), BATCH):
            chunk = [
                {
                    "Id": str(i),
                    "MessageBody": json.dumps(body, default=str),
                    "DelaySeconds": max(0, min(MAX_DELAY_SECONDS, int(delay))),
                }
                for i, (body, delay) in enumerate(entries[start : start + BATCH])
            ]
            try:
                response = self._sqs.send_message_batch(QueueUrl=self.url, Entries=chunk)
            except (ClientError, BotoCoreError) as exc:
                raise Unavailable(f"could not send to the {self.name} queue") from exc
            failed = response.get("Failed") or []
            if failed:
                raise Unavailable(f"{len(failed)} messages were refused by the {self.name} queue", details=failed)

    def receive(self, max_messages: int = 10, wait_seconds: int = 20) -> list[QueueMessage]:
        try:
            response = self._sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=max(1, min(BATCH, max_messages)),
                WaitTimeSeconds=wait_seconds,
                MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            )
        except (ClientError, BotoCoreError) as exc:
            raise Unavailable(f"could not receive from the {self.name} queue") from exc
        return [
            QueueMessage(
                body=json.loads(m["Body"]),
                receipt_handle=m["ReceiptHandle"],
                message_id=m["MessageId"],
                receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1")),
                attributes=m.get("Attributes", {}),
            )
            for m in response.get("Messages", [])
        ]

    def delete(self, message: QueueMessage) -> None:
        try:
            self._sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message.receipt_handle)
        except (ClientError, BotoCoreError) as exc:
            raise Unavailable(f"could not delete from the {self.name} queue") from exc

    def change_visibility(self, message: QueueMessage, seconds: int) -> None:
        try:
            self._sqs.change_message_visibility(
                QueueUrl=self.url, ReceiptHandle=message.receipt_handle, VisibilityTimeout=max(0, min(43200, seconds))
            )
        except (ClientError, BotoCoreError) as exc:
            raise Unavailable(f"could not change visibility on the {self.name} queue") from exc

    def depth(self) -> QueueDepth:
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        try:
            attrs = self._sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=names)["Attributes"]
        except (ClientError, BotoCoreError) as exc:
            raise Unavailable(f"could not read the depth of the {self.name} queue") from exc
        visible, in_flight, delayed = (int(attrs.get(n, 0)) for n in names)
        return QueueDepth(visible=visible, in_flight=in_flight, delayed=delayed)
