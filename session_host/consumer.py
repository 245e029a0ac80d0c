"""The outbox consumer: long-polls SQS, runs each message through the DeliveryService on its
sender's lane (one message at a time per sender), and applies the returned Disposition to SQS.

Messages waiting on a lane keep their visibility extended by a heartbeat. On stop, the message in
progress on each lane finishes; the waiting ones are handed back to SQS at once (visibility 0).

SQS traffic goes in batches of 10. The poller receives only when 10 more fit under `max_in_flight` (a busy
lane frees a slot at a time; receiving into each would cost a request for one or two messages). What the
consumer tells SQS about a message it received (delete it, change its visibility) goes through a
QueueBatcher: 10 per request, sent at least every second and on stop. A message is deleted only once its
disposition is known, which the delivery service returns after recording the outcome.

A body that is not an OutboxMessage is logged and left alone: SQS gives it back after the visibility
timeout and, past maxReceiveCount, moves it to the outbox DLQ, whose alarm tells an operator. It may
name a real message (a producer of another version, mid-deploy), so it is never silently deleted.

Separately, an optional `heartbeat` callback runs after every receive that returned (with messages or
empty), so the container health check (session_host.health) can tell a wedged poll loop.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError

from session_host.queue_batcher import QueueBatcher
from wacast.domain.outbox import OutboxMessage
from wacast.observability import logger
from wacast.ports import Queue, QueueMessage
from wacast.services.delivery import Act, DeliveryService, Disposition
from wacast.settings import session_host_default

HEARTBEAT_EVERY = 30.0  # seconds between two extensions of a waiting message's visibility
BATCH_INTERVAL = 1.0  # seconds a delete or visibility change may wait for others to share its SQS request
RECEIVE_BATCH = 10  # SQS's most per receive: the poller waits for that much room (a busy lane frees one at a time)


@dataclass
class _Held:
    message: QueueMessage
    body: OutboxMessage
    extended_at: float


class OutboxConsumer:
    """Long-polls the outbox and applies each message's Disposition, one message at a time per sender."""

    def __init__(
        self,
        outbox: Queue,
        delivery: DeliveryService,
        max_in_flight: int = 50,
        wait_seconds: int = 20,
        heartbeat: Callable[[], None] | None = None,
        visibility_seconds: int = session_host_default("outbox_visibility_seconds"),
        batch_interval: float = BATCH_INTERVAL,
    ) -> None:
        self.outbox = outbox
        self.batcher = QueueBatcher(outbox, batch_interval)
        self.visibility_seconds = visibility_seconds  # the outbox queue's own visibility timeout
        self.delivery = delivery
        self.max_in_flight = max_in_flight
        self.wait_seconds = wait_seconds
        self.heartbeat = heartbeat
        self._lanes: dict[str, queue.Queue[_Held | None]] = {}
        self._lane_threads: list[threading.Thread] = []
        self._held: dict[str, _Held] = {}
        self._held_lock = threading.Lock()
        self._stopping = threading.Event()
        self._poller: threading.Thread | None = None
        self._heartbeat: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        self._poller = threading.Thread(target=self._poll_loop, name="outbox-poller", daemon=True)
        self._heartbeat = threading.Thread(target=self._heartbeat_loop, name="outbox-heartbeat", daemon=True)
        self.batcher.start()
        self._poller.start()
        self._heartbeat.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Graceful: stop polling, finish in-progress sends, give every waiting message back to SQS, and send
        SQS what is pending (waiting for that at most 10 s more)."""
        self._stopping.set()
        if self._poller:
            self._poller.join(timeout=self.wait_seconds + 5)
        for lane in self._lanes.values():
            self._release_waiting(lane)
            lane.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._lane_threads:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))
        self.batcher.stop(timeout=10.0)
        logger.info("outbox consumer stopped", still_held=len(self._held))

    @property
    def in_flight(self) -> int:
        with self._held_lock:
            return len(self._held)

    # -- polling ------------------------------------------------------------------------------

    def _poll_loop(self) -> None:
        while not self._stopping.is_set():
            room = self.max_in_flight - self.in_flight
            if room < min(RECEIVE_BATCH, self.max_in_flight):  # a receive costs the same for 1 message or 10
                self._stopping.wait(0.2)
                continue
            try:
                batch = self.outbox.receive(max_messages=min(RECEIVE_BATCH, room), wait_seconds=self.wait_seconds)
            except Exception:
                logger.exception("outbox receive failed; backing off")
                self._stopping.wait(2.0)
                continue
            self._beat()
            for message in batch:
                if self._stopping.is_set():
                    self.batcher.change_visibility(message, 0)
                    continue
                body = _read(message)
                if body is None:
                    continue
                held = _Held(message, body, time.monotonic())
                with self._held_lock:
                    self._held[message.receipt_handle] = held
                self._lane(body.sender_id).put(held)

    def _beat(self) -> None:
        if self.heartbeat is None:
            return
        try:
            self.heartbeat()
        except Exception:  # a full disk must not stop the poll loop; the health check will notice
            logger.exception("could not record the outbox heartbeat")

    def _lane(self, sender_id: str) -> queue.Queue[_Held | None]:
        lane = self._lanes.get(sender_id)
        if lane is None:
            lane = queue.Queue()
            self._lanes[sender_id] = lane
            thread = threading.Thread(target=self._lane_loop, args=(lane,), name=f"lane-{sender_id}", daemon=True)
            self._lane_threads.append(thread)
            thread.start()
        return lane

    def _lane_loop(self, lane: queue.Queue[_Held | None]) -> None:
        while True:
            held = lane.get()
            if held is None:
                return
            if self._stopping.is_set():
                self._give_back(held.message)
                continue
            try:
                disposition = self.delivery.handle(held.body)
            except Exception:
                # Unexpected (AWS outage...): leave it to SQS; it comes back after the visibility timeout.
                logger.exception("delivery failed unexpectedly", sqs_message_id=held.message.message_id)
                self._forget(held.message)
                continue
            self.apply(held.message, disposition)

    # -- applying a disposition -----------------------------------------------------------------

    def apply(self, message: QueueMessage, disposition: Disposition) -> None:
        """Tell SQS what became of a message (its outcome is already recorded). No longer held, it gets no
        more heartbeats: what the disposition asks comes after any extension already pending."""
        self._forget(message)
        try:
            if disposition.act is Act.ACK:
                self.batcher.delete(message)
            elif disposition.act in (Act.RETRY, Act.WAIT):
                self.batcher.change_visibility(message, disposition.seconds)
            else:  # DEFER: a fresh copy with a delay, so the deferral never counts as a receive
                self._defer(message, disposition.seconds)
        except Exception:
            logger.exception("could not apply disposition", act=disposition.act, message_id=message.message_id)

    def _defer(self, message: QueueMessage, seconds: int) -> None:
        # the same message again, as received (a field a newer producer added survives the deferral); the
        # original is deleted only once the copy is on the queue
        self.outbox.send(message.body, delay_seconds=min(900, max(0, seconds)))
        self.batcher.delete(message)

    # -- visibility -----------------------------------------------------------------------------

    def _heartbeat_loop(self) -> None:
        while not self._stopping.wait(HEARTBEAT_EVERY / 3):
            now = time.monotonic()
            with self._held_lock:  # only while held: a disposition applied since then must come after
                for held in self._held.values():
                    if now - held.extended_at >= HEARTBEAT_EVERY:
                        held.extended_at = now
                        self.batcher.change_visibility(held.message, self.visibility_seconds)

    def _release_waiting(self, lane: queue.Queue[_Held | None]) -> None:
        while True:
            try:
                held = lane.get_nowait()
            except queue.Empty:
                return
            if held is not None:
                self._give_back(held.message)

    def _give_back(self, message: QueueMessage) -> None:
        self._forget(message)
        self.batcher.change_visibility(message, 0)

    def _forget(self, message: QueueMessage) -> None:
        with self._held_lock:
            self._held.pop(message.receipt_handle, None)


def _read(message: QueueMessage) -> OutboxMessage | None:
    """The outbox message in the body; None (logged) when it is not one (see the module docstring)."""
    try:
        return OutboxMessage.model_validate(message.body)
    except ValidationError as exc:
        logger.error("malformed outbox message; left for the DLQ", body=message.body, error=str(exc))
        return None
