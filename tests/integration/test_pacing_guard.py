"""The pacing guard's conditional writes: the minimum gap and the daily cap hold across hosts."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from tests.integration.services import Services
from wacast.domain.pacing import PacingPolicy, PacingPreset, SendingWindow
from wacast.domain.senders import Sender

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def sender(policy: PacingPolicy, sender_id: str = "s1") -> Sender:
    return Sender(id=sender_id, account_id="a1", pacing=policy, created_at=NOW - timedelta(days=400))


def test_no_two_slots_closer_than_the_minimum_gap(services: Services) -> None:
    guard = services.repos.pacing_guard
    s = sender(PacingPolicy(preset=PacingPreset.CUSTOM, min_gap_ms=5000))
    assert guard.reserve(s, NOW) == 0
    wait = guard.reserve(s, NOW + timedelta(seconds=2))
    assert 2.9 <= wait <= 3.0
    assert guard.reserve(s, NOW + timedelta(seconds=5)) == 0
    assert guard.reserve(sender(s.pacing, "s2"), NOW + timedelta(seconds=5)) == 0  # per sender


def test_the_daily_cap_holds_until_the_next_day(services: Services) -> None:
    guard = services.repos.pacing_guard
    s = sender(PacingPolicy(preset=PacingPreset.CUSTOM, min_gap_ms=0, daily_cap=3))
    assert [guard.reserve(s, NOW + timedelta(seconds=i)) for i in range(3)] == [0, 0, 0]
    wait = guard.reserve(s, NOW + timedelta(seconds=3))
    assert wait == (datetime(2026, 11, 29, tzinfo=UTC) - (NOW + timedelta(seconds=3))).total_seconds()
    assert guard.reserve(s, datetime(2026, 11, 29, 0, 0, 1, tzinfo=UTC)) == 0


def test_outside_the_window_the_guard_waits_for_it_to_open(services: Services) -> None:
    window = SendingWindow(start=time(18, 0), end=time(20, 0), timezone="Asia/Kolkata")  # 12:30-14:30 UTC
    s = sender(PacingPolicy(preset=PacingPreset.FAST, window=window))
    assert services.repos.pacing_guard.reserve(s, NOW) == 2.5 * 3600


def test_a_pause_comes_after_every_n_sends_of_the_sender_whatever_sends_them(services: Services) -> None:
    guard = services.repos.pacing_guard
    s = sender(PacingPolicy(preset=PacingPreset.CUSTOM, min_gap_ms=1000, pause_every=3, pause_ms=60_000), "s9")
    # three sends (of any campaigns, or direct ones: the guard sees only the sender) a second apart
    assert [guard.reserve(s, NOW + timedelta(seconds=i)) for i in range(3)] == [0, 0, 0]
    wait = guard.reserve(s, NOW + timedelta(seconds=3))
    assert 59.9 <= wait <= 60.0  # the 4th waits for the pause: 1 s gap + 60 s pause after the 3rd (at 2 s)
    assert guard.reserve(s, NOW + timedelta(seconds=63)) == 0  # then a new streak
    assert guard.reserve(s, NOW + timedelta(seconds=64)) == 0
    assert guard.reserve(s, NOW + timedelta(seconds=65)) == 0
    assert guard.reserve(s, NOW + timedelta(seconds=66)) > 0
