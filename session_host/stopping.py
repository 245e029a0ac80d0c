"""Waiting for the signal that stops a long-running process (ECS sends SIGTERM; a terminal SIGINT)."""

from __future__ import annotations

import signal
import time

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def wait_for_stop_signal(signals: tuple[signal.Signals, ...] = STOP_SIGNALS, poll: float = 0.2) -> int:
    """Block until one of `signals` arrives; returns its number. The handler takes no lock (appending to a
    list is atomic): a second signal arriving while the first one's handler runs cannot deadlock it, as
    `threading.Event.set` from two nested handlers can."""
    received: list[int] = []
    for signum in signals:
        signal.signal(signum, lambda number, _: received.append(number))
    while not received:
        time.sleep(poll)
    return received[0]
