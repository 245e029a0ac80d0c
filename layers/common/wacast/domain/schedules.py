"""Schedules of campaigns: one time (`at()`) or recurring (`cron()`), in the user's time zone.

Cron expressions are EventBridge Scheduler's six fields (minutes hours day-of-month month day-of-week
year, day-of-week 1-7 = SUN-SAT, one of the two day fields `?`). Standard five-field cron
(day-of-week 0-6 = SUN-SAT) is accepted and converted. `next_fire` evaluates an expression (the local
stack's scheduler emulator and the API's "next run" use it); it is pure and bounded.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel

from wacast.domain.errors import ValidationFailed

MONTHS = {name: i for i, name in enumerate(calendar.month_abbr) if name}
DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
SEARCH_DAYS = 366 * 5  # next_fire looks at most five years ahead


class CampaignSchedule(BaseModel):
    """How a campaign is scheduled. `expression` is what EventBridge Scheduler gets."""

    kind: str  # "once" | "cron"
    expression: str  # at(2026-12-01T09:00:00) or cron(0 9 ? * MON-FRI *)
    timezone: str
    send_at: datetime | None = None  # once: the instant, with its offset
    end: datetime | None = None  # cron: no firing after this
    name: str  # the schedule's name in the group: deterministic per campaign


def zone(name: str, field: str = "timezone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed(f"unknown time zone {name!r}", field=field) from exc


def schedule_name(campaign_id: str) -> str:
    """Deterministic: a retried API call replaces the same schedule instead of making a second one."""
    return f"campaign-{campaign_id}"[:64]


def at_expression(send_at: datetime, timezone: str, now: datetime) -> str:
    """`at()` in the schedule's zone for an instant given with its offset. Refuses the past."""
    if send_at.tzinfo is None:
        raise ValidationFailed("send_at needs a UTC offset, e.g. 2026-12-01T09:00:00+05:30", field="send_at")
    if send_at <= now:
        raise ValidationFailed(f"send_at {send_at.isoformat()} is in the past", field="send_at")
    local = send_at.astimezone(zone(timezone))
    return f"at({local.replace(tzinfo=None, microsecond=0).isoformat()})"


def parse_at(expression: str, timezone: str) -> datetime:
    inner = expression.removeprefix("at(").removesuffix(")")
    return datetime.fromisoformat(inner).replace(tzinfo=zone(timezone)).astimezone(UTC)


# -- cron -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None  # day of month; None: "?"
    last_day: bool  # L in day-of-month
    months: frozenset[int]
    weekdays: frozenset[int] | None  # 1-7 = SUN-SAT; None: "?"
    nth_weekday: tuple[int, int] | None  # (weekday, n) for "2#3"
    years: frozenset[int] | None  # None: every year

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months or (self.years is not None and day.year not in self.years):
            return False
        weekday = (day.isoweekday() % 7) + 1  # SUN=1 ... SAT=7
        if self.nth_weekday is not None:
            wanted, n = self.nth_weekday
            return weekday == wanted and (day.day - 1) // 7 + 1 == n
        if self.weekdays is not None:
            return weekday in self.weekdays
        if self.last_day:
            return day.day == calendar.monthrange(day.year, day.month)[1]
        return self.days is None or day.day in self.days


def _values(field: str, low: int, high: int, names: dict[str, int], label: str) -> frozenset[int]:
    out: set[int] = set()
    for part in field.upper().split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise ValidationFailed(f"bad step in the {label} field of the cron expression", field="cron")
            step = int(step_text)
        if part in ("*", ""):
            start, stop = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, stop = _number(a, names, label), _number(b, names, label)
        else:
            start = _number(part, names, label)
            stop = high if step > 1 else start
        if not (low <= start <= high and low <= stop <= high) or start > stop:
            raise ValidationFailed(f"the {label} field of the cron expression is out of range", field="cron")
        out.update(range(start, stop + 1, step))
    return frozenset(out)


def _number(text: str, names: dict[str, int], label: str) -> int:
    if text in names:
        return names[text]
    if not text.isdigit():
        raise ValidationFailed(f"cannot read {text!r} in the {label} field of the cron expression", field="cron")
    return int(text)


