"""What the session host tells SQS about received messages goes 10 to a request; an entry SQS refuses
is tried once more, then left to SQS (the message comes back and is settled again)."""

from __future__ import annotations

from datetime import timedelta

from session_host.queue_batcher import QueueBatcher
from tests.fakes import FakeClock, InMemoryQueue, wait_for
from wacast.domain.errors import Unavailable
from wacast.ports import QueueMessage


def received(count: int) -> tuple[InMemoryQueue, list[QueueMessage]]:
    queue = InMemoryQueue(FakeClock(), "outbox")
    queue.send_batch([({"n": i}, 0) for i in range(count)])
    messages: list[QueueMessage] = []
    while len(messages) < count:
        messages += queue.receive(max_messages=10)
    queue.calls.clear()
    return queue, messages


def test_a_refused_delete_is_tried_once_more() -> None:
    queue, (first, second) = received(2)
    queue.refuse[first.message_id] = 1
    QueueBatcher(queue).delete(first)  # not started: sent at once
    assert first.message_id not in queue.messages and queue.calls["delete_batch"] == 2


def test_a_delete_refused_twice_is_left_to_sqs() -> None:
    queue, (first, second) = received(2)
    queue.refuse[first.message_id] = 2
    batcher = QueueBatcher(queue, interval=3600)
    batcher.start()
    batcher.delete(first)
    batcher.delete(second)
    batcher.stop()
    # the refused one stays: SQS gives it back after its visibility timeout, and it is acknowledged again
    assert list(queue.messages) == [first.message_id]
    assert queue.calls["delete_batch"] == 2  # both, then the refused one alone; no third try


def test_a_failing_request_is_tried_once_more_then_left_to_sqs() -> None:
    class Down(InMemoryQueue):
        def delete_batch(self, messages: object) -> list[QueueMessage]:
            self.calls["delete_batch"] += 1
            raise Unavailable("SQS is unreachable")

    queue = Down(FakeClock(), "outbox")
    queue.send({"n": 1})
    (message,) = queue.receive()
    QueueBatcher(queue).delete(message)  # logged, not raised: the lane carries on
    assert queue.calls["delete_batch"] == 2 and message.message_id in queue.messages


def test_ten_deletes_go_at_once_and_the_rest_wait_for_the_interval_or_the_stop() -> None:
    queue, messages = received(12)
    batcher = QueueBatcher(queue, interval=3600)
    batcher.start()
    for message in messages[:10]:
        batcher.delete(message)
    wait_for(lambda: len(queue.messages) == 2)  # a full request's worth does not wait for the interval
    for message in messages[10:]:
        batcher.delete(message)
    assert batcher.pending == 2 and len(queue.messages) == 2
    batcher.stop()
    assert queue.messages == {} and queue.calls["delete_batch"] == 2 and queue.calls["delete"] == 0


def test_a_message_about_to_be_deleted_gets_no_visibility_change() -> None:
    # given a heartbeat's extension pending when the message's ack arrives
    queue, (message, other) = received(2)
    batcher = QueueBatcher(queue, interval=3600)
    batcher.start()
    batcher.change_visibility(message, 180)
    batcher.delete(message)
    batcher.change_visibility(other, 30)
    batcher.change_visibility(other, 0)  # given back: the latest change of a message wins
    batcher.stop()
    # then the ack deletes it, and no change is sent for it (SQS would refuse one on a deleted message)
    assert list(queue.messages) == [other.message_id]
    assert queue.visible_at(other.message_id) == queue.clock.now()
    assert queue.calls["change_visibility_batch"] == 1 and queue.calls["delete_batch"] == 1


def test_a_stopped_batcher_sends_at_once() -> None:
    queue, (message, other) = received(2)
    batcher = QueueBatcher(queue, interval=3600)
    batcher.start()
    batcher.stop()
    batcher.change_visibility(other, 60)
    assert queue.visible_at(other.message_id) == queue.clock.now() + timedelta(seconds=60)
    batcher.delete(message)
    assert message.message_id not in queue.messages and batcher.pending == 0
