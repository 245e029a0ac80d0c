"""The sender's own pace, across all its campaigns and direct messages: the last guard of pacing.

Each campaign plans its sends (wacast.domain.pacing.PacingPlanner), but two campaigns of one sender plan
without seeing each other, so the sender's rules are enforced once more, per send, on the sender's one
pace record (the pacing guard, wacast.adapters.dynamo.pacing, holds it in DynamoDB):
- never two sends closer than the minimum gap;
- after `pause_every` sends, a pause of `pause_ms` (on top of the gap) before the next one; a quiet spell
  that long counts as the pause;
- never more than the day's cap (warm-up applied), and only inside the sending window.
`admit` decides; `violations` checks a finished sequence of sends against the same rules (the tests'
oracle). Pure code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from wacast.domain.pacing import (
    PacingPolicy,
    PresetGaps,
    age_in_days,
    daily_cap_for,
    gap_bounds_ms,
    into_window,
    next_day_opening,
    sending_day,
)


@dataclass(frozen=True)
class SenderPace:
    last_send_at: datetime | None = None
    day: date | None = None
    day_count: int = 0
    since_pause: int = 0  # sends since the last pause (or quiet spell)


@dataclass(frozen=True)
class PaceRules:
    """A policy resolved for one sender: its gaps, pause, cap and window."""

    policy: PacingPolicy
    min_gap: timedelta
    pause: timedelta | None  # None: no pause rule
    pause_every: int | None

    @classmethod
    def of(cls, policy: PacingPolicy, presets: PresetGaps) -> PaceRules:
        min_gap = timedelta(milliseconds=gap_bounds_ms(policy, presets)[0])
        pause = timedelta(milliseconds=policy.pause_ms) if policy.pause_every else None
        return cls(policy, min_gap, pause, policy.pause_every)

    @property
    def rested_gap(self) -> timedelta:
        """The gap that counts as a pause."""
        return self.min_gap + (self.pause or timedelta(0))

    def cap(self, sender_created: datetime | None, day: date) -> int | None:
        return daily_cap_for(self.policy, age_in_days(self.policy, sender_created, day))


def admit(
    pace: SenderPace, rules: PaceRules, now: datetime, sender_created: datetime | None
) -> tuple[float, SenderPace]:
    """(0, the pace after a send at `now`) when the sender may send now; else (seconds to wait, `pace`)."""
    opens = into_window(rules.policy, now)
    if opens > now:
        return (opens - now).total_seconds(), pace
    today = sending_day(rules.policy, now)
    used = pace.day_count if pace.day == today else 0
    cap = rules.cap(sender_created, today)
    if cap is not None and used >= cap:
        return (next_day_opening(rules.policy, today, now.tzinfo) - now).total_seconds(), pace
    rested = False
    if pace.last_send_at is not None:
        since = now - pace.last_send_at
        rested = rules.pause is not None and since >= rules.rested_gap
        needs_pause = rules.pause_every is not None and pace.since_pause >= rules.pause_every
        gap = rules.rested_gap if needs_pause else rules.min_gap
        if since < gap:
            return (gap - since).total_seconds(), pace
    streak = 1 if rested or pace.last_send_at is None else pace.since_pause + 1
    return 0.0, replace(pace, last_send_at=now, day=today, day_count=used + 1, since_pause=streak)


def violations(
    sends: Sequence[datetime], rules: PaceRules, sender_created: datetime | None, limit: int = 20
) -> list[str]:
    """What in a sender's sends (in time order) breaks its rules: each broken rule, up to `limit`."""
    found: list[str] = []
    streak, day, count = 0, None, 0
    previous: datetime | None = None
    for at in sends:
        if into_window(rules.policy, at) != at:
            found.append(f"{at.isoformat()}: outside the sending window")
        today = sending_day(rules.policy, at)
        count = count + 1 if today == day else 1
        day = today
        cap = rules.cap(sender_created, today)
        if cap is not None and count > cap:
            found.append(f"{at.isoformat()}: send {count} of the day, over the cap of {cap}")
        if previous is not None:
            since = at - previous
            if since < rules.min_gap:
                found.append(f"{at.isoformat()}: {since.total_seconds()} s after the previous send")
            rested = rules.pause is not None and since >= rules.rested_gap
            streak = 1 if rested else streak + 1
        else:
            streak = 1
        if rules.pause_every is not None and streak > rules.pause_every:
            found.append(f"{at.isoformat()}: {streak} sends without a pause (every {rules.pause_every})")
        previous = at
        if len(found) >= limit:
            break
    return found
