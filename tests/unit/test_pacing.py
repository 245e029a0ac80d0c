from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from wacast.domain.pacing import (
    PacerState,
    PacingPlanner,
    PacingPolicy,
    PacingPreset,
    PresetGaps,
    SendingWindow,
    WarmupRamp,
    daily_cap_for,
    gap_bounds_ms,
    within_floor,
)

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
PRESETS = PresetGaps()


def plan(policy: PacingPolicy, count: int, seed: int = 1, hours: float = 1000) -> list[datetime]:
    times, _ = PacingPlanner(policy, PRESETS).plan(PacerState(seed=seed), count, NOW, NOW + timedelta(hours=hours))
    return times


@pytest.mark.parametrize(
    ("preset", "base"), [(PacingPreset.FAST, 2000), (PacingPreset.BALANCED, 5000), (PacingPreset.SAFE, 10000)]
)
def test_presets_use_their_base_gap_with_jitter_on_top(preset: PacingPreset, base: int) -> None:
    times = plan(PacingPolicy(preset=preset), 200)
    gaps = [(b - a).total_seconds() * 1000 for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= base
    assert max(gaps) <= base * 1.5
    assert len({round(g) for g in gaps}) > 50  # jittered: a fixed interval is a ban signal


def test_preset_gaps_follow_the_legacy_env_overrides() -> None:
    assert gap_bounds_ms(PacingPolicy(preset=PacingPreset.FAST), PresetGaps(fast_ms=700)) == (700, 1050)


def test_the_same_seed_gives_the_same_plan_and_another_seed_another() -> None:
    policy = PacingPolicy(preset=PacingPreset.FAST)
    assert plan(policy, 50, seed=3) == plan(policy, 50, seed=3)
    assert plan(policy, 50, seed=3) != plan(policy, 50, seed=4)


def test_a_plan_continued_in_windows_equals_one_long_plan() -> None:
    policy = PacingPolicy(preset=PacingPreset.BALANCED, pause_every=7, pause_ms=30_000)
    planner = PacingPlanner(policy, PRESETS)
    whole, _ = planner.plan(PacerState(seed=9), 60, NOW, NOW + timedelta(days=1))
    pieces: list[datetime] = []
    state = PacerState(seed=9)
    horizon = NOW
    while len(pieces) < 60:
        horizon += timedelta(minutes=1)
        times, state = planner.plan(state, 60 - len(pieces), NOW, horizon)
        pieces += times
    assert pieces == whole


def test_a_pause_every_n_messages() -> None:
    policy = PacingPolicy(preset=PacingPreset.CUSTOM, min_gap_ms=1000, max_gap_ms=1000, pause_every=5, pause_ms=60_000)
    times = plan(policy, 11)
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    assert gaps == [1, 1, 1, 1, 61, 1, 1, 1, 1, 61]


def test_the_sending_window_holds_in_its_time_zone() -> None:
    window = SendingWindow(start=time(9, 0), end=time(18, 0), timezone="Asia/Kolkata")
    policy = PacingPolicy(preset=PacingPreset.CUSTOM, min_gap_ms=600_000, window=window)
    times = plan(policy, 200)
    zone = ZoneInfo("Asia/Kolkata")
    for t in times:
        assert time(9, 0) <= t.astimezone(zone).time() < time(18, 0), t
    assert len({t.astimezone(zone).date() for t in times}) > 3  # it rolled over to later days


def test_a_window_that_wraps_midnight() -> None:
    window = SendingWindow(start=time(22, 0), end=time(2, 0), timezone="UTC")
    assert window.contains(time(23, 30)) and window.contains(time(1, 0)) and not window.contains(time(12, 0))


def test_the_daily_cap_holds() -> None:
    policy = PacingPolicy(preset=PacingPreset.CUSTOM, min_gap_ms=1000, daily_cap=25)
    times = plan(policy, 100)
    per_day: dict[object, int] = {}
    for t in times:
        per_day[t.date()] = per_day.get(t.date(), 0) + 1
    assert max(per_day.values()) == 25
    assert len(per_day) == 4


def test_warm_up_ramps_a_new_senders_cap() -> None:
    policy = PacingPolicy(daily_cap=100, warmup=WarmupRamp(start_cap=10, growth=2.0))
    assert [daily_cap_for(policy, d) for d in range(5)] == [10, 20, 40, 80, 100]
    planner = PacingPlanner(
        PacingPolicy(preset=PacingPreset.CUSTOM, min_gap_ms=1000, daily_cap=100, warmup=policy.warmup),
        PRESETS,
        sender_created=NOW,
    )
    times, _ = planner.plan(PacerState(seed=1), 30, NOW, NOW + timedelta(days=10))
    assert sum(1 for t in times if t.date() == NOW.date()) == 10
    assert sum(1 for t in times if t.date() == NOW.date() + timedelta(days=1)) == 20


def test_a_custom_policy_must_be_coherent() -> None:
    with pytest.raises(ValidationError):
        PacingPolicy(preset=PacingPreset.CUSTOM)
    with pytest.raises(ValidationError):
        PacingPolicy(preset=PacingPreset.CUSTOM, min_gap_ms=5000, max_gap_ms=1000)
    with pytest.raises(ValidationError):
        SendingWindow(timezone="Mars/Olympus")


def test_the_plan_never_passes_its_horizon() -> None:
    times, state = PacingPlanner(PacingPolicy(preset=PacingPreset.FAST), PRESETS).plan(
        PacerState(seed=1), 10_000, NOW, NOW + timedelta(minutes=15)
    )
    assert times and max(times) <= NOW + timedelta(minutes=15)
    assert state.next_at is not None and state.next_at > NOW + timedelta(minutes=15) - timedelta(seconds=3)


def test_a_campaign_may_plan_slower_than_its_sender_never_faster() -> None:
    sender = PacingPolicy(preset=PacingPreset.BALANCED, daily_cap=100)
    faster = PacingPolicy(preset=PacingPreset.CUSTOM, min_gap_ms=1000, max_gap_ms=2000, daily_cap=500)
    floored = within_floor(faster, sender, PRESETS)
    assert gap_bounds_ms(floored, PRESETS) == (5000, 7500) and floored.daily_cap == 100
    window = SendingWindow(start=time(9, 0), end=time(17, 0))
    slower = PacingPolicy(preset=PacingPreset.SAFE, window=window)
    # already slower: its own gaps and window stay; the sender's daily cap still applies
    assert within_floor(slower, sender, PRESETS) == slower.model_copy(update={"daily_cap": 100})


def test_the_senders_pauses_carry_into_a_campaigns_plan() -> None:
    sender = PacingPolicy(preset=PacingPreset.FAST, pause_every=50, pause_ms=600_000)
    campaign = PacingPolicy(preset=PacingPreset.SAFE)
    floored = within_floor(campaign, sender, PRESETS)
    assert (floored.pause_every, floored.pause_ms) == (50, 600_000)
    assert gap_bounds_ms(floored, PRESETS) == gap_bounds_ms(campaign, PRESETS)
