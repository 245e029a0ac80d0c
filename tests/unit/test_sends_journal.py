"""The host's recent sends survive a crash: each is appended to the journal as it is remembered, and the next
host reads them back, skipping a torn last line, keeping only what its memory holds."""

from __future__ import annotations

from pathlib import Path

from session_host.sends_journal import FILE_NAME, SendsJournal
from wacast.domain.recent_sends import RecentSends


def journaled(directory: Path, capacity: int = 100) -> tuple[RecentSends, SendsJournal]:
    recent = RecentSends(capacity=capacity)
    journal = SendsJournal(directory, recent)
    recent.on_remember = journal.append
    return recent, journal


def test_sends_remembered_before_a_crash_are_named_after_it(tmp_path: Path) -> None:
    before, journal = journaled(tmp_path)
    journal.load()
    before.remember("s1", "P1", "m1")
    before.remember("s1", "P2", "m2")
    # the process dies here: no close(); a torn line was being written
    with (tmp_path / FILE_NAME).open("a") as file:
        file.write("s1\tP3")
    after, again = journaled(tmp_path)
    again.load()
    assert [after.message_of("s1", p) for p in ("P1", "P2", "P3")] == ["m1", "m2", None]
    after.remember("s2", "P9", "m9")
    again.close()
    last, _ = journaled(tmp_path)
    SendsJournal(tmp_path, last).load()
    assert last.message_of("s2", "P9") == "m9" and last.message_of("s1", "P1") == "m1"


def test_the_journal_keeps_only_what_the_memory_holds(tmp_path: Path) -> None:
    recent, journal = journaled(tmp_path, capacity=3)
    journal.load()
    for i in range(10):  # past twice the capacity: rewritten from memory
        recent.remember("s1", f"P{i}", f"m{i}")
    lines = (tmp_path / FILE_NAME).read_text().splitlines()
    assert len(lines) <= 7 and lines[-1] == "s1\tP9\tm9"
    after, again = journaled(tmp_path, capacity=3)
    again.load()
    assert [after.message_of("s1", f"P{i}") for i in range(10)] == [None] * 7 + ["m7", "m8", "m9"]


def test_a_missing_or_unwritable_store_never_stops_a_send(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the store should be")
    recent, journal = journaled(blocked)
    journal.load()  # nothing to read, nothing written: logged
    recent.remember("s1", "P1", "m1")  # the append fails: logged, the send stays remembered
    assert recent.message_of("s1", "P1") == "m1"
