"""The messages a session host sent lately, by (sender, provider id): a receipt the host publishes names its
message, so the events function reads that one item (half a read unit) instead of looking through the newest
sends to the receipt's recipient (an index query and a few consistent reads), and no message needs an index
entry by provider id (which cost a write unit per message).

Held in the host's memory and bounded: the oldest entries go first. The host keeps them across a restart, or
a crash, in its session store (session_host/sends_journal.py: a line appended per send, read back at start).
A receipt for a send the host does not remember (an old message) carries no message id and is found by its
recipient.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

#: Entries kept, for all the host's senders together (~150 bytes each: ~30 MB): at the safe pacing (a send
#: every 30-60 s) about a month of ten senders' sends.
RECENT_SENDS = 200_000


class RecentSends:
    """A bounded, thread-safe map (sender id, provider id) -> message id, oldest evicted first."""

    def __init__(
        self, capacity: int = RECENT_SENDS, on_remember: Callable[[str, str, str], None] | None = None
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        #: Told of each send remembered (not of those restored): where the host keeps them (a journal).
        self.on_remember = on_remember
        self._ids: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, sender_id: str, provider_id: str, message_id: str) -> None:
        self._put(sender_id, provider_id, message_id)
        if self.on_remember is not None:
            self.on_remember(sender_id, provider_id, message_id)

    def _put(self, sender_id: str, provider_id: str, message_id: str) -> None:
        with self._lock:
            self._ids[(sender_id, provider_id)] = message_id
            self._ids.move_to_end((sender_id, provider_id))
            while len(self._ids) > self.capacity:
                self._ids.popitem(last=False)

    def message_of(self, sender_id: str, provider_id: str) -> str | None:
        with self._lock:
            return self._ids.get((sender_id, provider_id))

    def entries(self) -> list[tuple[str, str, str]]:
        """(sender id, provider id, message id), the oldest first: what `restore` takes back."""
        with self._lock:
            return [(sender, provider, message) for (sender, provider), message in self._ids.items()]

    def restore(self, entries: list[tuple[str, str, str]]) -> None:
        """Remember `entries` (oldest first) as older than what is remembered now."""
        with self._lock:
            newer = list(self._ids.items())
            self._ids.clear()
        for sender, provider, message in entries[-self.capacity :]:
            self._put(sender, provider, message)
        for (sender, provider), message in newer:
            self._put(sender, provider, message)

    def __len__(self) -> int:
        with self._lock:
            return len(self._ids)
