"""The session host's outbox consumer reads each body as an OutboxMessage before anything else."""

from __future__ import annotations

import threading

from session_host.consumer import OutboxConsumer
from tests.fakes import FakeClock, InMemoryQueue
from wacast.domain.outbox import OutboxMessage
from wacast.services.delivery import ACK, Disposition


class RecordingDelivery:
    """A DeliveryService stand-in: every message it is handed is sent."""

    def __init__(self) -> None:
        self.handled: list[OutboxMessage] = []
        self.called = threading.Event()

    def handle(self, body: OutboxMessage) -> Disposition:
        self.handled.append(body)
        self.called.set()
        return ACK


def test_a_malformed_outbox_message_is_left_for_the_dlq_while_the_others_are_delivered() -> None:
    # given a body no producer of ours writes (no account, no sender), then a good one
    outbox = InMemoryQueue(FakeClock(), "outbox")
    outbox.send({"message_id": "m0"})
    good = OutboxMessage(message_id="m1", account_id="a1", sender_id="s1")
    outbox.send(good.model_dump())
    delivery = RecordingDelivery()
    consumer = OutboxConsumer(outbox, delivery, wait_seconds=0)  # type: ignore[arg-type]
    # when the consumer polls them
    consumer.start()
    try:
        assert delivery.called.wait(timeout=5)
    finally:
        consumer.stop(timeout=5)
    # then the good one was delivered and deleted; the malformed one was not deleted, so SQS gives it back
    # and, past maxReceiveCount, moves it to the outbox DLQ
    assert delivery.handled == [good]
    assert [m["body"] for m in outbox.messages.values()] == [{"message_id": "m0"}]
