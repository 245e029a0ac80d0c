"""The events and dlq functions, invoked with the events/ fixtures, against moto."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from local.lambda_runtime import LambdaContext, load_handler
from local.template import ROOT
from tests.integration.conftest import sqs_event
from tests.integration.services import Services
from wacast.domain.messages import Message, MessageStatus, StatusChange
from wacast.domain.outbox import OutboxMessage

S = MessageStatus
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def handler(name: str):  # type: ignore[no-untyped-def]
    return load_handler(ROOT / f"functions/{name}", "app.handler", f"{name.capitalize()}Function")


def queued(services: Services, message_id: str = "m1", phone: str = "+919876543210") -> Message:
    message = Message(
        id=message_id,
        account_id="a1",
        sender_id="s1",
        phone=phone,
        body="hi",
        created_at=NOW,
        updated_at=NOW,
        history=[StatusChange(status=S.QUEUED, at=NOW)],
    )
    services.messages.create(message)
    return message


def sent_message(services: Services, status: MessageStatus = S.SENT, provider_id: str = "P1") -> Message:
    message = queued(services)
    m = services.messages.transition(message, S.SENDING, NOW, changes={"lease_owner": "w", "driver_called_at": NOW})
    if status is S.SENT:
        return services.messages.transition(m, S.SENT, NOW, changes={"provider_message_id": provider_id})
    return services.messages.transition(m, status, NOW)


def receipt(status: str, provider_id: str = "P1") -> dict[str, object]:
    return {
        "type": "receipt",
        "account_id": "a1",
        "sender_id": "s1",
        "provider_message_ids": [provider_id],
        "status": status,
        "recipient": "+919876543210",
        "at": NOW.isoformat(),
    }


def status_of(services: Services) -> MessageStatus:
    message = services.messages.get("m1")
    assert message is not None
    return message.status


def test_receipts_move_a_message_forward_and_never_back(services: Services) -> None:
    sent_message(services)
    events = handler("events")
    assert events(sqs_event("sqs_receipt.json", receipt("READ")), LambdaContext("events")) == {"batchItemFailures": []}
    events(sqs_event("sqs_receipt.json", receipt("DELIVERED")), LambdaContext("events"))  # late, out of order
    assert status_of(services) is S.READ


def test_the_receipts_of_one_sqs_batch_move_a_message_in_one_write(services: Services) -> None:
    # given a sent message, a DELIVERED queued by a host of the previous version and a host's batch with READ
    before = sent_message(services)
    batch = {"type": "receipt_batch", "receipts": [{**receipt("READ"), "provider_message_id": "P1"}]}
    event = sqs_event("sqs_receipt.json", receipt("DELIVERED"), batch)
    # when the events function gets both in one invocation
    assert handler("events")(event, LambdaContext("events")) == {"batchItemFailures": []}
    # then SENT -> READ, one write
    after = services.messages.get("m1")
    assert after is not None and after.status is S.READ and after.version == before.version + 1
    assert [h.status for h in after.history][-2:] == [S.SENT, S.READ]


def test_a_receipt_waiting_for_its_send_fails_its_record_only(services: Services) -> None:
    # given a send in flight (live lease) to the recipient, and a sent message to someone else
    sent_message(services)
    live = queued(services, "m2", phone="+14155550100")
    services.messages.transition(
        live,
        S.SENDING,
        NOW,
        changes={"lease_owner": "w", "lease_expires_at": NOW + timedelta(minutes=5), "driver_called_at": NOW},
    )
    stray = {**receipt("DELIVERED", "TYPED-ON-THE-PHONE"), "recipient": "+14155550100"}
    event = sqs_event("sqs_receipt.json", stray, receipt("READ"))
    # when
    response = handler("events")(event, LambdaContext("events"))
    # then the waiting one is retried, the other applied
    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-0"}]}
    assert status_of(services) is S.READ


def test_a_receipt_settles_an_unknown_send_to_that_recipient(services: Services) -> None:
    sent_message(services, S.UNKNOWN)
    handler("events")(sqs_event("sqs_receipt.json", receipt("DELIVERED", "NEVER-SEEN")), LambdaContext("events"))
    message = services.messages.get("m1")
    assert message is not None and message.status is S.DELIVERED and message.provider_message_id == "NEVER-SEEN"


def test_an_incoming_stop_opts_the_writer_out(services: Services) -> None:
    event = sqs_event(
        "sqs_incoming_stop.json",
        {
            "type": "incoming",
            "account_id": "a1",
            "sender_id": "s1",
            "sender_phone": "+919876543210",
            "text": "Stop",
            "at": NOW.isoformat(),
        },
    )
    handler("events")(event, LambdaContext("events"))
    assert services.repos.optouts.is_opted_out("a1", "+919876543210")


def test_a_malformed_event_is_reported_as_a_batch_item_failure(services: Services) -> None:
    sent_message(services)
    event = sqs_event("sqs_receipt.json", {"type": "receipt", "nonsense": True}, receipt("DELIVERED"))
    response = handler("events")(event, LambdaContext("events"))
    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-0"}]}
    assert status_of(services) is S.DELIVERED  # the good record of the batch went through


@pytest.mark.parametrize(("before", "after"), [(S.RETRYING, S.FAILED), (S.QUEUED, S.FAILED), (S.SENT, S.SENT)])
def test_a_dead_lettered_outbox_message_settles(
    services: Services, before: MessageStatus, after: MessageStatus
) -> None:
    message = Message(
        id="m1",
        account_id="a1",
        sender_id="s1",
        phone="+919876543210",
        body="hi",
        created_at=NOW,
        updated_at=NOW,
        history=[StatusChange(status=S.QUEUED, at=NOW)],
    )
    services.messages.create(message)
    if before is not S.QUEUED:
        m = services.messages.transition(message, S.SENDING, NOW)
        services.messages.transition(
            m,
            before,
            NOW,
            changes={"last_error": "network: reset"} if before is S.RETRYING else {"provider_message_id": "P"},
        )
    outbox_dlq = services.queues.dlqs["outbox"].name
    body = OutboxMessage(message_id="m1", account_id="a1", sender_id="s1").model_dump()
    event = sqs_event("sqs_outbox_dead.json", body, source_queue=outbox_dlq)
    assert handler("dlq")(event, LambdaContext("dlq")) == {"batchItemFailures": []}
    stored = services.messages.get("m1")
    assert stored is not None and stored.status is after
    if after is S.FAILED:
        assert stored.last_error is not None and stored.last_error.startswith("retries_exhausted")


def test_a_dead_lettered_body_its_queue_cannot_read_is_dropped_not_retried(services: Services) -> None:
    # given a body that names no message (no producer of ours writes it), and one for an unknown message
    outbox_dlq = services.queues.dlqs["outbox"].name
    unknown = OutboxMessage(message_id="m-gone", account_id="a1", sender_id="s1").model_dump()
    event = sqs_event("sqs_outbox_dead.json", {"message_id": "m1"}, unknown, source_queue=outbox_dlq)
    # when the dlq function gets them, then both are acknowledged: there is nothing to settle for either,
    # and a failed record would come back every visibility timeout for the DLQ's 14 days
    assert handler("dlq")(event, LambdaContext("dlq")) == {"batchItemFailures": []}
