"""A run completes only when every message its dispatcher wrote is counted created and settled, though the
counters count creations from the table's stream, which orders one item's records but not two items':
another message's settle may be counted first. And a window written twice (a crash, a pause that raced it)
counts each of its messages once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.inprocess import REGION
from local.lambda_runtime import load_module
from local.streams import StreamPoller
from tests.integration.campaign_world import CampaignWorld, S, counters_match
from tests.integration.services import Services
from wacast.adapters.dynamo.campaigns import CampaignCountersModel, campaign_key
from wacast.domain.campaign_jobs import DispatchJob
from wacast.domain.campaigns import Campaign, CampaignStatus
from wacast.domain.messages import Message

C = CampaignStatus
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(services: Services) -> Iterator[CampaignWorld]:
    w = CampaignWorld(services)
    yield w
    w.close()


def stream_records(services: Services) -> list[dict[str, Any]]:
    """Every record of the table's stream the counters function's filter lets through, oldest first."""
    mapping = next(m for m in services.roots.deployables["CountersFunction"].mappings if m.kind != "sqs")
    records: list[dict[str, Any]] = []
    poller = StreamPoller(
        boto3.client("dynamodbstreams", region_name=REGION),
        mapping.queue_arn,
        lambda event, _context: records.extend(event["Records"]),
        "capture",
        batch_size=1000,
        batching_window=0,
        filters=mapping.filters,
        timeout_seconds=60,
        region=REGION,
    )
    for _ in range(20):  # bounded
        if not poller.poll_once():
            break
    return records


def of(records: list[dict[str, Any]], message: Message, event: str) -> list[dict[str, Any]]:
    return [r for r in records if r["eventName"] == event and r["dynamodb"]["Keys"]["pk"]["S"] == f"MSG#{message.id}"]


def apply(services: Services, records: list[dict[str, Any]]) -> None:
    """What the counters function does with one batch of these records (its parser, its service)."""
    app = load_module(ROOT / "functions/counters", "app", "wacast_fn_CountersFunction")
    changes = [c for c in (app.status_change(r) for r in records) if c is not None]
    services.roots.counters.counters.apply(str(records[0]["eventID"]), changes)


def counts(world: CampaignWorld, campaign: Campaign) -> tuple[int, int]:
    item = CampaignCountersModel.get(*campaign_key(world.principal.account_id, campaign.id), consistent_read=True)
    return int(item.count_dispatched), int(item.count_inserted)


def test_a_creation_counted_after_another_messages_settle_does_not_complete_the_run_early(world: CampaignWorld) -> None:
    world.contacts(2, "late")
    campaign = world.campaign("late")
    world.services.campaigns.start(world.principal, campaign.id)
    world.pump_jobs(wait=1)  # one window: both messages written, the dispatch done, nothing counted yet
    status = world.services.campaigns.get(world.principal, campaign.id).status
    assert status is C.RUNNING and counts(world, campaign) == (2, 0)  # queued reads 0, yet the run is not over
    first, second = world.messages(campaign)
    settled = world.services.messages.get(second.id)
    assert settled is not None
    world.services.messages.transition(settled, S.SKIPPED, world.services.clock.now(), detail="test")

    # given the stream's shards hand the counters the second message's creation and settle first
    records = stream_records(world.services)
    apply(world.services, of(records, second, "INSERT") + of(records, second, "MODIFY"))
    current = world.services.campaigns.get(world.principal, campaign.id)
    assert current.counters.queued == 0 and current.status is C.RUNNING  # the first one is not counted yet
    # when the first one's creation comes, it waits for its settle
    apply(world.services, of(records, first, "INSERT"))
    current = world.services.campaigns.get(world.principal, campaign.id)
    assert (current.counters.total, current.counters.queued, current.status) == (2, 1, C.RUNNING)
    # then its settle completes the run
    pending = world.services.messages.get(first.id)
    assert pending is not None
    world.services.messages.transition(pending, S.SKIPPED, world.services.clock.now(), detail="test")
    apply(world.services, of(stream_records(world.services), first, "MODIFY"))
    done = world.services.campaigns.get(world.principal, campaign.id)
    assert done.status is C.COMPLETED and done.counters.skipped == 2 and counts(world, campaign) == (2, 2)


def test_a_window_written_again_after_a_crash_counts_each_message_once(
    world: CampaignWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.contacts(6, "crash")
    campaign = world.campaign("crash")
    world.services.campaigns.start(world.principal, campaign.id)
    (job,) = world.services.queues.campaigns.receive(wait_seconds=1)
    # given the dispatcher wrote and queued the window, then died before recording it
    repository = world.services.dispatch.campaigns
    with monkeypatch.context() as patch:
        patch.setattr(repository, "advance_dispatch", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("died")))
        with pytest.raises(RuntimeError):
            world.services.dispatch.dispatch_window(world.services.campaigns.get(world.principal, campaign.id))
    world.pump_counters()
    assert counts(world, campaign) == (0, 6)  # the six creations are counted, the window is not recorded
    # when the job comes back, its window finds the six written already: counted once, not again
    world.services.dispatch.on_dispatch(DispatchJob.model_validate(job.body), receive_count=2)
    world.services.queues.campaigns.delete(job)
    assert counts(world, campaign) == (6, 6)
    world.run_until(lambda: world.reload(campaign).status is C.COMPLETED)
    messages = world.messages(campaign)
    assert len(messages) == 6 and len(world.sent_phones()) == 6 == len(set(world.sent_phones()))
    counters_match(world.reload(campaign), messages)


def test_a_window_that_lost_its_turn_to_a_pause_completes_after_resume_even_if_a_contact_left(
    world: CampaignWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = world.contacts(5, "raced")
    campaign = world.campaign("raced")
    world.services.campaigns.start(world.principal, campaign.id)
    (job,) = world.services.queues.campaigns.receive(wait_seconds=1)
    # given the user paused while the dispatcher wrote the window: its progress is refused
    repository = world.services.dispatch.campaigns
    real = repository.advance_dispatch

    def paused_first(*args: Any, **kwargs: Any) -> bool:
        world.services.campaigns.pause(world.principal, campaign.id)
        return real(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(repository, "advance_dispatch", paused_first)
        world.services.dispatch.on_dispatch(DispatchJob.model_validate(job.body))
    world.services.queues.campaigns.delete(job)
    assert counts(world, campaign)[0] == 0  # five messages written, no window recorded
    # and a contact leaves the audience before the user resumes: its message stays (it was queued)
    world.services.contacts.delete(world.principal, ids[0])
    world.services.campaigns.resume(world.principal, campaign.id)
    world.run_until(lambda: world.reload(campaign).status is C.COMPLETED)
    messages = world.messages(campaign)
    assert len(messages) == 5 and len(world.sent_phones()) == 5 == len(set(world.sent_phones()))
    assert counts(world, campaign) == (5, 5)  # four found again, one more counted: no surplus carried on
    counters_match(world.reload(campaign), messages)