def normalise_cron(expression: str) -> str:
    """The EventBridge `cron(...)` form of a five- or six-field expression (or of `cron(...)`)."""
    text = expression.strip()
    if text.startswith("cron(") and text.endswith(")"):
        text = text[5:-1]
    fields = text.split()
    if len(fields) == 5:  # standard cron: day-of-week 0-6 = SUN-SAT; "either day" cannot be expressed
        minute, hour, dom, month, dow = fields
        if dom != "*" and dow != "*":
            raise ValidationFailed("give a day of month or a day of week, not both", field="cron")
        if dow != "*":
            dow = ",".join(_shift_dow(p) for p in dow.split(","))
        fields = [minute, hour, "?" if dow != "*" else dom, month, dow if dow != "*" else "?", "*"]
    if len(fields) != 6:
        raise ValidationFailed("a cron expression has 5 or 6 fields", field="cron")
    if (fields[2] == "?") == (fields[4] == "?"):
        raise ValidationFailed("exactly one of day-of-month and day-of-week must be '?'", field="cron")
    parse_cron(" ".join(fields))
    return f"cron({' '.join(fields)})"


def _shift_dow(part: str) -> str:
    """Standard cron weekdays (0-6, SUN=0) to EventBridge's (1-7, SUN=1); names stay."""

    def shift(token: str) -> str:
        return str(int(token) % 7 + 1) if token.isdigit() else token

    step = ""
    if "/" in part:
        part, step = part.split("/", 1)
        step = "/" + step
    return "-".join(shift(t) for t in part.split("-")) + step


def parse_cron(expression: str) -> Cron:
    fields = expression.removeprefix("cron(").removesuffix(")").split()
    if len(fields) != 6:
        raise ValidationFailed("a cron expression has 6 fields here", field="cron")
    minute, hour, dom, month, dow, year = (f.upper() for f in fields)
    if "W" in dom or dow.endswith("L") or "L" in dom.replace("L", "", 1):
        raise ValidationFailed("W and nL in cron expressions are not supported", field="cron")
    nth = None
    if "#" in dow:
        day, n = dow.split("#", 1)
        nth = (_number(day, DAYS, "day-of-week"), int(n) if n.isdigit() and 1 <= int(n) <= 5 else 0)
        if nth[1] == 0 or not 1 <= nth[0] <= 7:
            raise ValidationFailed("bad '#' in the day-of-week field of the cron expression", field="cron")
    return Cron(
        minutes=_values(minute, 0, 59, {}, "minutes"),
        hours=_values(hour, 0, 23, {}, "hours"),
        days=None if dom in ("?", "L") else _values(dom, 1, 31, {}, "day-of-month"),
        last_day=dom == "L",
        months=_values(month, 1, 12, MONTHS_UPPER, "month"),
        weekdays=None if dow == "?" or nth else _values(dow, 1, 7, DAYS, "day-of-week"),
        nth_weekday=nth,
        years=None if year == "*" else _values(year, 1970, 2199, {}, "year"),
    )


MONTHS_UPPER = {name.upper(): i for name, i in MONTHS.items()}


def next_fire(expression: str, timezone: str, after: datetime) -> datetime | None:
    """The first firing strictly after `after` (UTC), or None within five years."""
    cron = parse_cron(expression)
    tz = zone(timezone)
    local_after = after.astimezone(tz)
    day = local_after.date()
    for _ in range(SEARCH_DAYS):
        if cron.matches_day(day):
            for hour in sorted(cron.hours):
                for minute in sorted(cron.minutes):
                    candidate = datetime.combine(day, time(hour, minute), tz)
                    if candidate.astimezone(UTC) > after and _exists(candidate):
                        return candidate.astimezone(UTC)
        day += timedelta(days=1)
    return None


def _exists(local: datetime) -> bool:
    """False for a wall time skipped by a DST change (01:30 on a spring-forward night)."""
    round_trip = local.astimezone(UTC).astimezone(local.tzinfo)
    return round_trip.replace(tzinfo=None) == local.replace(tzinfo=None)
