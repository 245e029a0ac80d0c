"""Pacing (anti-ban): policies and the planner that turns a policy into send times.

Pure code: the caller passes `now` and a seed, so the same seed always gives the same plan.
A fixed interval is itself a ban signal, so every gap is drawn between a min and a max.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator, model_validator


class PacingPreset(StrEnum):
    FAST = "fast"
    BALANCED = "balanced"
    SAFE = "safe"
    CUSTOM = "custom"


class SendingWindow(BaseModel):
    """Quiet hours: sends happen only between `start` and `end` local time in `timezone`."""

    start: time = time(9, 0)
    end: time = time(20, 0)
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.start == self.end:
            raise ValueError("the sending window is empty: start equals end")
        return self

    def contains(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # wraps past midnight


class WarmupRamp(BaseModel):
    """A new number starts with a small daily cap that grows each day until the policy's cap."""

    start_cap: int = Field(default=20, ge=1)
    growth: float = Field(default=1.5, ge=1.0, le=10.0)


class PacingPolicy(BaseModel):
    """How fast one sender may send. Presets resolve to min/max gaps; `custom` uses the fields as given."""

    preset: PacingPreset = PacingPreset.BALANCED
    min_gap_ms: int | None = Field(default=None, ge=0, le=3_600_000)
    max_gap_ms: int | None = Field(default=None, ge=0, le=3_600_000)
    pause_every: int | None = Field(default=None, ge=1, description="take a pause after this many messages")
    pause_ms: int = Field(default=60_000, ge=0, le=86_400_000)
    daily_cap: int | None = Field(default=None, ge=1)
    window: SendingWindow | None = None
    warmup: WarmupRamp | None = None

    @model_validator(mode="after")
    def _gaps_ordered(self) -> Self:
        if self.preset is PacingPreset.CUSTOM and self.min_gap_ms is None:
            raise ValueError("a custom pacing policy needs min_gap_ms")
        if self.min_gap_ms is not None and self.max_gap_ms is not None and self.max_gap_ms < self.min_gap_ms:
            raise ValueError("max_gap_ms must not be below min_gap_ms")
        return self


class PresetGaps(BaseModel):
    """Base gaps of the presets (DELAY_FAST/BALANCED/SAFE, from settings)."""

    fast_ms: int = 2000
    balanced_ms: int = 5000
    safe_ms: int = 10000


JITTER = 0.5  # presets draw each gap from [base, base * (1 + JITTER)]


def gap_bounds_ms(policy: PacingPolicy, presets: PresetGaps) -> tuple[int, int]:
    """The (min, max) gap in ms between two sends of one sender under `policy`."""
    base = {
        PacingPreset.FAST: presets.fast_ms,
        PacingPreset.BALANCED: presets.balanced_ms,
        PacingPreset.SAFE: presets.safe_ms,
    }.get(policy.preset)
    low = policy.min_gap_ms if policy.min_gap_ms is not None else (base or 0)
    high = policy.max_gap_ms if policy.max_gap_ms is not None else max(low, round(low * (1 + JITTER)))
    return low, max(low, high)


def within_floor(policy: PacingPolicy, floor: PacingPolicy, presets: PresetGaps) -> PacingPolicy:
    """`policy` (a campaign's), made no faster than `floor` (its sender's): the sender's minimum gap,
    daily cap and pauses still apply, so a campaign may plan slower than its sender, never faster. A
    campaign without a sending window or warm-up ramp of its own plans inside its sender's (else it would
    plan sends the sender's guard can only hold back)."""
    low, high = gap_bounds_ms(policy, presets)
    floor_low, floor_high = gap_bounds_ms(floor, presets)
    caps = [c for c in (policy.daily_cap, floor.daily_cap) if c is not None]
    pauses = [n for n in (policy.pause_every, floor.pause_every) if n is not None]
    update: dict[str, object] = {
        "daily_cap": min(caps) if caps else None,
        "pause_every": min(pauses) if pauses else None,
        "pause_ms": max(policy.pause_ms, floor.pause_ms) if floor.pause_every else policy.pause_ms,
        "window": policy.window or floor.window,
        "warmup": policy.warmup or floor.warmup,
    }
    if low < floor_low:
        update |= {"preset": PacingPreset.CUSTOM, "min_gap_ms": floor_low, "max_gap_ms": max(high, floor_high)}
    return policy.model_copy(update=update)


