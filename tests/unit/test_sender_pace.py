"""The sender's pace across campaigns: two campaigns of one sender, each planned on its own (as the
dispatcher plans them), sent through the sender's guard on a fake clock. 100,000 sends, 0 violations of
the minimum gap, the pause every N (across both campaigns), the daily cap or the window; nothing lost."""

from __future__ import annotations

import heapq
from datetime import UTC, datetime, time, timedelta

from wacast.domain.pacing import (
    PacerState,
    PacingPlanner,
    PacingPolicy,
    PacingPreset,
    PresetGaps,
    SendingWindow,
    within_floor,
)
from wacast.domain.sender_pace import PaceRules, SenderPace, admit, violations

T0 = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)
PRESETS = PresetGaps()
SENDER_POLICY = PacingPolicy(
    preset=PacingPreset.CUSTOM,
    min_gap_ms=1000,
    max_gap_ms=2000,
    pause_every=20,
    pause_ms=30_000,
    daily_cap=40_000,
    window=SendingWindow(start=time(6, 0), end=time(23, 0), timezone="Asia/Kolkata"),
)
# Each campaign plans slower than its sender, with its own pauses: together they ask for about what the
# sender may send, and their pauses (every 25 of each) never line up with the sender's (every 20 of all).
SEEDS = {"spring": 11, "summer": 29}
CAMPAIGN_POLICY = PacingPolicy(preset=PacingPreset.CUSTOM, min_gap_ms=4000, max_gap_ms=6000, pause_every=25)


def plan(campaign: str, count: int) -> list[datetime]:
    """The send times the dispatcher plans for one campaign (the sender's rules are its floor)."""
    policy = within_floor(CAMPAIGN_POLICY, SENDER_POLICY, PRESETS)
    planner = PacingPlanner(policy, PRESETS, sender_created=T0 - timedelta(days=400))
    times, _ = planner.plan(PacerState(seed=SEEDS[campaign]), count, T0, T0 + timedelta(days=3650))
    return times


def run(sends_per_campaign: int) -> tuple[list[datetime], int]:
    """Every planned message reaches the host at its time; the guard sends it or defers it (a deferral,
    never an attempt) until it may go. Returns the send times and how many deferrals there were."""
    rules = PaceRules.of(SENDER_POLICY, PRESETS)
    created = T0 - timedelta(days=400)
    queue: list[tuple[datetime, int, str]] = []
    for campaign in ("spring", "summer"):
        for i, at in enumerate(plan(campaign, sends_per_campaign)):
            queue.append((at, i, campaign))
    heapq.heapify(queue)
    pace, sent, deferrals = SenderPace(), [], 0
    for _ in range(20 * 2 * sends_per_campaign):  # bounded: each message is deferred a few times at most
        if not queue:
            break
        at, i, campaign = heapq.heappop(queue)
        wait, pace = admit(pace, rules, at, created)
        if wait > 0:
            deferrals += 1
            heapq.heappush(queue, (at + timedelta(seconds=wait), i, campaign))
        else:
            sent.append(at)
    assert not queue, "messages were left waiting"
    return sent, deferrals


def test_two_campaigns_on_one_sender_never_break_its_pacing_over_100_000_sends() -> None:
    sent, deferrals = run(50_000)
    rules = PaceRules.of(SENDER_POLICY, PRESETS)
    assert len(sent) == 100_000  # nothing lost
    assert violations(sent, rules, T0 - timedelta(days=400)) == []
    assert deferrals > 0  # the campaigns did collide: the guard had work to do
    pauses = sum(1 for a, b in zip(sent, sent[1:], strict=False) if b - a >= rules.rested_gap)
    assert pauses >= len(sent) // 20 - 1  # a pause at least every 20 sends of the sender, not of each campaign


def test_without_the_guard_the_merged_plans_break_the_senders_pause_rule() -> None:
    # the oracle sees what the guard prevents: the two plans merged as they come
    merged = sorted(plan("spring", 2000) + plan("summer", 2000))
    found = violations(merged, PaceRules.of(SENDER_POLICY, PRESETS), T0 - timedelta(days=400), limit=1000)
    assert any("without a pause" in v for v in found) and any("after the previous send" in v for v in found)


def test_the_guard_makes_the_pause_after_every_n_sends_and_counts_a_quiet_spell_as_one() -> None:
    policy = PacingPolicy(preset=PacingPreset.CUSTOM, min_gap_ms=1000, pause_every=3, pause_ms=60_000)
    rules = PaceRules.of(policy, PRESETS)
    pace, now = SenderPace(), T0
    for _ in range(3):
        wait, pace = admit(pace, rules, now, None)
        assert wait == 0
        now += timedelta(seconds=1)
    wait, held = admit(pace, rules, now, None)
    assert wait == 60 and held == pace  # the 4th waits for the pause
    now += timedelta(seconds=60)
    wait, pace = admit(pace, rules, now, None)
    assert wait == 0 and pace.since_pause == 1
    wait, pace = admit(pace, rules, now + timedelta(seconds=1), None)
    assert wait == 0 and pace.since_pause == 2
    wait, pace = admit(pace, rules, now + timedelta(seconds=100), None)  # a quiet spell: the streak restarts
    assert wait == 0 and pace.since_pause == 1


def test_the_daily_cap_and_the_window_hold() -> None:
    policy = PacingPolicy(
        preset=PacingPreset.CUSTOM, min_gap_ms=0, daily_cap=2, window=SendingWindow(start=time(9, 0), end=time(17, 0))
    )
    rules = PaceRules.of(policy, PRESETS)
    night = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
    assert admit(SenderPace(), rules, night, None)[0] == 6 * 3600
    pace, day = SenderPace(), datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    for i in range(2):
        wait, pace = admit(pace, rules, day + timedelta(seconds=i), None)
        assert wait == 0
    wait, _ = admit(pace, rules, day + timedelta(seconds=2), None)
    assert wait == (datetime(2026, 11, 3, 9, 0, tzinfo=UTC) - (day + timedelta(seconds=2))).total_seconds()
