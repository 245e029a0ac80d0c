"""EventBridge Scheduler adapter against moto, and the local stack's emulator firing it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from local.scheduler import SchedulerEmulator
from tests.integration.services import Services
from wacast.adapters.aws import client
from wacast.adapters.scheduler import EventBridgeScheduler, ScheduleTarget


def adapter(services: Services) -> EventBridgeScheduler:
    s = services.settings
    return EventBridgeScheduler(
        client("scheduler", s.region),
        s.schedule_group,
        ScheduleTarget(s.campaigns_queue_arn, s.scheduler_role_arn, s.scheduler_dlq_arn),
    )


def emulator(services: Services) -> SchedulerEmulator:
    s = services.settings
    return SchedulerEmulator(client("scheduler", s.region), client("sqs", s.region), s.schedule_group)


def names(services: Services) -> list[str]:
    s = services.settings
    listing = client("scheduler", s.region).list_schedules(GroupName=s.schedule_group)
    return [x["Name"] for x in listing["Schedules"]]


def test_a_schedule_is_created_once_and_replaced_by_name(services: Services) -> None:
    scheduler = adapter(services)
    scheduler.put("campaign-c1", "at(2030-01-01T09:00:00)", "Asia/Kolkata", {"type": "fire", "campaign_id": "c1"})
    scheduler.put("campaign-c1", "at(2030-01-02T09:00:00)", "Asia/Kolkata", {"type": "fire", "campaign_id": "c1"})
    assert names(services) == ["campaign-c1"]
    s = services.settings
    stored = client("scheduler", s.region).get_schedule(Name="campaign-c1", GroupName=s.schedule_group)
    assert stored["ScheduleExpression"] == "at(2030-01-02T09:00:00)"
    assert stored["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert stored["ActionAfterCompletion"] == "DELETE"
    assert stored["Target"]["Arn"] == s.campaigns_queue_arn and stored["Target"]["DeadLetterConfig"]["Arn"]
    assert scheduler.delete("campaign-c1") and not scheduler.delete("campaign-c1")
    assert names(services) == []


def test_the_emulator_fires_a_due_one_time_schedule_and_deletes_it(services: Services) -> None:
    adapter(services).put(
        "campaign-c2", "at(2030-01-01T09:00:00)", "Asia/Kolkata", {"type": "fire", "campaign_id": "c2"}
    )
    fake = emulator(services)
    assert fake.tick(datetime(2030, 1, 1, 3, 29, tzinfo=UTC)) == 0  # 08:59 in Kolkata
    assert fake.tick(datetime(2030, 1, 1, 3, 30, tzinfo=UTC)) == 1
    jobs = services.queues.campaigns.receive(wait_seconds=1)
    assert [j.body for j in jobs] == [{"type": "fire", "campaign_id": "c2", "scheduled_time": "2030-01-01T03:30:00Z"}]
    assert names(services) == []


def test_the_emulator_fires_cron_schedules_until_their_end(services: Services) -> None:
    end = datetime.now(UTC) + timedelta(days=3)
    adapter(services).put("campaign-c3", "cron(0 9 * * ? *)", "UTC", {"type": "fire"}, end=end)
    fake = emulator(services)
    start = datetime.now(UTC)
    for hours in range(0, 24 * 5, 1):
        fake.tick(start + timedelta(hours=hours))
    fired = [t for name, t in fake.fired if name == "campaign-c3"]
    assert 2 <= len(fired) <= 3 and all(t.hour == 9 and t <= end for t in fired)
    assert len({json.dumps(j.body) for j in services.queues.campaigns.receive(wait_seconds=1)}) >= 1
    assert names(services) == []  # deleted after its end (ActionAfterCompletion=DELETE)
