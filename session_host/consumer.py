"""The outbox consumer: long-polls SQS, runs each message through the DeliveryService on its
sender's lane (one message at a time per sender), and applies the returned Disposition to SQS.

Messages waiting on a lane keep their visibility extended by a heartbeat. On stop, the message in
progress on each lane finishes; the waiting ones are handed back to SQS at once (visibility 0).

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

from wacast.domain.outbox import OutboxMessage
from wacast.observability import logger
from wacast.ports import Queue, QueueMessage
from wacast.services.delivery import Act, DeliveryService, Disposition
from wacast.settings import session_host_default

HEARTBEAT_EVERY = 30.0  # seconds between two extensions of a waiting message's visibility


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
    ) -> None:
        self.outbox = outbox
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
        self._poller.start()
        self._heartbeat.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Graceful: stop polling, finish in-progress sends, give every waiting message back to SQS."""
        self._stopping.set()
        if self._poller:
            self._poller.join(timeout=self.wait_seconds + 5)
        for lane in self._lanes.values():
            self._release_waiting(lane)
            lane.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._lane_threads:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))
        logger.info("outbox consumer stopped", still_held=len(self._held))

    @property
    def in_flight(self) -> int:
        with self._held_lock:
            return len(self._held)

    # -- polling ------------------------------------------------------------------------------

    def _poll_loop(self) -> None:
        while not self._stopping.is_set():
            room = self.max_in_flight - self.in_flight
            if room <= 0:
                self._stopping.wait(0.2)
                continue
            try:
                batch = self.outbox.receive(max_messages=min(10, room), wait_seconds=self.wait_seconds)
            except Exception:
                logger.exception("outbox receive failed; backing off")
                self._stopping.wait(2.0)
                continue
            self._beat()
            for message in batch:
                if self._stopping.is_set():
                    self._safe(self.outbox.change_visibility, message, 0)
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
        try:
            if disposition.act is Act.ACK:
                self.outbox.delete(message)
            elif disposition.act in (Act.RETRY, Act.WAIT):
                self.outbox.change_visibility(message, disposition.seconds)
            else:  # DEFER: a fresh copy with a delay, so the deferral never counts as a receive
                self._defer(message, disposition.seconds)
        except Exception:
            logger.exception("could not apply disposition", act=disposition.act, message_id=message.message_id)
        finally:
            self._forget(message)

    def _defer(self, message: QueueMessage, seconds: int) -> None:
        # the same message again, as received (a field a newer producer added survives the deferral)
        self.outbox.send(message.body, delay_seconds=min(900, max(0, seconds)))
        self.outbox.delete(message)

    # -- visibility -----------------------------------------------------------------------------

    def _heartbeat_loop(self) -> None:
        while not self._stopping.wait(HEARTBEAT_EVERY / 3):
            now = time.monotonic()
            with self._held_lock:
                due = [h for h in self._held.values() if now - h.extended_at >= HEARTBEAT_EVERY]
                for held in due:
                    held.extended_at = now
            for held in due:
                self._safe(self.outbox.change_visibility, held.message, self.visibility_seconds)

    def _release_waiting(self, lane: queue.Queue[_Held | None]) -> None:
        while True:
            try:
                held = lane.get_nowait()
            except queue.Empty:
                return
            if held is not None:
                self._give_back(held.message)

    def _give_back(self, message: QueueMessage) -> None:
        self._safe(self.outbox.change_visibility, message, 0)
        self._forget(message)

    def _forget(self, message: QueueMessage) -> None:
        with self._held_lock:
            self._held.pop(message.receipt_handle, None)

    @staticmethod
    def _safe(fn: object, *args: object) -> None:
        try:
            fn(*args)  # type: ignore[operator]
        except Exception:
            logger.exception("SQS call failed")


def _read(message: QueueMessage) -> OutboxMessage | None:
    """The outbox message in the body; None (logged) when it is not one (see the module docstring)."""
    try:
        return OutboxMessage.model_validate(message.body)
    except ValidationError as exc:
        logger.error("malformed outbox message; left for the DLQ", body=message.body, error=str(exc))
        return None
