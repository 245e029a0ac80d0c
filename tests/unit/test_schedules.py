"""Schedules in the user's time zone: at() conversion, cron parsing, and firings across DST."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wacast.domain.errors import ValidationFailed
from wacast.domain.schedules import at_expression, next_fire, normalise_cron, parse_at, schedule_name

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_nine_in_the_morning_in_kolkata_is_half_past_three_utc() -> None:
    send_at = datetime.fromisoformat("2026-12-01T09:00:00+05:30")
    expression = at_expression(send_at, "Asia/Kolkata", NOW)
    assert expression == "at(2026-12-01T09:00:00)"
    assert parse_at(expression, "Asia/Kolkata") == utc("2026-12-01T03:30:00")


def test_an_instant_given_in_one_offset_is_scheduled_as_local_time_of_the_zone() -> None:
    send_at = datetime.fromisoformat("2026-12-01T09:00:00+05:30")
    assert at_expression(send_at, "Europe/London", NOW) == "at(2026-12-01T03:30:00)"
    assert at_expression(send_at, "America/New_York", NOW) == "at(2026-11-30T22:30:00)"


def test_a_time_in_the_past_or_without_offset_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="past") as err:
        at_expression(datetime.fromisoformat("2026-11-28T11:59:00+00:00"), "UTC", NOW)
    assert err.value.field == "send_at"
    with pytest.raises(ValidationFailed, match="offset"):
        at_expression(datetime(2026, 12, 1, 9, 0), "UTC", NOW)


def test_an_unknown_zone_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationFailed) as err:
        at_expression(datetime.fromisoformat("2026-12-01T09:00:00+00:00"), "Mars/Olympus", NOW)
    assert err.value.field == "timezone"


def test_daily_nine_in_kolkata() -> None:
    expression = normalise_cron("0 9 * * *")
    assert expression == "cron(0 9 * * ? *)"
    assert next_fire(expression, "Asia/Kolkata", NOW) == utc("2026-11-29T03:30:00")


def test_weekday_mornings_convert_standard_cron_days() -> None:
    expression = normalise_cron("30 8 * * 1-5")  # MON-FRI in standard cron
    assert expression == "cron(30 8 ? * 2-6 *)"
    fires = []
    moment = NOW
    for _ in range(6):
        fired = next_fire(expression, "UTC", moment)
        assert fired is not None
        fires.append(fired.strftime("%a"))
        moment = fired
    assert fires == ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon"]


def test_london_across_the_spring_dst_change() -> None:
    # Clocks go 01:00 -> 02:00 on 2027-03-28: 09:00 local is 09:00 UTC before and 08:00 UTC after
    expression = normalise_cron("0 9 * * *")
    before = next_fire(expression, "Europe/London", utc("2027-03-27T00:00:00"))
    after = next_fire(expression, "Europe/London", utc("2027-03-28T00:00:00"))
    assert before == utc("2027-03-27T09:00:00") and after == utc("2027-03-28T08:00:00")


def test_a_firing_in_the_skipped_hour_is_skipped_and_the_repeated_hour_runs_once() -> None:
    expression = normalise_cron("30 1 * * *")
    assert next_fire(expression, "Europe/London", utc("2027-03-27T12:00:00")) == utc("2027-03-29T00:30:00")
    # autumn: 01:30 happens twice on 2026-10-25; the schedule runs once
    first = next_fire(expression, "Europe/London", utc("2026-10-24T12:00:00"))
    assert first == utc("2026-10-25T00:30:00")
    assert next_fire(expression, "Europe/London", first) == utc("2026-10-26T01:30:00")


def test_eventbridge_six_field_expressions_pass_through() -> None:
    assert normalise_cron("cron(0 10 ? * MON#1 *)") == "cron(0 10 ? * MON#1 *)"
    assert next_fire("cron(0 10 ? * MON#1 *)", "UTC", NOW) == utc("2026-12-07T10:00:00")
    assert next_fire("cron(0 18 L * ? *)", "UTC", NOW) == utc("2026-11-30T18:00:00")


def weekdays_of(expression: str, count: int = 7) -> list[str]:
    fires, moment = [], NOW
    for _ in range(count):
        fired = next_fire(expression, "UTC", moment)
        assert fired is not None
        fires.append(fired.strftime("%a"))
        moment = fired
    return fires


def test_eventbridge_day_of_week_steps_and_names_stay_within_the_week() -> None:
    # 2/2 is MON, WED, FRI from EventBridge's 2 = MON; it never runs on to a Sunday
    assert weekdays_of("cron(0 9 ? * 2/2 *)") == ["Mon", "Wed", "Fri", "Mon", "Wed", "Fri", "Mon"]
    assert weekdays_of("cron(0 9 ? * MON/2 *)") == ["Mon", "Wed", "Fri", "Mon", "Wed", "Fri", "Mon"]
    assert weekdays_of("cron(0 9 ? * */3 *)", 4) == ["Sun", "Wed", "Sat", "Sun"]  # 1, 4, 7 = SUN, WED, SAT
    assert weekdays_of("cron(0 9 ? * SAT-SAT/2 *)", 2) == ["Sat", "Sat"]


def test_standard_cron_nth_weekday_converts_its_day() -> None:
    expression = normalise_cron("0 9 * * 1#2")  # the second Monday in standard cron
    assert expression == "cron(0 9 ? * 2#2 *)"
    assert next_fire(expression, "UTC", NOW) == utc("2026-12-14T09:00:00")


def test_a_start_with_a_step_runs_to_the_end_of_its_field() -> None:
    assert next_fire("cron(50/1 12 * * ? *)", "UTC", utc("2026-11-28T12:50:00")) == utc("2026-11-28T12:51:00")
    assert next_fire("cron(5/20 12 * * ? *)", "UTC", utc("2026-11-28T12:30:00")) == utc("2026-11-28T12:45:00")


def test_the_year_field_limits_the_firings() -> None:
    assert next_fire("cron(0 9 1 1 ? 2028)", "UTC", NOW) == utc("2028-01-01T09:00:00")
    assert next_fire("cron(0 9 1 1 ? 2027/2)", "UTC", utc("2027-01-01T10:00:00")) == utc("2029-01-01T09:00:00")
    assert next_fire("cron(0 9 1 1 ? 2020-2025)", "UTC", NOW) is None
    assert next_fire("cron(0 9 * * ? 2035)", "UTC", NOW) is None  # beyond the five years looked at


@pytest.mark.parametrize(
    "bad",
    [
        "0 9 * *",
        "61 9 * * *",
        "0 9 1 * 1",
        "cron(0 9 * * * *)",
        "cron(0 9 ? * ? *)",
        "0 9 * * FOO",
        "0 9 1W * ? *",
        "0 9 LW * ? *",
        "0 9 L,15 * ? *",
        "0 9 ? * 5L *",
        "0 9 ? * MON#1,FRI#2 *",
        "0 9 ? * MON#6 *",
        "0 9 ? * 0 *",
        "0 9 ? * 8 *",
        "0 9 ? * FRI-MON *",
        "0 9 30 2 ? *",
        "0 9 1,,2 * ? *",
        "*/0 9 * * ? *",
        "0 9 * * ? 1969",
        "0 9 * * ? 2027-2026",
        "",
    ],
)
def test_bad_cron_expressions_are_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        normalise_cron(bad)
    assert err.value.field == "cron"


def test_schedule_names_are_deterministic_and_valid() -> None:
    name = schedule_name("cmp_0123456789abcdef0123")
    assert name == schedule_name("cmp_0123456789abcdef0123") and len(name) <= 64
