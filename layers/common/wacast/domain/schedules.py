"""Schedules of campaigns: one time (`at()`) or recurring (`cron()`), in the user's time zone.

Cron expressions are EventBridge Scheduler's six fields (minutes hours day-of-month month day-of-week
year, day-of-week 1-7 = SUN-SAT, one of the two day fields `?`). Standard five-field cron
(day-of-week 0-6 = SUN-SAT) is accepted and converted. `next_fire` evaluates an expression (the local
stack's scheduler emulator and the API's "next run" use it); it is pure and bounded. cronsim matches the
wall-clock times; this module adds what EventBridge has and Unix cron has not (the year field, its
day-of-week numbers, `?`) and decides what a DST change does to a firing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from pydantic import BaseModel

from wacast.domain.errors import ValidationFailed

DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
SEARCH_DAYS = 366 * 5  # next_fire looks at most five years ahead
FIRST_YEAR, LAST_YEAR = 1970, 2199  # EventBridge's range of the year field
VALIDATION_START = datetime(2000, 1, 1)  # cronsim reads an expression when given a start: any will do


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


# -- cron: EventBridge's six fields, evaluated by cronsim ------------------------------------------------


@dataclass(frozen=True)
class Cron:
    """An EventBridge cron expression as cronsim reads it: the first five fields in Unix cron (day-of-week
    0-6 = SUN-SAT, `?` as `*`), and the year field, which cronsim has not, as the years it may fire in."""

    unix: str
    years: frozenset[int] | None  # None: every year

    def wall_times(self, after: datetime, until: datetime) -> Iterator[datetime]:
        """The matching wall-clock times (naive) strictly after `after` and before `until`, in order."""
        moments = CronSim(self.unix, after)
        while (moment := next(moments, None)) is not None and moment < until:
            if self.years is None or moment.year in self.years:
                yield moment
                continue
            later = min((year for year in self.years if year > moment.year), default=None)
            if later is None:
                return
            moments = CronSim(self.unix, datetime(later, 1, 1) - timedelta(seconds=1))


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, field="cron")


def parse_cron(expression: str) -> Cron:
    """Read `cron(min hour day-of-month month day-of-week year)`. Refuses what EventBridge would, and the
    parts this code does not evaluate: W, nL, L beside other days, and `#` in a list."""
    fields = expression.removeprefix("cron(").removesuffix(")").upper().split()
    if len(fields) != 6:
        raise _refuse("a cron expression has 6 fields here")
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise _refuse("exactly one of day-of-month and day-of-week must be '?'")
    if "W" in dom or "L" in dow or ("L" in dom and dom != "L"):
        raise _refuse("W, nL and L in a list are not supported in cron expressions")
    if "#" in dow and "," in dow:
        raise _refuse("bad '#' in the day-of-week field of the cron expression")
    unix = " ".join(
        _one_value_ranges(f) for f in (minute, hour, "*" if dom == "?" else dom, month, _unix_weekdays(dow))
    )
    try:
        CronSim(unix, VALIDATION_START)
    except CronSimError as exc:
        raise _refuse(f"cannot read the cron expression {expression!r}: {str(exc).lower()}") from exc
    return Cron(unix=unix, years=_years(year))


def _one_value_ranges(field: str) -> str:
    """cronsim reads a one-value range with a step (5-5/2) as a start with a step (5/2, to the end of the
    field): write it as the one value it is."""

    def one_value(part: str) -> str:
        span, slash, _ = part.partition("/")
        first, dash, last = span.partition("-")
        return first if slash and dash and first == last else part

    return ",".join(one_value(part) for part in field.split(","))


def _unix_weekdays(field: str) -> str:
    """EventBridge's day-of-week (1-7 = SUN-SAT) in Unix cron's numbers (0-6 = SUN-SAT)."""
    if field == "?":
        return "*"
    parts = []
    for part in field.split(","):
        if "#" in part:
            day, nth = part.split("#", 1)
            parts.append(f"{_unix_day(day)}#{nth}")
            continue
        span, slash, step = part.partition("/")
        first, dash, last = span.partition("-")
        if span == "*":
            parts.append(part)
        elif dash or slash:  # a start with a step runs to SAT (cronsim would run on to 7, its other SUN)
            parts.append(f"{_unix_day(first)}-{_unix_day(last) if dash else 6}{slash}{step}")
        else:
            parts.append(str(_unix_day(first)))
    return ",".join(parts)


def _unix_day(token: str) -> int:
    if token in DAYS:
        return DAYS[token] - 1
    if not token.isdigit():
        raise _refuse(f"cannot read {token!r} in the day-of-week field of the cron expression")
    if not 1 <= int(token) <= 7:
        raise _refuse("the day-of-week field of the cron expression is out of range")
    return int(token) - 1


def _years(field: str) -> frozenset[int] | None:
    """The year field (1970-2199): `*`, years, ranges and steps, in a list."""
    if field == "*":
        return None
    years: set[int] = set()
    for part in field.split(","):
        span, slash, step = part.partition("/")
        first, dash, last = span.partition("-")
        if slash and not (step.isdigit() and int(step) >= 1):
            raise _refuse("bad step in the year field of the cron expression")
        start = FIRST_YEAR if span == "*" else _year(first)
        stop = _year(last) if dash else LAST_YEAR if slash or span == "*" else start
        if start > stop:
            raise _refuse("the year field of the cron expression is out of range")
        years.update(range(start, stop + 1, int(step) if slash else 1))
    return frozenset(years)


def _year(token: str) -> int:
    if not token.isdigit():
        raise _refuse(f"cannot read {token!r} in the year field of the cron expression")
    if not FIRST_YEAR <= int(token) <= LAST_YEAR:
        raise _refuse("the year field of the cron expression is out of range")
    return int(token)


def normalise_cron(expression: str) -> str:
    """The EventBridge `cron(...)` form of a five- or six-field expression (or of `cron(...)`)."""
    text = expression.strip()
    if text.startswith("cron(") and text.endswith(")"):
        text = text[5:-1]
    fields = text.split()
    if len(fields) == 5:  # standard cron: day-of-week 0-6 = SUN-SAT; "either day" cannot be expressed
        minute, hour, dom, month, dow = fields
        if dom != "*" and dow != "*":
            raise _refuse("give a day of month or a day of week, not both")
        if dow != "*":
            dow = ",".join(_shift_dow(p) for p in dow.split(","))
        fields = [minute, hour, "?" if dow != "*" else dom, month, dow if dow != "*" else "?", "*"]
    if len(fields) != 6:
        raise _refuse("a cron expression has 5 or 6 fields")
    parse_cron(" ".join(fields))
    return f"cron({' '.join(fields)})"


def _shift_dow(part: str) -> str:
    """Standard cron weekdays (0-6, SUN=0; 7 is SUN too) to EventBridge's (1-7, SUN=1); names stay."""

    def shift(token: str) -> str:
        return str(int(token) % 7 + 1) if token.isdigit() else token

    if "#" in part:  # the nth weekday of the month: 1#2 is the second Monday
        day, nth = part.split("#", 1)
        return f"{shift(day)}#{nth}"
    step = ""
    if "/" in part:
        part, step = part.split("/", 1)
        step = "/" + step
    return "-".join(shift(t) for t in part.split("-")) + step


def next_fire(expression: str, timezone: str, after: datetime) -> datetime | None:
    """The first firing strictly after `after` (UTC), or None within five years. A wall time that a DST
    change skips does not fire that day; one that it repeats fires once, at its first occurrence."""
    cron = parse_cron(expression)
    tz = zone(timezone)
    local_after = after.astimezone(tz)
    until = datetime.combine(local_after.date() + timedelta(days=SEARCH_DAYS), time())
    for wall in cron.wall_times(local_after.replace(tzinfo=None), until):
        candidate = wall.replace(tzinfo=tz, fold=0)
        if _exists(candidate) and candidate.astimezone(UTC) > after:
            return candidate.astimezone(UTC)
    return None


def _exists(local: datetime) -> bool:
    """False for a wall time skipped by a DST change (01:30 on a spring-forward night)."""
    round_trip = local.astimezone(UTC).astimezone(local.tzinfo)
    return round_trip.replace(tzinfo=None) == local.replace(tzinfo=None)
