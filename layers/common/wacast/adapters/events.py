"""Publishes WhatsApp-side happenings (receipts, incoming messages, session state) to the events queue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wacast.ports import Queue


class QueueEventPublisher:
    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    def publish(self, event: Mapping[str, Any]) -> None:
        self.queue.send(event)
