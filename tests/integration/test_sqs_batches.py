"""SqsQueue's batch deletes and visibility changes against moto: 10 entries per request, and the entries
SQS refuses come back to the caller (who tries them once more, then leaves them to SQS)."""

from __future__ import annotations

import time

from tests.integration.services import Services
from wacast.adapters.sqs import SqsQueue
from wacast.ports import QueueMessage


def received(queue: SqsQueue, count: int) -> list[QueueMessage]:
    queue.send_batch([({"n": i}, 0) for i in range(count)])
    messages: list[QueueMessage] = []
    deadline = time.monotonic() + 10
    while len(messages) < count and time.monotonic() < deadline:
        messages += queue.receive(max_messages=10, wait_seconds=1)
    assert len(messages) == count
    return messages


def test_twelve_received_messages_are_deleted_by_batch(services: Services) -> None:
    outbox = services.queues.outbox
    messages = received(outbox, 12)
    assert outbox.delete_batch(messages) == []
    depth = outbox.depth()
    assert (depth.visible, depth.in_flight, depth.delayed) == (0, 0, 0)


def test_an_entry_sqs_refuses_is_handed_back_and_the_others_are_deleted(services: Services) -> None:
    outbox = services.queues.outbox
    good, other = received(outbox, 2)
    stale = QueueMessage(body=other.body, receipt_handle="not-a-receipt-handle", message_id=other.message_id)
    assert outbox.delete_batch([good, stale]) == [stale]
    depth = outbox.depth()
    assert depth.visible + depth.in_flight == 1  # the other one, still held by its receive


def test_visibility_changes_by_batch_give_messages_back_or_keep_them(services: Services) -> None:
    outbox = services.queues.outbox
    back, kept = received(outbox, 2)
    stale = QueueMessage(body={}, receipt_handle="not-a-receipt-handle", message_id="gone")
    assert outbox.change_visibility_batch([(back, 0), (kept, 600), (stale, 0)]) == [stale]
    again = outbox.receive(max_messages=10, wait_seconds=1)
    assert [m.body for m in again] == [back.body]  # given back at once; the other stays invisible
