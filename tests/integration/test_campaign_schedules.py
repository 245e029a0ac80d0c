"""Scheduled and recurring campaigns against moto: EventBridge Scheduler holds the schedules, the
local emulator fires them onto the campaigns queue, and the dispatcher starts one run per firing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from local.scheduler import SchedulerEmulator
from tests.integration.campaign_world import CampaignWorld, S
from tests.integration.services import Services
from wacast.adapters.aws import client
from wacast.domain.campaign_jobs import FireJob
from wacast.domain.campaigns import CampaignStatus
from wacast.domain.errors import Conflict, ValidationFailed
from wacast.domain.messages import message_id_for
from wacast.services.schedules import ScheduleRequest

C = CampaignStatus


@pytest.fixture
def world(services: Services) -> Iterator[CampaignWorld]:
    w = CampaignWorld(services)
    yield w
    w.close()


def schedules(services: Services) -> list[str]:
    s = services.settings
    listing = client("scheduler", s.region).list_schedules(GroupName=s.schedule_group)
    return sorted(x["Name"] for x in listing["Schedules"])


def emulator(services: Services) -> SchedulerEmulator:
    s = services.settings
    return SchedulerEmulator(client("scheduler", s.region), client("sqs", s.region), s.schedule_group)


def soon(seconds: int = 3600) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)


def test_schedule_replace_list_and_cancel(world: CampaignWorld) -> None:
    world.contacts(2, "later")
    campaign = world.campaign("later")
    service = world.services.schedules
    scheduled = service.schedule(world.principal, campaign.id, ScheduleRequest(send_at=soon(), timezone="Asia/Kolkata"))
    assert scheduled.status is C.SCHEDULED and scheduled.schedule is not None
    later = soon(7200)  # once: the wall clock may cross a second before the listing is compared
    again = service.schedule(world.principal, campaign.id, ScheduleRequest(send_at=later, timezone="UTC"))
    assert schedules(world.services) == [again.schedule.name]  # replaced, never two  # type: ignore[union-attr]
    assert again.schedule is not None and again.schedule.timezone == "UTC"
    listed = service.scheduled(world.principal)
    assert [(x.campaign.id, x.next_run_at) for x in listed] == [(campaign.id, later)]

    draft = service.unschedule(world.principal, campaign.id)
    assert draft.status is C.DRAFT and draft.schedule is None
    assert schedules(world.services) == [] and service.scheduled(world.principal) == []
    with pytest.raises(Conflict):
        service.unschedule(world.principal, campaign.id)


def test_a_time_in_the_past_is_refused_and_nothing_is_made(world: CampaignWorld, client: TestClient) -> None:
    campaign = world.campaign("past")
    with pytest.raises(ValidationFailed) as err:
        world.services.schedules.schedule(world.principal, campaign.id, ScheduleRequest(send_at=soon(-60)))
    assert err.value.field == "send_at"
    token = world.services.auth.login("owner@example.com", "a-long-password").token
    response = client.post(
        f"/api/campaigns/{campaign.id}/schedule",
        json={"send_at": "2020-01-01T09:00:00+05:30"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422 and "past" in response.json()["error"]["message"]
    assert schedules(world.services) == []


def test_a_one_time_schedule_fires_one_run_and_leaves_nothing_behind(world: CampaignWorld) -> None:
    world.contacts(3, "once")
    campaign = world.campaign("once")
    send_at = soon(120)
    world.services.schedules.schedule(world.principal, campaign.id, ScheduleRequest(send_at=send_at))

    fired = emulator(world.services).tick(send_at)
    assert fired == 1 and schedules(world.services) == []  # ActionAfterCompletion=DELETE
    job = world.services.queues.campaigns.receive(wait_seconds=1)[0]
    # the same firing delivered twice starts one run
    world.services.dispatcher.schedules.fire(FireJob.model_validate(job.body))
    world.services.dispatcher.schedules.fire(FireJob.model_validate(job.body))
    world.services.queues.campaigns.delete(job)
    world.run_until(lambda: world.reload(campaign).status is C.COMPLETED)

    done = world.reload(campaign)
    assert done.run == 1 and done.schedule is None and done.counters.total == 3
    assert len(world.sent_phones()) == 3


def test_a_recurring_schedule_runs_again_with_new_message_ids_until_its_end(world: CampaignWorld) -> None:
    ids = world.contacts(2, "weekly")
    campaign = world.campaign("weekly")
    created = datetime.now(UTC)
    end = created + timedelta(minutes=2, seconds=30)
    request = ScheduleRequest(cron="* * * * *", timezone="Europe/London", end=end)
    world.services.schedules.schedule(world.principal, campaign.id, request)
    fake = emulator(world.services)

    runs = []
    for minute in (1, 2):
        assert fake.tick(created.replace(second=0, microsecond=0) + timedelta(minutes=minute, seconds=1)) == 1
        world.run_until(
            lambda: world.reload(campaign).status is C.SCHEDULED and world.reload(campaign).run == len(runs) + 1
        )
        runs.append(world.reload(campaign).run)
    assert runs == [1, 2]
    messages = world.messages(campaign)
    assert {m.id for m in messages} == {message_id_for(campaign.id, cid, run) for cid in ids for run in (1, 2)}
    assert all(m.status in (S.SENT, S.DELIVERED) for m in messages)

    later = [fake.tick(end + timedelta(minutes=1)) for _ in range(3)]  # past its end
    assert later[-1] == 0 and schedules(world.services) == []  # deleted, and no firing after the end
    assert all(t <= end for name, t in fake.fired)


def test_cancelling_or_deleting_a_scheduled_campaign_deletes_its_schedule(world: CampaignWorld) -> None:
    first, second = world.campaign("a"), world.campaign("b")
    for campaign in (first, second):
        world.services.schedules.schedule(world.principal, campaign.id, ScheduleRequest(send_at=soon()))
    assert len(schedules(world.services)) == 2
    world.services.campaigns.cancel(world.principal, first.id)
    world.services.campaigns.delete(world.principal, second.id)
    assert schedules(world.services) == []
    assert world.reload(first).status is C.CANCELLED


def test_a_firing_whose_dispatch_job_was_lost_is_recovered_by_its_redelivery(world: CampaignWorld) -> None:
    world.contacts(2, "lost")
    campaign = world.campaign("lost")
    world.services.schedules.schedule(world.principal, campaign.id, ScheduleRequest(send_at=soon(60)))
    job = FireJob(
        account_id=world.principal.account_id,
        campaign_id=campaign.id,
        scheduled_time="2099-01-01T00:00:00Z",
    )
    # given the firing started the run and then the process died before the dispatch job was sent
    world.services.dispatcher.schedules.fire(job)
    lost = world.services.queues.campaigns.receive(wait_seconds=1)
    assert len(lost) == 1
    world.services.queues.campaigns.delete(lost[0])
    assert world.reload(campaign).status is C.RUNNING
    # when the firing is delivered again, the run is dispatched (once) and completes
    world.services.dispatcher.schedules.fire(job)
    world.run_until(lambda: world.reload(campaign).status is C.COMPLETED)
    assert world.reload(campaign).run == 1 and len(world.sent_phones()) == 2
