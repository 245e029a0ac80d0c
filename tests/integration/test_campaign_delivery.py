"""Campaigns from start to completed against moto: the dispatcher, the delivery path, receipts,
and the lifecycle (pause, resume, cancel) in the middle of a run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from tests.integration.campaign_world import CampaignWorld, S, counters_match
from tests.integration.services import Services
from wacast.domain.campaigns import CampaignStatus
from wacast.domain.errors import Conflict
from wacast.domain.messages import message_id_for

C = CampaignStatus


@pytest.fixture
def world(services: Services) -> Iterator[CampaignWorld]:
    w = CampaignWorld(services)
    yield w
    w.close()


def test_a_campaign_runs_to_completed_skipping_opt_outs_and_failing_missing_variables(world: CampaignWorld) -> None:
    ids = world.contacts(20, "spring")
    world.contacts(2, "spring", start=100)  # these two opt out below
    world.services.opt_outs.opt_out(world.principal, "+919800000100", "api")
    world.services.opt_outs.opt_out(world.principal, "+919800000101", "api")
    campaign = world.campaign("Spring", body="Hi {{name}}, your code is {{code|SPRING10}}")
    assert campaign.audience_size == 22 and campaign.audience.tags == ["spring"]  # tags match as stored

    started = world.services.campaigns.start(world.principal, campaign.id)
    assert started.status is C.RUNNING and started.run == 1
    world.run_until(lambda: world.reload(campaign).status is C.COMPLETED)

    messages = world.messages(campaign)
    statuses = Counter(m.status for m in messages)
    assert statuses[S.SKIPPED] == 2 and sum(statuses.values()) == 22
    assert statuses[S.SENT] + statuses[S.DELIVERED] + statuses[S.READ] == 20
    assert sorted(world.sent_phones()) == sorted({m.phone for m in messages if m.status is not S.SKIPPED})
    assert {m.id for m in messages} >= {message_id_for(campaign.id, cid, 1) for cid in ids}
    assert all(m.body.endswith("your code is SPRING10") for m in messages if m.status is not S.SKIPPED)
    counters_match(world.reload(campaign), messages)


def test_a_missing_variable_fails_that_message_not_the_campaign(world: CampaignWorld) -> None:
    world.contacts(3, "vip")
    campaign = world.campaign("vip", body="Hi {{name}}, see you at {{store}}")
    world.services.campaigns.start(world.principal, campaign.id)
    world.run_until(lambda: world.reload(campaign).status is C.COMPLETED)
    messages = world.messages(campaign)
    assert {m.status for m in messages} == {S.FAILED}
    assert all("store" in (m.last_error or "") for m in messages)
    assert world.sent_phones() == []


def test_dispatching_a_window_again_never_duplicates_a_message(world: CampaignWorld) -> None:
    world.contacts(15, "again")
    campaign = world.campaign("again")
    world.services.campaigns.start(world.principal, campaign.id)
    job = world.services.queues.campaigns.receive(wait_seconds=1)[0]
    # the same job delivered twice (SQS is at-least-once), then a stale copy after it moved on
    from wacast.domain.campaign_jobs import DispatchJob

    parsed = DispatchJob.model_validate(job.body)
    world.services.dispatch.on_dispatch(parsed)
    world.services.dispatch.on_dispatch(parsed)
    world.services.dispatch.on_dispatch(parsed, receive_count=1)
    world.services.queues.campaigns.delete(job)
    world.run_until(lambda: world.reload(campaign).status is C.COMPLETED)
    messages = world.messages(campaign)
    assert len(messages) == 15 and len(world.sent_phones()) == 15 == len(set(world.sent_phones()))
    counters_match(world.reload(campaign), messages)


def test_pause_parks_resume_carries_on_at_once(world: CampaignWorld) -> None:
    world.contacts(12, "pause")
    campaign = world.campaign("pause")
    world.services.campaigns.start(world.principal, campaign.id)
    world.pump_jobs(wait=1)
    world.pump_outbox(limit=4)
    assert len(world.sent_phones()) == 4

    world.services.campaigns.pause(world.principal, campaign.id)
    world.acts.clear()
    world.pump_outbox(limit=8)  # everything still queued comes by...
    assert len(world.sent_phones()) == 4  # ...and nothing is sent while paused
    assert set(world.acts) == {"ack"}  # parked: out of the outbox, nothing polls while paused
    assert world.services.queues.outbox.depth().visible == 0
    paused = world.reload(campaign)
    assert paused.status is C.PAUSED and paused.counters.queued == 8

    world.services.campaigns.resume(world.principal, campaign.id)
    world.run_until(lambda: world.reload(campaign).status is C.COMPLETED)
    messages = world.messages(campaign)
    assert len(world.sent_phones()) == 12 == len(set(world.sent_phones()))
    assert all(m.attempts == 0 for m in messages)  # deferrals never count as attempts
    counters_match(world.reload(campaign), messages)


def test_cancel_skips_what_was_not_sent(world: CampaignWorld) -> None:
    world.contacts(10, "cancel")
    campaign = world.campaign("cancel")
    world.services.campaigns.start(world.principal, campaign.id)
    world.pump_jobs(wait=1)
    world.pump_outbox(limit=3)
    world.services.campaigns.cancel(world.principal, campaign.id)
    world.run_until(lambda: world.reload(campaign).counters.queued == 0)
    world.pump_outbox()  # the outbox copies of swept messages are dropped
    messages = world.messages(campaign)
    statuses = Counter(m.status for m in messages)
    assert len(world.sent_phones()) == 3
    assert statuses[S.SKIPPED] == 7 and sum(statuses.values()) == 10
    final = world.reload(campaign)
    assert final.status is C.CANCELLED
    counters_match(final, messages)
    with pytest.raises(Conflict):
        world.services.campaigns.resume(world.principal, campaign.id)


def test_the_message_of_a_running_campaign_cannot_change(world: CampaignWorld) -> None:
    world.contacts(2, "frozen")
    campaign = world.campaign("frozen")
    world.services.campaigns.start(world.principal, campaign.id)
    from wacast.domain.campaigns import Audience, CampaignDraft

    changed = CampaignDraft(name="renamed", body="a different text", audience=Audience(tags=["frozen"]))
    with pytest.raises(Conflict):
        world.services.campaigns.update(world.principal, campaign.id, changed)
    renamed = CampaignDraft(
        name="renamed", body="Hi {{name}}", audience=Audience(tags=["frozen"]), pacing=campaign.pacing
    )
    assert world.services.campaigns.update(world.principal, campaign.id, renamed).name == "renamed"


def test_a_dispatch_that_raced_a_cancel_leaves_nothing_waiting(world: CampaignWorld) -> None:
    world.contacts(6, "race")
    campaign = world.campaign("race")
    world.services.campaigns.start(world.principal, campaign.id)
    job = world.services.queues.campaigns.receive(wait_seconds=1)[0]
    # given the dispatcher wrote a window but died before queueing it...
    from wacast.domain.campaign_jobs import DispatchJob

    running = world.reload(campaign)
    real_enqueue = world.services.dispatch._enqueue
    world.services.dispatch._enqueue = lambda *a: (_ for _ in ()).throw(RuntimeError("died"))  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        world.services.dispatch.dispatch_window(running)
    world.services.dispatch._enqueue = real_enqueue  # type: ignore[method-assign]
    # ...and the user cancelled, and the cancel's sweep ran before those messages were visible to it
    world.services.campaigns.cancel(world.principal, campaign.id)
    sweep = world.services.queues.campaigns.receive(wait_seconds=1)
    assert [j.body["type"] for j in sweep] == ["sweep"]
    world.services.queues.campaigns.delete(sweep[0])  # (it found nothing)
    assert world.reload(campaign).counters.queued == 6
    # when the dispatch job comes back
    world.services.dispatch.on_dispatch(DispatchJob.model_validate(job.body), receive_count=2)
    world.run_until(lambda: world.reload(campaign).counters.queued == 0)
    messages = world.messages(campaign)
    assert {m.status for m in messages} == {S.SKIPPED} and len(messages) == 6
    assert world.sent_phones() == []
