"""The session host's outbox consumer reads each body as an OutboxMessage before anything else, and tells SQS
what became of each message in batch requests, never before its outcome is recorded."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta

from session_host.consumer import OutboxConsumer
from tests.fakes import FakeClock, InMemoryQueue, wait_for
from wacast.domain.outbox import OutboxMessage
from wacast.ports import QueueMessage
from wacast.services.delivery import ACK, Act, Disposition


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


# -- what the consumer tells SQS goes in batches ----------------------------------------------------


class RecordingOutbox(InMemoryQueue):
    """The in-memory outbox; it notes every message deleted before its outcome was recorded."""

    def __init__(self, recorded: set[str]) -> None:
        super().__init__(FakeClock(), "outbox")
        self.recorded = recorded
        self.early: list[str] = []

    def delete_batch(self, messages: Sequence[QueueMessage]) -> list[QueueMessage]:
        self.early += [m.body["message_id"] for m in messages if m.body["message_id"] not in self.recorded]
        return super().delete_batch(messages)


class RecordingOutcomes:
    """A DeliveryService stand-in that records each outcome (as the real one does, before it returns the
    disposition) and answers with the disposition a test asks for."""

    def __init__(self, expected: int, dispositions: dict[str, Disposition] | None = None) -> None:
        self.recorded: set[str] = set()
        self.dispositions = dispositions or {}
        self.expected = expected
        self.all_handled = threading.Event()
        self._lock = threading.Lock()

    def handle(self, body: OutboxMessage) -> Disposition:
        with self._lock:
            self.recorded.add(body.message_id)
            if len(self.recorded) == self.expected:
                self.all_handled.set()
        return self.dispositions.get(body.message_id, ACK)


def outbox_with(count: int, senders: int = 3) -> tuple[RecordingOutbox, RecordingOutcomes]:
    delivery = RecordingOutcomes(count)
    outbox = RecordingOutbox(delivery.recorded)
    for i in range(count):
        outbox.send(OutboxMessage(message_id=f"m{i}", account_id="a1", sender_id=f"s{i % senders}").model_dump())
    return outbox, delivery


def run(consumer: OutboxConsumer, delivery: RecordingOutcomes, before_stop: Callable[[], None] = lambda: None) -> None:
    """Start the consumer, wait until every message was handled, run `before_stop`, stop it."""
    consumer.start()
    try:
        assert delivery.all_handled.wait(timeout=5)
        before_stop()
    finally:
        consumer.stop(timeout=5)


def test_handled_messages_are_deleted_once_each_ten_to_a_request_and_never_before_their_outcome() -> None:
    # given 25 messages on three senders' lanes, and a flush interval too long to play a part
    outbox, delivery = outbox_with(25)
    consumer = OutboxConsumer(outbox, delivery, wait_seconds=0, batch_interval=3600)  # type: ignore[arg-type]
    # when the consumer sends them all and stops
    run(consumer, delivery)
    # then each was deleted exactly once, only after its outcome was recorded, in batch requests
    assert outbox.messages == {}
    assert set(outbox.deletes.values()) == {1} and len(outbox.deletes) == 25
    assert outbox.early == []
    assert outbox.calls["delete"] == 0
    assert 3 <= outbox.calls["delete_batch"] <= 6  # 10 + 10 + 5, or a few more when lanes race a full batch


def test_acks_wait_for_the_interval_and_the_rest_go_on_stop() -> None:
    # given a long interval: fewer than ten acks wait for it
    outbox, delivery = outbox_with(3)
    consumer = OutboxConsumer(outbox, delivery, wait_seconds=0, batch_interval=3600)  # type: ignore[arg-type]

    def handled_not_yet_deleted() -> None:  # still invisible to other workers meanwhile
        wait_for(lambda: consumer.batcher.pending == 3)
        assert len(outbox.messages) == 3

    run(consumer, delivery, handled_not_yet_deleted)
    # then stopping sends them, in one request
    assert outbox.messages == {} and outbox.calls["delete_batch"] == 1


def test_acks_are_sent_within_the_interval_without_a_stop() -> None:
    outbox, delivery = outbox_with(4)
    consumer = OutboxConsumer(outbox, delivery, wait_seconds=0, batch_interval=0.05)  # type: ignore[arg-type]
    run(consumer, delivery, lambda: wait_for(lambda: not outbox.messages))
    assert outbox.calls["delete"] == 0 and outbox.calls["delete_batch"] >= 1


def test_retries_and_deferrals_go_through_the_batches_too() -> None:
    # given one message to retry in 8 s, one to defer by 60 s, one sent
    outbox, delivery = outbox_with(3)
    delivery.dispositions = {"m0": Disposition(Act.RETRY, 8), "m1": Disposition(Act.DEFER, 60)}
    consumer = OutboxConsumer(outbox, delivery, wait_seconds=0, batch_interval=3600)  # type: ignore[arg-type]
    # when
    run(consumer, delivery)
    # then the retried one is on the queue, visible in 8 s; the deferred one is a fresh copy, its original
    # deleted; the sent one is gone; each SQS call a batch request
    assert outbox.calls["change_visibility"] == 0 and outbox.calls["delete"] == 0
    left = {m["body"]["message_id"]: m for m in outbox.messages.values()}
    assert set(left) == {"m0", "m1"}
    assert left["m0"]["visible_at"] == outbox.clock.now() + timedelta(seconds=8)
    assert left["m1"]["receives"] == 0 and outbox.sent[-1] == (left["m1"]["body"], 60)
    assert outbox.calls["change_visibility_batch"] == 1 and outbox.calls["delete_batch"] == 1


def test_a_busy_host_receives_only_when_a_full_batch_fits() -> None:
    # given a host that holds at most 12 messages, a lane that sends only when let through, 30 messages
    class CountingOutbox(InMemoryQueue):
        def __init__(self) -> None:
            super().__init__(FakeClock(), "outbox")
            self.asked: list[int] = []

        def receive(self, max_messages: int = 10, wait_seconds: int = 20) -> list[QueueMessage]:
            self.asked.append(max_messages)
            return super().receive(max_messages, wait_seconds)

    class GatedDelivery(RecordingOutcomes):
        def __init__(self) -> None:
            super().__init__(30)
            self.gate = threading.Semaphore(0)

        def handle(self, body: OutboxMessage) -> Disposition:
            self.gate.acquire()
            return super().handle(body)

    outbox, delivery = CountingOutbox(), GatedDelivery()
    for i in range(30):
        outbox.send(OutboxMessage(message_id=f"m{i}", account_id="a1", sender_id="s1").model_dump())
    consumer = OutboxConsumer(outbox, delivery, max_in_flight=12, wait_seconds=0)  # type: ignore[arg-type]
    consumer.start()
    try:
        wait_for(lambda: consumer.in_flight == 10)
        for _ in range(30):  # the lane frees one slot at a time
            delivery.gate.release()
            time.sleep(0.005)
        assert delivery.all_handled.wait(timeout=5)
    finally:
        consumer.stop(timeout=5)
    # then every receive asked for a full batch, never for the one or two slots a send had just freed
    assert set(outbox.asked) == {10} and outbox.messages == {}
