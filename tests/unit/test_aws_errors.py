"""A failed SQS or Scheduler call reaches the services as a domain error (Unavailable, or Conflict for a
redrive already running), and the cases the adapters expect (a schedule that exists, or does not) are
answered, not raised. botocore's Stubber plays AWS: nothing leaves the process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import ANY, Stubber

from wacast.adapters.scheduler import EventBridgeScheduler, ScheduleTarget
from wacast.adapters.sqs import SqsQueue
from wacast.domain.errors import Conflict, Unavailable
from wacast.ports import QueueMessage

URL = "https://sqs.us-east-1.amazonaws.com/123456789012/wacast-outbox"
DLQ_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/wacast-outbox-dlq"
DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:wacast-outbox-dlq"
OUTBOX_ARN = "arn:aws:sqs:us-east-1:123456789012:wacast-outbox"


def aws_client(service: str) -> Any:
    session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    return session.client(service)


@pytest.fixture
def sqs() -> Iterator[tuple[Any, Stubber]]:
    client = aws_client("sqs")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def scheduler() -> Iterator[tuple[EventBridgeScheduler, Stubber]]:
    client = aws_client("scheduler")
    with Stubber(client) as stubber:
        yield EventBridgeScheduler(client, "wacast", ScheduleTarget(arn="arn:q", role_arn="arn:role")), stubber
        stubber.assert_no_pending_responses()


def test_a_refused_send_is_unavailable_and_names_the_queue(sqs: tuple[Any, Stubber]) -> None:
    client, stubber = sqs
    stubber.add_client_error("send_message_batch", service_error_code="ThrottlingException", http_status_code=400)
    with pytest.raises(Unavailable, match="could not send to the wacast-outbox queue") as refused:
        SqsQueue(URL, client).send({"message_id": "m1"})
    assert refused.value.details is None  # nothing of AWS's own answer reaches an API caller here


def test_an_unreachable_queue_is_unavailable() -> None:
    class Unreachable:
        def delete_message(self, **_: Any) -> None:
            raise EndpointConnectionError(endpoint_url=URL)

    with pytest.raises(Unavailable, match="could not delete from the wacast-outbox queue"):
        SqsQueue(URL, Unreachable()).delete(QueueMessage(body={}, receipt_handle="rh", message_id="q1"))  # type: ignore[arg-type]


def test_a_second_redrive_of_a_queue_is_a_conflict_and_any_other_refusal_says_why(sqs: tuple[Any, Stubber]) -> None:
    client, stubber = sqs
    dlq, outbox = SqsQueue(DLQ_URL, client), SqsQueue(URL, client)
    stubber.add_response("get_queue_attributes", {"Attributes": {"QueueArn": DLQ_ARN}})
    stubber.add_response("get_queue_attributes", {"Attributes": {"QueueArn": OUTBOX_ARN}})
    running = "There is already a task running. Only one active task is allowed for a source queue ARN at a time."
    stubber.add_client_error("start_message_move_task", "InvalidParameterValue", running)
    stubber.add_client_error("start_message_move_task", "InvalidParameterValue", "Source queue must be a DLQ.")
    with pytest.raises(Conflict, match="already running"):
        dlq.start_redrive(outbox)
    with pytest.raises(Unavailable, match="could not start moving messages") as refused:
        dlq.start_redrive(outbox)
    assert refused.value.details == {"code": "InvalidParameterValue", "message": "Source queue must be a DLQ."}


def test_saving_a_schedule_that_exists_replaces_it(scheduler: tuple[EventBridgeScheduler, Stubber]) -> None:
    schedules, stubber = scheduler
    stubber.add_client_error("create_schedule", "ConflictException", "Schedule campaign-c1 already exists.")
    stubber.add_response("update_schedule", {"ScheduleArn": "arn:schedule"}, {"Name": "campaign-c1", **_ANY_REQUEST})
    schedules.put("campaign-c1", "cron(0 9 * * ? *)", "UTC", {"campaign_id": "c1"})


def test_a_schedule_that_is_not_there_is_reported_not_raised(scheduler: tuple[EventBridgeScheduler, Stubber]) -> None:
    schedules, stubber = scheduler
    stubber.add_client_error("delete_schedule", "ResourceNotFoundException", "not found")
    stubber.add_client_error("get_schedule", "ResourceNotFoundException", "not found")
    assert schedules.delete("campaign-c1") is False
    assert schedules.exists("campaign-c1") is False


def test_any_other_scheduler_failure_is_unavailable_naming_the_schedule(
    scheduler: tuple[EventBridgeScheduler, Stubber],
) -> None:
    schedules, stubber = scheduler
    stubber.add_client_error("delete_schedule", "ThrottlingException", "slow down")
    with pytest.raises(Unavailable, match="could not delete the schedule") as refused:
        schedules.delete("campaign-c1")
    assert refused.value.details == {"schedule": "campaign-c1"}


_ANY_REQUEST = {
    "GroupName": ANY,
    "ScheduleExpression": ANY,
    "ScheduleExpressionTimezone": ANY,
    "FlexibleTimeWindow": ANY,
    "State": ANY,
    "Target": ANY,
    "ActionAfterCompletion": ANY,
}
