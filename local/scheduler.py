"""Plays EventBridge Scheduler for the local stack: moto stores schedules but never fires them.

Every second it fires the due `at()` and `cron()` schedules of the group to their SQS targets, with
the context attributes filled in (<aws.scheduler.scheduled-time> ...), and deletes schedules whose
ActionAfterCompletion is DELETE once they have completed: a one-time schedule after its firing, a
recurring one after its end date. Like Scheduler, it sends with the schedule's role: a firing that role
may not send is refused (and logged) instead of delivered.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from local.iam import RoleGuard
from wacast.domain.schedules import next_fire, parse_at
from wacast.observability import logger


def _utc(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


class SchedulerEmulator:
    def __init__(
        self, scheduler: Any, sqs: Any, group: str, role: RoleGuard | None = None, interval: float = 1.0
    ) -> None:
        self.scheduler = scheduler
        self.sqs = sqs
        self.group = group
        self.role = role
        self.interval = interval
        self.fired: list[tuple[str, datetime]] = []
        self._last_seen: dict[str, datetime] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler-emulator", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick(datetime.now(UTC))
            except Exception:
                logger.exception("scheduler emulator tick failed")

    def tick(self, now: datetime) -> int:
        """Fire what is due at `now`. Returns how many firings happened."""
        count = 0
        for summary in self.scheduler.list_schedules(GroupName=self.group).get("Schedules", []):
            schedule = self.scheduler.get_schedule(Name=summary["Name"], GroupName=self.group)
            if schedule.get("State", "ENABLED") == "ENABLED":
                count += self._tick_one(schedule, now)
        return count

    def _tick_one(self, schedule: dict[str, Any], now: datetime) -> int:
        name, expression = schedule["Name"], schedule["ScheduleExpression"]
        timezone = schedule.get("ScheduleExpressionTimezone") or "UTC"
        delete_after = schedule.get("ActionAfterCompletion") == "DELETE"
        if expression.startswith("at("):
            due = parse_at(expression, timezone)
            if due > now:
                return 0
            self._fire(schedule, due)
            if delete_after:
                self._delete(name)
            return 1
        end = _utc(schedule.get("EndDate"))
        since = self._last_seen.setdefault(name, _utc(schedule.get("CreationDate")) or now)
        due_at = next_fire(expression, timezone, since)
        if due_at is not None and due_at <= now and (end is None or due_at <= end):
            self._last_seen[name] = due_at
            self._fire(schedule, due_at)
            return 1
        if end is not None and end <= now and delete_after:
            self._delete(name)
        return 0

    def _fire(self, schedule: dict[str, Any], scheduled: datetime) -> None:
        target = schedule["Target"]
        stamp = scheduled.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = (
            target.get("Input", "{}")
            .replace("<aws.scheduler.scheduled-time>", stamp)
            .replace("<aws.scheduler.execution-id>", str(uuid.uuid4()))
            .replace("<aws.scheduler.attempt-number>", "1")
            .replace("<aws.scheduler.schedule-arn>", schedule.get("Arn", ""))
        )
        queue_url = self.sqs.get_queue_url(QueueName=target["Arn"].rsplit(":", 1)[-1])["QueueUrl"]
        if self.role is not None:
            try:
                self.role.check("sqs", "SendMessage", {"QueueUrl": queue_url})
            except ClientError:
                logger.error("schedule not delivered: its role may not send to the target", schedule=schedule["Name"])
                return
        self.sqs.send_message(QueueUrl=queue_url, MessageBody=body)
        self.fired.append((schedule["Name"], scheduled))
        logger.info("schedule fired", schedule=schedule["Name"], scheduled_time=stamp)

    def _delete(self, name: str) -> None:
        try:
            self.scheduler.delete_schedule(Name=name, GroupName=self.group)
        except Exception:
            logger.exception("could not delete a completed schedule", schedule=name)
        self._last_seen.pop(name, None)
