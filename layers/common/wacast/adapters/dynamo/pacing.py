"""The pacing guard: one item per sender (pk SENDER#{sender}, sk PACE) holding the last send, the day's
count and the sends since the last pause. A slot is reserved by a conditional write, so no two sends of one
sender, from any host, are ever closer than the minimum gap, a pause comes after every `pause_every`
sends of the sender (whatever campaign they belong to), and the daily cap holds across campaigns. The
rules are wacast.domain.sender_pace's; this turns them into condition expressions."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from wacast.adapters.dynamo.table import TableModel
from wacast.domain.errors import Unavailable
from wacast.domain.pacing import PresetGaps, into_window, next_day_opening, sending_day
from wacast.domain.sender_pace import PaceRules
from wacast.domain.senders import Sender


class SenderPaceModel(TableModel):
    last_send_at = UTCDateTimeAttribute(null=True)
    day = UnicodeAttribute(null=True)
    day_count = NumberAttribute(default=0)
    since_pause = NumberAttribute(null=True)  # sends since the last pause (absent: none counted yet)


class DynamoPacingGuard:
    """Reserves send slots per sender with conditional writes."""

    def __init__(self, presets: PresetGaps) -> None:
        self.presets = presets

    def reserve(self, sender: Sender, now: datetime) -> float:
        policy = sender.pacing
        opens = into_window(policy, now)
        if opens > now:
            return (opens - now).total_seconds()
        rules = PaceRules.of(policy, self.presets)
        today = sending_day(policy, now)
        cap = rules.cap(sender.created_at, today)
        m = SenderPaceModel
        none_yet = m.last_send_at.does_not_exist()
        gap_ok = none_yet | (m.last_send_at <= now - rules.min_gap)
        rested = none_yet | (m.last_send_at <= now - rules.rested_gap)
        same_day = m.day == today.isoformat()
        if cap is not None:
            same_day &= m.day_count < cap
        new_day = m.day.does_not_exist() | (m.day != today.isoformat())
        count_today: list[Action] = [m.day_count.add(1)]
        start_day: list[Action] = [m.day.set(today.isoformat()), m.day_count.set(1)]
        # a streak continues while it is short of the pause; after a pause (or a quiet spell) it starts over
        streaks: list[tuple[Condition, list[Action]]] = [(gap_ok, [])]
        if rules.pause_every is not None:
            short = m.since_pause.does_not_exist() | (m.since_pause < rules.pause_every)
            streaks = [(gap_ok & short, [m.since_pause.add(1)]), (rested, [m.since_pause.set(1)])]
        item = SenderPaceModel(f"SENDER#{sender.id}", "PACE")
        for day_condition, day_actions in ((same_day, count_today), (new_day, start_day)):
            for streak_condition, streak_actions in streaks:
                try:
                    item.update(
                        actions=[m.last_send_at.set(now), *day_actions, *streak_actions],
                        condition=day_condition & streak_condition,
                    )
                    return 0.0
                except UpdateError as exc:
                    if exc.cause_response_code != "ConditionalCheckFailedException":
                        raise Unavailable("could not reserve a send slot", details={"sender_id": sender.id}) from exc
        return self._wait(sender, now, rules, cap)

    def _wait(self, sender: Sender, now: datetime, rules: PaceRules, cap: int | None) -> float:
        try:
            pace = SenderPaceModel.get(f"SENDER#{sender.id}", "PACE", consistent_read=True)
        except SenderPaceModel.DoesNotExist:
            return 0.1  # raced with its creation: ask again at once
        today = sending_day(sender.pacing, now)
        if cap is not None and pace.day == today.isoformat() and pace.day_count >= cap:
            return (next_day_opening(sender.pacing, today, now.tzinfo) - now).total_seconds()
        if pace.last_send_at is None:
            return 0.1
        paused = rules.pause_every is not None and (pace.since_pause or 0) >= rules.pause_every
        gap: timedelta = rules.rested_gap if paused else rules.min_gap
        return max(0.1, (pace.last_send_at + gap - now).total_seconds())
