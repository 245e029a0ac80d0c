"""The session host sends receipts in batches: what arrives within a window goes as one events-queue
message, one receipt per message (READ over DELIVERED), published on stop too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from session_host.events import HostEvents
from session_host.receipt_buffer import MAX_RECEIPTS, ReceiptBuffer
from tests.fakes import T0, FakeClock, InMemoryQueue, InMemorySenders
from wacast.adapters.events import QueueEventPublisher
from wacast.domain.errors import Unavailable
from wacast.domain.events import HOST_EVENT, ReceiptBatchEvent, ReceiptStatus
from wacast.domain.senders import Sender

SENDER = Sender(id="s1", account_id="a1", drivers=["neonize"], created_at=T0)
OTHER = Sender(id="s2", account_id="a2", drivers=["neonize"], created_at=T0)


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class World:
    def __init__(self, window: float = 1.0, max_receipts: int = MAX_RECEIPTS) -> None:
        self.ticks = Ticks()
        self.queue = InMemoryQueue(FakeClock(), "events")
        publisher = QueueEventPublisher(self.queue)
        self.buffer = ReceiptBuffer(publisher, window=window, max_receipts=max_receipts, monotonic=self.ticks)
        self.host = HostEvents(InMemorySenders(SENDER, OTHER), publisher, self.buffer)

    def receipt(self, ids: list[str], status: ReceiptStatus, sender: Sender = SENDER, minute: int = 1) -> None:
        self.host.on_receipt(sender, ids, status, "+919876543210", T0 + timedelta(minutes=minute))

    def published(self) -> list[ReceiptBatchEvent]:
        """What reached the events queue, read as the events function reads it."""
        events = [HOST_EVENT.validate_json(json.dumps(body)) for body, _ in self.queue.sent]
        assert all(isinstance(e, ReceiptBatchEvent) for e in events)
        return events  # type: ignore[return-value]

    def statuses(self) -> list[dict[str, str]]:
        return [{r.provider_message_id: r.status for r in e.receipts} for e in self.published()]


@pytest.fixture
def world() -> Iterator[World]:
    w = World()
    w.host.start()
    yield w
    w.host.stop()


def test_receipts_of_one_window_go_as_one_message(world: World) -> None:
    # given receipts of two senders within a second
    world.receipt(["P1", "P2"], "DELIVERED")
    world.ticks.now += 0.6
    world.receipt(["Q1"], "DELIVERED", sender=OTHER)
    world.buffer.flush_due()
    assert world.queue.sent == []  # the window (from the first receipt) is not over
    # when the window is over
    world.ticks.now += 0.4
    world.buffer.flush_due()
    # then one events-queue message carries the three
    assert world.statuses() == [{"P1": "DELIVERED", "P2": "DELIVERED", "Q1": "DELIVERED"}]
    assert [(r.account_id, r.sender_id) for r in world.published()[0].receipts][-1] == ("a2", "s2")
    assert world.queue.calls["send"] == 1


def test_a_read_makes_the_delivered_of_the_same_message_redundant(world: World) -> None:
    world.receipt(["P1", "P2"], "DELIVERED")
    world.receipt(["P1"], "READ", minute=2)
    world.receipt(["P3"], "READ", minute=2)
    world.receipt(["P3"], "DELIVERED", minute=3)  # out of order: READ still wins
    world.receipt(["P2"], "DELIVERED", minute=4)  # again: the first one is kept
    world.ticks.now += 1
    world.buffer.flush_due()
    (event,) = world.published()
    assert {r.provider_message_id: (r.status, r.at.minute) for r in event.receipts} == {
        "P1": ("READ", 2),
        "P2": ("DELIVERED", 1),
        "P3": ("READ", 2),
    }


def test_a_full_batch_goes_at_once() -> None:
    world = World(max_receipts=3)
    world.host.start()
    try:
        world.receipt(["P1", "P2"], "DELIVERED")
        assert world.queue.sent == []
        world.receipt(["P1"], "READ")  # the same message: still two
        assert world.queue.sent == []
        world.receipt(["P3"], "DELIVERED")
        assert world.statuses() == [{"P1": "READ", "P2": "DELIVERED", "P3": "DELIVERED"}]
    finally:
        world.host.stop()


def test_what_waits_is_published_on_stop(world: World) -> None:
    world.receipt(["P1"], "READ")
    world.host.stop()
    assert world.statuses() == [{"P1": "READ"}]
    world.receipt(["P2"], "DELIVERED")  # after the stop: at once
    assert world.statuses() == [{"P1": "READ"}, {"P2": "DELIVERED"}]


def test_without_a_start_each_callback_is_published_at_once() -> None:
    world = World()
    world.receipt(["P1", "P2"], "DELIVERED")
    world.receipt(["P1"], "READ")
    assert world.statuses() == [{"P1": "DELIVERED", "P2": "DELIVERED"}, {"P1": "READ"}]


def test_receipts_the_events_queue_refused_are_sent_with_the_next_window(world: World) -> None:
    class Refusing(QueueEventPublisher):
        def __init__(self, queue: InMemoryQueue) -> None:
            super().__init__(queue)
            self.refusals = 1

        def publish(self, event: object) -> None:
            if self.refusals:
                self.refusals -= 1
                raise Unavailable("the events queue is unreachable")
            super().publish(event)  # type: ignore[arg-type]

    world.buffer.publisher = Refusing(world.queue)
    world.receipt(["P1"], "DELIVERED")
    world.ticks.now += 1
    world.buffer.flush_due()  # refused: kept
    world.receipt(["P1"], "READ", minute=2)
    world.ticks.now += 0.5
    world.buffer.flush_due()
    assert world.queue.sent == []  # a window after the refusal, not at once again
    world.ticks.now += 0.5
    world.buffer.flush_due()
    assert world.statuses() == [{"P1": "READ"}]


def test_a_full_batch_fits_one_billed_sqs_request() -> None:
    # given the longest ids a host meets (a webjs serialized id, a 15-digit number)
    world = World()
    ids = [f"true_{919876543210 + i}@c.us_3EB0C767D26A1D2A9F35{i:04d}" for i in range(MAX_RECEIPTS)]
    world.host.start()
    world.receipt(ids, "READ")
    world.host.stop()
    (body, _) = world.queue.sent[0]
    assert len(json.dumps(body).encode()) < 64 * 1024  # SQS bills each started 64 KB as a request


def test_a_read_without_a_recipient_keeps_the_recipient_its_delivered_named(world: World) -> None:
    # the recipient is what lets the events function prove a send whose provider id was never recorded
    world.receipt(["P1"], "DELIVERED")
    world.host.on_receipt(SENDER, ["P1"], "READ", None, T0 + timedelta(minutes=2))
    world.host.stop()
    ((receipt,),) = [e.receipts for e in world.published()]
    assert (receipt.status, receipt.recipient, receipt.at.minute) == ("READ", "+919876543210", 2)
