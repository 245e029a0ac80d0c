"""SQS message move tasks (DLQ redrive) against the local moto server, through `SqsQueue`.

moto 5.2.5 has no StartMessageMoveTask; `local.moto_sqs_move` adds it. As in AWS, a task runs in the
background (the call returns a handle at once), so these tests poll ListMessageMoveTasks for its end,
and a task paced at one message a second is still running when a second one is started.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from local.stack import REGION
from wacast.adapters.sqs import MoveTask, SqsQueue
from wacast.domain.errors import Conflict, Unavailable

BODIES = [{"n": 1}, {"n": 2}, {"n": 3}]


@pytest.fixture
def sqs(moto_endpoint: str) -> Any:
    return boto3.client(
        "sqs",
        region_name=REGION,
        endpoint_url=moto_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def arn_of(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def create_queue(sqs: Any, name: str, dlq_arn: str | None = None) -> tuple[str, str]:
    attributes = (
        {"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})} if dlq_arn else {}
    )
    url = sqs.create_queue(QueueName=f"{name}-{uuid.uuid4().hex[:8]}", Attributes=attributes)["QueueUrl"]
    return url, arn_of(sqs, url)


def depth(sqs: Any, url: str) -> int:
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes[n]) for n in names)


def dead_letter(sqs: Any, source_url: str, dlq_url: str, bodies: list[dict[str, Any]]) -> None:
    """Send `bodies` to the source queue and receive them twice without deleting: they end in the DLQ."""
    for body in bodies:
        sqs.send_message(
            QueueUrl=source_url,
            MessageBody=json.dumps(body),
            MessageAttributes={"n": {"DataType": "Number", "StringValue": str(body["n"])}},
        )
    first = sqs.receive_message(QueueUrl=source_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    assert len(first.get("Messages", [])) == len(bodies)
    second = sqs.receive_message(QueueUrl=source_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    assert second.get("Messages", []) == []  # past maxReceiveCount: dead-lettered instead
    assert depth(sqs, source_url) == 0
    assert depth(sqs, dlq_url) == len(bodies)


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message of the queue (received and deleted), until a receive comes back empty."""
    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            return messages
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        messages.extend(batch)


def wait_until_done(list_tasks: Callable[[], list[MoveTask]], timeout: float = 15.0) -> MoveTask:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tasks = list_tasks()
        if tasks and tasks[0].status not in ("RUNNING", "CANCELLING"):
            return tasks[0]
        time.sleep(0.1)
    raise AssertionError(f"the move task did not end in {timeout}s: {list_tasks()}")


def test_a_move_task_redrives_every_dead_lettered_message_back_once(sqs: Any) -> None:
    dlq_url, dlq_arn = create_queue(sqs, "move-dlq")
    source_url, source_arn = create_queue(sqs, "move-src", dlq_arn)
    dead_letter(sqs, source_url, dlq_url, BODIES)
    dlq = SqsQueue(dlq_url, sqs)

    before = datetime.now(UTC)
    handle = dlq.start_redrive(SqsQueue(source_url, sqs))
    assert handle

    task = wait_until_done(lambda: dlq.redrives())
    assert (task.status, task.moved, task.to_move) == ("COMPLETED", 3, 3)
    assert task.task_handle is None  # only running tasks carry it
    assert task.destination_arn == source_arn
    assert task.failure_reason is None
    assert before - timedelta(seconds=5) <= task.started_at <= datetime.now(UTC) + timedelta(seconds=5)

    # Back on the source as fresh messages (receivable although maxReceiveCount is 1), each exactly once,
    # with their message attributes; the DLQ is empty.
    back = drain(sqs, source_url)
    assert sorted((json.loads(m["Body"]) for m in back), key=lambda b: b["n"]) == BODIES
    assert sorted(m["MessageAttributes"]["n"]["StringValue"] for m in back) == ["1", "2", "3"]
    assert depth(sqs, dlq_url) == 0
    assert drain(sqs, dlq_url) == []


