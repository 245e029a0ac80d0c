"""What the outbox consumer tells SQS about the messages it received (delete, change visibility), sent in
batches: DeleteMessageBatch and ChangeMessageVisibilityBatch, 10 entries per request.

Whoever hands a message over has already done what must come first: the delivery service records a
message's outcome before it returns the disposition that deletes it. Once running, a background thread
sends what is pending `interval` seconds after the first of it arrived (at once when a request's worth
of 10 is waiting), and `stop` sends the rest (its wait is bounded). Without the thread (not started, or
stopped), each is sent at once. A message waits here at most about `interval`, far less than the
visibility timeout the consumer's heartbeat keeps it under, so it never comes back to another worker
while waiting.

An entry SQS refuses, or a request that fails, is tried once more and then left to SQS: the message
comes back after its visibility timeout, and a settled message is acknowledged again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from wacast.observability import logger
from wacast.ports import Queue, QueueMessage

BATCH = 10  # entries per SQS batch request
E = TypeVar("E", QueueMessage, tuple[QueueMessage, int])


class QueueBatcher:
    """Deletes and visibility changes of one queue, sent 10 per request at least every `interval` seconds."""

    def __init__(self, queue: Queue, interval: float = 1.0) -> None:
        self.queue = queue
        self.interval = interval
        self._deletes: list[QueueMessage] = []
        self._changes: dict[str, tuple[QueueMessage, int]] = {}  # by receipt handle: the latest change wins
        self._opened = 0.0  # when the first of what is pending arrived (monotonic)
        self._cond = threading.Condition()
        self._running = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._cond:
            self._running = True
        self._thread = threading.Thread(target=self._run, name=f"{self.queue.name}-batches", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Send everything pending (waiting at most `timeout` seconds); from now on, each is sent at once."""
        with self._cond:
            self._running = False
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.warning("SQS batches still being sent at stop; SQS gives back what they miss", queue=self.name)

    @property
    def name(self) -> str:
        return self.queue.name

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._deletes) + len(self._changes)

    def delete(self, message: QueueMessage) -> None:
        with self._cond:
            if self._running:
                self._opening()
                self._deletes.append(message)
                if len(self._deletes) >= BATCH:
                    self._cond.notify()
                return
        self._send([message], [])

    def change_visibility(self, message: QueueMessage, seconds: int) -> None:
        with self._cond:
            if self._running:
                self._opening()
                self._changes[message.receipt_handle] = (message, seconds)
                if len(self._changes) >= BATCH:
                    self._cond.notify()
                return
        self._send([], [(message, seconds)])

    def _opening(self) -> None:
        """With the lock held, before an entry is added: the first one opens the interval."""
        if not self._deletes and not self._changes:
            self._opened = time.monotonic()
            self._cond.notify()

    def flush(self) -> None:
        """Send what is pending now."""
        with self._cond:
            deletes, self._deletes = self._deletes, []
            changes, self._changes = list(self._changes.values()), {}
        self._send(deletes, changes)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._running and (wait := self._wait()) != 0.0:
                    self._cond.wait(wait)
                running = self._running
            self.flush()
            if not running:
                return

    def _wait(self) -> float | None:
        """With the lock held: seconds until what is pending is due (0: now; None: nothing pending)."""
        if len(self._deletes) >= BATCH or len(self._changes) >= BATCH:
            return 0.0
        if not self._deletes and not self._changes:
            return None
        return max(0.0, self._opened + self.interval - time.monotonic())

    def _send(self, deletes: list[QueueMessage], changes: list[tuple[QueueMessage, int]]) -> None:
        deleted = {m.receipt_handle for m in deletes}
        # a message about to be deleted needs no more visibility; changes go first, so none lands on a
        # message already deleted
        changes = [c for c in changes if c[0].receipt_handle not in deleted]
        if changes:
            self._twice("change visibility", self.queue.change_visibility_batch, changes, lambda c: c[0])
        if deletes:
            self._twice("delete", self.queue.delete_batch, deletes, lambda m: m)

    def _twice(
        self,
        what: str,
        call: Callable[[list[E]], list[QueueMessage]],
        entries: list[E],
        message_of: Callable[[E], QueueMessage],
    ) -> None:
        for _ in range(2):
            try:
                refused = {m.receipt_handle for m in call(entries)}
            except Exception:
                logger.exception("SQS batch request failed", queue=self.name, operation=what, entries=len(entries))
                refused = {message_of(e).receipt_handle for e in entries}
            entries = [e for e in entries if message_of(e).receipt_handle in refused]
            if not entries:
                return
        logger.warning(
            "SQS refused entries twice; left to SQS (they come back after their visibility timeout)",
            queue=self.name,
            operation=what,
            message_ids=[message_of(e).message_id for e in entries],
        )