def daily_cap_for(policy: PacingPolicy, sender_age_days: int) -> int | None:
    """The cap of a sender that is `sender_age_days` old (warm-up ramp applied), or None for no cap."""
    if policy.warmup is None:
        return policy.daily_cap
    ramp = int(policy.warmup.start_cap * policy.warmup.growth ** max(0, sender_age_days))
    return ramp if policy.daily_cap is None else min(ramp, policy.daily_cap)


def zone_of(policy: PacingPolicy) -> ZoneInfo:
    return ZoneInfo(policy.window.timezone if policy.window else "UTC")


def into_window(policy: PacingPolicy, slot: datetime) -> datetime:
    """`slot` if the sending window allows it, else the next time the window opens."""
    window = policy.window
    if window is None:
        return slot
    zone = zone_of(policy)
    local = slot.astimezone(zone)
    if window.contains(local.timetz().replace(tzinfo=None)):
        return slot
    start_today = datetime.combine(local.date(), window.start, zone)
    start = start_today if start_today > local else start_today + timedelta(days=1)
    return start.astimezone(slot.tzinfo)


def next_day_opening(policy: PacingPolicy, day: date, tzinfo: tzinfo | None) -> datetime:
    """When sending may start on the day after `day` (the window's start, or midnight)."""
    opens = policy.window.start if policy.window else time(0, 0)
    return datetime.combine(day + timedelta(days=1), opens, zone_of(policy)).astimezone(tzinfo)


def sending_day(policy: PacingPolicy, moment: datetime) -> date:
    """The day a send at `moment` counts toward (daily caps), in the window's zone."""
    return moment.astimezone(zone_of(policy)).date()


def age_in_days(policy: PacingPolicy, created: datetime | None, day: date) -> int:
    """How many days old a sender is on `day` (unknown creation: fully warmed up)."""
    return 10_000 if created is None else (day - sending_day(policy, created)).days


class PacerState(BaseModel):
    """Where a plan stopped, so a continuation carries on exactly as one long plan would."""

    seed: int
    drawn: int = 0  # messages planned so far: indexes the per-message random stream
    next_at: datetime | None = None  # earliest time of the next send
    last_at: datetime | None = None  # the last send planned so far
    since_pause: int = 0
    day: date | None = None  # the sending day (in the window's zone) `day_count` belongs to
    day_count: int = 0


class PacingPlanner:
    """Plans send times for one sender under one policy."""

    def __init__(self, policy: PacingPolicy, presets: PresetGaps, sender_created: datetime | None = None) -> None:
        self.policy = policy
        self.min_gap_ms, self.max_gap_ms = gap_bounds_ms(policy, presets)
        self.sender_created = sender_created

    def plan(
        self, state: PacerState, count: int, now: datetime, horizon: datetime
    ) -> tuple[list[datetime], PacerState]:
        """Up to `count` send times, none after `horizon`, and the state to continue from."""
        times: list[datetime] = []
        st = state.model_copy(deep=True)
        while len(times) < count:
            slot = self._next_slot(st, now)
            if slot > horizon:
                break
            times.append(slot)
            self._advance(st, slot)
        return times, st

    def _rng(self, st: PacerState) -> random.Random:
        return random.Random(f"{st.seed}:{st.drawn}")

    def _next_slot(self, st: PacerState, now: datetime) -> datetime:
        slot = max(st.next_at or now, now)
        for _ in range(400):  # each step lands in a later window or day: bounded
            moved = self._into_window(slot)
            moved = self._under_cap(st, moved)
            if moved == slot:
                return slot
            slot = moved
        raise ValueError("the pacing policy never allows a send (check the window and the daily cap)")

    def _into_window(self, slot: datetime) -> datetime:
        return into_window(self.policy, slot)

    def _under_cap(self, st: PacerState, slot: datetime) -> datetime:
        day = sending_day(self.policy, slot)
        used = st.day_count if st.day == day else 0
        cap = daily_cap_for(self.policy, age_in_days(self.policy, self.sender_created, day))
        if cap is None or used < cap:
            return slot
        return next_day_opening(self.policy, day, slot.tzinfo)

    def _advance(self, st: PacerState, slot: datetime) -> None:
        rng = self._rng(st)
        gap_ms = rng.randint(self.min_gap_ms, self.max_gap_ms)
        st.drawn += 1
        st.since_pause += 1
        if self.policy.pause_every and st.since_pause >= self.policy.pause_every:
            gap_ms += self.policy.pause_ms
            st.since_pause = 0
        day = sending_day(self.policy, slot)
        st.day_count = st.day_count + 1 if st.day == day else 1
        st.day = day
        st.last_at = slot
        st.next_at = slot + timedelta(milliseconds=gap_ms)