def test_a_move_task_needs_a_dead_letter_queue_as_its_source(sqs: Any) -> None:
    plain_url, plain_arn = create_queue(sqs, "move-plain")
    other_url, _ = create_queue(sqs, "move-other")
    with pytest.raises(Unavailable) as refused:
        SqsQueue(plain_url, sqs).start_redrive(SqsQueue(other_url, sqs))
    assert refused.value.details["code"] == "InvalidParameterValue"
    assert "Dead Letter Queue" in refused.value.details["message"]
    assert SqsQueue(plain_url, sqs).redrives() == []


def test_a_second_task_on_the_same_source_is_a_conflict_while_the_first_runs(sqs: Any) -> None:
    dlq_url, dlq_arn = create_queue(sqs, "move-dlq")
    source_url, source_arn = create_queue(sqs, "move-src", dlq_arn)
    dead_letter(sqs, source_url, dlq_url, BODIES)
    dlq = SqsQueue(dlq_url, sqs)

    handle = dlq.start_redrive(SqsQueue(source_url, sqs), max_per_second=1)  # three messages: about 3 s
    with pytest.raises(Conflict):
        dlq.start_redrive(SqsQueue(source_url, sqs))
    running = dlq.redrives()
    assert [(t.status, t.task_handle, t.to_move) for t in running] == [("RUNNING", handle, 3)]

    # Once it has ended (cancelled here), a new task may start and moves what is left.
    moved = sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]
    cancelled = wait_until_done(lambda: dlq.redrives())
    assert cancelled.status == "CANCELLED"
    assert cancelled.moved == moved < 3
    dlq.start_redrive(SqsQueue(source_url, sqs))
    assert wait_until_done(lambda: dlq.redrives()).moved == 3 - moved
    assert [t.status for t in dlq.redrives()] == ["COMPLETED", "CANCELLED"]
    assert sorted((json.loads(m["Body"]) for m in drain(sqs, source_url)), key=lambda b: b["n"]) == BODIES
    assert depth(sqs, dlq_url) == 0


def test_without_a_destination_each_message_goes_back_to_the_queue_that_dead_lettered_it(sqs: Any) -> None:
    dlq_url, dlq_arn = create_queue(sqs, "move-dlq")
    a_url, _ = create_queue(sqs, "move-a", dlq_arn)
    b_url, _ = create_queue(sqs, "move-b", dlq_arn)
    dead_letter(sqs, a_url, dlq_url, BODIES[:2])
    sqs.send_message(QueueUrl=b_url, MessageBody=json.dumps(BODIES[2]))
    sqs.receive_message(QueueUrl=b_url, VisibilityTimeout=0)
    sqs.receive_message(QueueUrl=b_url, VisibilityTimeout=0)
    assert depth(sqs, dlq_url) == 3

    sqs.start_message_move_task(SourceArn=dlq_arn)
    task = wait_until_done(lambda: SqsQueue(dlq_url, sqs).redrives())
    assert (task.status, task.moved, task.destination_arn) == ("COMPLETED", 3, None)
    assert sorted(json.loads(m["Body"])["n"] for m in drain(sqs, a_url)) == [1, 2]
    assert [json.loads(m["Body"])["n"] for m in drain(sqs, b_url)] == [3]

    # A message sent straight to the DLQ has no source to go back to: the task fails, as in AWS.
    sqs.send_message(QueueUrl=dlq_url, MessageBody=json.dumps({"n": 4}))
    sqs.start_message_move_task(SourceArn=dlq_arn)
    failed = wait_until_done(lambda: SqsQueue(dlq_url, sqs).redrives())
    assert (failed.status, failed.failure_reason, failed.moved) == ("FAILED", "CouldNotDetermineMessageSource", 0)
    assert depth(sqs, dlq_url) == 1
