"""A campaign scheduled five seconds ahead runs by itself on the local stack: the schedule lives in
(moto's) EventBridge Scheduler, the emulator fires it to the campaigns queue, the dispatcher starts
the run, and nothing is left scheduled afterwards."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx

from local.stack import LocalStack
from tests.e2e.helpers import NO_GAP, import_contacts, register, wait_for


def test_a_campaign_scheduled_five_seconds_ahead_runs_by_itself(api: httpx.Client, stack: LocalStack) -> None:
    headers = register(api)
    import_contacts(api, headers, 3, "scheduled")
    draft = {"name": "Soon", "body": "Hello {{name}}", "audience": {"tags": ["scheduled"]}, "pacing": NO_GAP}
    campaign = api.post("/api/campaigns", json=draft, headers=headers).json()

    send_at = (datetime.now(UTC) + timedelta(seconds=5)).astimezone().isoformat(timespec="seconds")
    scheduled = api.post(f"/api/campaigns/{campaign['id']}/schedule", json={"send_at": send_at}, headers=headers)
    assert scheduled.status_code == 200 and scheduled.json()["status"] == "scheduled"
    listed = api.get("/api/messages/scheduled", headers=headers).json()
    assert [x["campaignId"] for x in listed] == [campaign["id"]]
    assert api.get(f"/api/campaigns/{campaign['id']}", headers=headers).json()["run"] == 0  # nothing yet

    started = time.monotonic()
    done = wait_for(
        lambda: (
            (c := api.get(f"/api/campaigns/{campaign['id']}", headers=headers).json())["status"] == "completed" and c
        ),
        timeout=60,
        what="the scheduled campaign to run and complete",
    )
    assert time.monotonic() - started >= 3  # it waited for its time
    assert done["run"] == 1 and done["counters"]["total"] == 3 and done["counters"]["queued"] == 0
    assert api.get("/api/messages/scheduled", headers=headers).json() == []  # no schedule left behind...
    group = stack.template.physical_ref("ScheduleGroup") if stack.template else ""
    names = [x["Name"] for x in stack.client("scheduler").list_schedules(GroupName=group)["Schedules"]]
    assert f"campaign-{campaign['id']}" not in names  # ...in EventBridge Scheduler either
