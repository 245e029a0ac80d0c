"""The host's recent sends on its session store (the sessions' own volume, which outlives the task): one line
per send (sender id, provider id, message id), appended and flushed as the send is recorded, so the host that
follows a crash, not only a clean stop, still names the messages of the receipts that keep coming for them
(wacast.domain.recent_sends). Read back at start, rewritten from memory at start, at stop and whenever the
file has grown to twice what the memory holds. A line that does not read back (a torn last line) is skipped.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import IO

from wacast.domain.recent_sends import RecentSends
from wacast.observability import logger

FILE_NAME = "recent-sends.tsv"


class SendsJournal:
    def __init__(self, directory: str | Path, recent: RecentSends) -> None:
        self.path = Path(directory) / FILE_NAME
        self.recent = recent
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        self._lines = 0

    def load(self) -> None:
        """Remember what the file holds (older than anything remembered since), then rewrite it compactly."""
        entries: list[tuple[str, str, str]] = []
        try:
            with self.path.open(encoding="utf-8") as lines:
                for line in lines:
                    fields = line.rstrip("\n").split("\t")
                    if line.endswith("\n") and len(fields) == 3 and all(fields):
                        entries.append((fields[0], fields[1], fields[2]))
                        if len(entries) > 2 * self.recent.capacity:
                            del entries[: self.recent.capacity]  # bounded: only the newest can be kept
        except FileNotFoundError:
            logger.info("no recent sends journaled yet", path=str(self.path))  # a first start
        except OSError as exc:  # unreadable: those receipts are found by their recipient
            logger.warning("could not read the recent sends", error=str(exc))
        self.recent.restore(entries)
        with self._lock:
            self._rewrite()
        logger.info("recent sends loaded", entries=len(self.recent))

    def append(self, sender_id: str, provider_id: str, message_id: str) -> None:
        """One send, appended (never raises: the send is recorded in the table already)."""
        if any("\t" in x or "\n" in x for x in (sender_id, provider_id, message_id)):
            return
        with self._lock:
            try:
                if self._file is None:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    self._file = self.path.open("a", encoding="utf-8")
                self._file.write(f"{sender_id}\t{provider_id}\t{message_id}\n")
                self._file.flush()
                self._lines += 1
                if self._lines > 2 * self.recent.capacity:
                    self._rewrite()
            except OSError as exc:
                logger.warning("could not append to the recent sends", error=str(exc))

    def close(self) -> None:
        with self._lock:
            self._rewrite()
            if self._file is not None:
                self._file.close()
                self._file = None

    def _rewrite(self) -> None:
        """With the lock held: the file becomes what the memory holds, in one rename."""
        try:
            if self._file is not None:
                self._file.close()
                self._file = None
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(".partial")
            entries = self.recent.entries()
            partial.write_text("".join(f"{s}\t{p}\t{m}\n" for s, p, m in entries), encoding="utf-8")
            os.replace(partial, self.path)
            self._lines = len(entries)
        except OSError as exc:
            logger.warning("could not rewrite the recent sends", error=str(exc))
