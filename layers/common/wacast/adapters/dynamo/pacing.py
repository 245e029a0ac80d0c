"""The pacing guard: one item per sender (pk SENDER#{sender}, sk PACE) holding the last send and the
day's count. A slot is reserved by a conditional write, so no two sends of one sender, from any host,
are ever closer than the minimum gap, and the daily cap holds across campaigns."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from wacast.adapters.dynamo.table import TableModel
from wacast.domain.errors import Unavailable
from wacast.domain.pacing import (
    PresetGaps,
    age_in_days,
    daily_cap_for,
    gap_bounds_ms,
    into_window,
    next_day_opening,
    sending_day,
)
from wacast.domain.senders import Sender


class SenderPaceModel(TableModel):
    last_send_at = UTCDateTimeAttribute(null=True)
    day = UnicodeAttribute(null=True)
    day_count = NumberAttribute(default=0)


class DynamoPacingGuard:
    """Reserves send slots per sender with conditional writes."""

    def __init__(self, presets: PresetGaps) -> None:
        self.presets = presets

    def reserve(self, sender: Sender, now: datetime) -> float:
        policy = sender.pacing
        opens = into_window(policy, now)
        if opens > now:
            return (opens - now).total_seconds()
        min_gap = timedelta(milliseconds=gap_bounds_ms(policy, self.presets)[0])
        today = sending_day(policy, now)
        cap = daily_cap_for(policy, age_in_days(policy, sender.created_at, today))
        item = SenderPaceModel(f"SENDER#{sender.id}", "PACE")
        gap_ok = SenderPaceModel.last_send_at.does_not_exist() | (SenderPaceModel.last_send_at <= now - min_gap)
        same_day = gap_ok & (SenderPaceModel.day == today.isoformat())
        if cap is not None:
            same_day &= SenderPaceModel.day_count < cap
        new_day = gap_ok & (SenderPaceModel.day.does_not_exist() | (SenderPaceModel.day != today.isoformat()))
        attempts: list[tuple[Condition, list[Action]]] = [
            (same_day, [SenderPaceModel.last_send_at.set(now), SenderPaceModel.day_count.add(1)]),
            (
                new_day,
                [
                    SenderPaceModel.last_send_at.set(now),
                    SenderPaceModel.day.set(today.isoformat()),
                    SenderPaceModel.day_count.set(1),
                ],
            ),
        ]
        for condition, actions in attempts:
            try:
                item.update(actions=actions, condition=condition)
                return 0.0
            except UpdateError as exc:
                if exc.cause_response_code != "ConditionalCheckFailedException":
                    raise Unavailable("could not reserve a send slot", details={"sender_id": sender.id}) from exc
        return self._wait(sender, now, min_gap, cap)

    def _wait(self, sender: Sender, now: datetime, min_gap: timedelta, cap: int | None) -> float:
        try:
            pace = SenderPaceModel.get(f"SENDER#{sender.id}", "PACE", consistent_read=True)
        except SenderPaceModel.DoesNotExist:
            return 0.1  # raced with its creation: ask again at once
        today = sending_day(sender.pacing, now)
        if cap is not None and pace.day == today.isoformat() and pace.day_count >= cap:
            return (next_day_opening(sender.pacing, today, now.tzinfo) - now).total_seconds()
        if pace.last_send_at is None:
            return 0.1
        return max(0.1, (pace.last_send_at + min_gap - now).total_seconds())
