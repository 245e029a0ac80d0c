"""Receipts leave the host in batches: the ones that arrive within a short window go to the events queue as
one ReceiptBatchEvent, one receipt per message (a READ makes a DELIVERED of the same message redundant:
the state machine moves SENT -> READ in one write).

Once started, a background thread publishes what is pending `window` seconds after the first of it
arrived; `max_receipts` waiting publish at once; `stop` publishes the rest. Without the thread (not
started, or stopped), each driver callback's receipts are published at once. A publish that fails keeps
its receipts for the next try (a window later); past `max_pending`, the oldest are dropped and logged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from wacast.domain.events import Receipt, ReceiptBatchEvent, strongest
from wacast.observability import logger
from wacast.ports import EventPublisher

RECEIPT_WINDOW = 3.0  # seconds a receipt may wait for others to share its SQS message (and its write)
#: Receipts per event: about 250 bytes each, so an event stays well inside SQS's first 64 KB (billed as one).
MAX_RECEIPTS = 100
MAX_PENDING = 10_000  # receipts held while the events queue refuses them, before the oldest are dropped
TICK = 0.1  # seconds between two looks at the window


class ReceiptBuffer:
    """Collects receipts for up to `window` seconds and publishes them as ReceiptBatchEvents."""

    def __init__(
        self,
        publisher: EventPublisher,
        window: float = RECEIPT_WINDOW,
        max_receipts: int = MAX_RECEIPTS,
        max_pending: int = MAX_PENDING,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.publisher = publisher
        self.window = window
        self.max_receipts = max_receipts
        self.max_pending = max_pending
        self.monotonic = monotonic
        self._pending: dict[tuple[str, str], Receipt] = {}
        self._opened = 0.0  # when the first pending receipt arrived (monotonic)
        self._lock = threading.Lock()
        self._running = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            self._running = True
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="receipts", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Publish what is pending (waiting at most `timeout` seconds); from now on, publish at once."""
        with self._lock:
            self._running = False
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.flush()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def add(self, receipts: Iterable[Receipt]) -> None:
        with self._lock:
            if not self._pending:
                self._opened = self.monotonic()
            self._merge(receipts)
            at_once = not self._running or len(self._pending) >= self.max_receipts
        if at_once:
            self.flush()

    def flush_due(self) -> None:
        """Publish what is pending if its window has passed."""
        with self._lock:
            due = bool(self._pending) and self.monotonic() - self._opened >= self.window
        if due:
            self.flush()

    def flush(self) -> None:
        """Publish everything pending now, `max_receipts` per event."""
        with self._lock:
            receipts, self._pending = list(self._pending.values()), {}
        for start in range(0, len(receipts), self.max_receipts):
            chunk = receipts[start : start + self.max_receipts]
            try:
                self.publisher.publish(ReceiptBatchEvent(receipts=chunk).model_dump(mode="json"))
            except Exception:
                logger.exception("could not publish receipts; kept for the next try", receipts=len(chunk))
                with self._lock:
                    self._opened = self.monotonic()
                    self._merge(receipts[start:])
                return

    def _merge(self, receipts: Iterable[Receipt]) -> None:
        """With the lock held: one receipt per message, the one that says the most."""
        self._pending = strongest([*self._pending.values(), *receipts])
        excess = len(self._pending) - self.max_pending
        if excess > 0:
            for key in list(self._pending)[:excess]:
                del self._pending[key]
            logger.error("receipts dropped: the events queue kept refusing them", dropped=excess)

    def _run(self) -> None:
        while not self._stopping.wait(TICK):
            self.flush_due()
