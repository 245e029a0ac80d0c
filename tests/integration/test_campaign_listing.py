"""A campaign's messages are listed from listing items (a page of a dispatch window per item, a linked message
per item), not from an index entry per message: every message once, in order, across cursors, after a window
written twice too; and a campaign written before listing items is still listed from gsi4."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.integration.campaign_world import CampaignWorld
from tests.integration.services import Services
from wacast.adapters.dynamo.cursors import encode_cursor
from wacast.adapters.dynamo.messages import MessageListingModel, MessageModel, group_key, member_key, message_key
from wacast.domain.campaign_jobs import DispatchJob
from wacast.domain.campaigns import Campaign
from wacast.domain.errors import ValidationFailed
from wacast.domain.messages import Message, MessageStatus, StatusChange, dispatched_listing

S = MessageStatus


@pytest.fixture
def world(services: Services) -> Iterator[CampaignWorld]:
    w = CampaignWorld(services)
    yield w
    w.close()


def every_page(world: CampaignWorld, campaign_id: str, limit: int, status: MessageStatus | None = None) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    for _ in range(100):  # bounded
        page, cursor = world.services.messages.list_by_campaign(campaign_id, status=status, cursor=cursor, limit=limit)
        assert len(page) <= limit
        ids += [m.id for m in page]
        if cursor is None:
            return ids
    raise AssertionError("the listing never ended")


def dispatched(world: CampaignWorld, tag: str, contacts: int) -> Campaign:
    """A campaign to `contacts` new contacts, started, its first window dispatched (as it was at start)."""
    world.contacts(contacts, tag)
    campaign = world.campaign(tag)
    world.services.campaigns.start(world.principal, campaign.id)
    started = world.services.campaigns.get(world.principal, campaign.id)
    world.pump_jobs(wait=1)
    return started


def listings(campaign_id: str) -> list[MessageListingModel]:
    return list(MessageListingModel.query(f"MSGS#{campaign_id}", consistent_read=True))


def test_a_campaigns_messages_are_listed_once_each_through_any_page_size_and_written_in_no_index(
    world: CampaignWorld,
) -> None:
    campaign = started = dispatched(world, "list", 25)
    (listing,) = listings(campaign.id)  # one window, one page: one item
    assert listing.sk == dispatched_listing(started.run, started.dispatch.seq, 0) and len(listing.ids or ()) == 25
    for limit in (1, 7, 25, 100):
        ids = every_page(world, campaign.id, limit)
        assert len(ids) == 25 == len(set(ids)) and set(ids) == set(listing.ids or ())
    assert every_page(world, campaign.id, 10, status=S.QUEUED) == every_page(world, campaign.id, 10)
    assert every_page(world, campaign.id, 10, status=S.SENT) == []
    for message_id in listing.ids or ():
        item = MessageModel.get(*message_key(message_id), consistent_read=True)
        assert item.gsi4pk is None and item.gsi4sk is None  # no index entry written for the listing


def test_a_window_written_again_lists_its_messages_once(world: CampaignWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    world.contacts(6, "again")
    campaign = world.campaign("again")
    world.services.campaigns.start(world.principal, campaign.id)
    (job,) = world.services.queues.campaigns.receive(wait_seconds=1)
    repository = world.services.dispatch.campaigns
    with monkeypatch.context() as patch:  # the dispatcher wrote the window, then died before recording it
        patch.setattr(repository, "advance_dispatch", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("died")))
        with pytest.raises(RuntimeError):
            world.services.dispatch.dispatch_window(world.services.campaigns.get(world.principal, campaign.id))
    world.services.dispatch.on_dispatch(DispatchJob.model_validate(job.body), receive_count=2)
    world.services.queues.campaigns.delete(job)
    assert len(listings(campaign.id)) == 1
    ids = every_page(world, campaign.id, 4)
    assert len(ids) == 6 == len(set(ids))


def test_a_message_linked_through_send_is_listed_after_its_runs_pages(world: CampaignWorld) -> None:
    campaign = dispatched(world, "linked", 3)
    linked = [
        world.services.messaging.send_direct(world.principal, f"+91977700000{i}", "hello", campaign_id=campaign.id)
        for i in range(2)
    ]
    ids = every_page(world, campaign.id, 2)
    assert len(ids) == 5 == len(set(ids)) and ids[3:] == [m.id for m in linked]
    direct = world.services.messaging.send_direct(world.principal, "+919777000009", "not linked")
    assert direct.id not in every_page(world, campaign.id, 100)


def test_a_campaign_written_before_listing_items_is_listed_from_gsi4(services: Services) -> None:
    repository = services.messages
    at = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(5):  # messages as the code before listing items wrote them: with their gsi4 entry
        message = Message(
            id=f"old{i}",
            account_id="a-old",
            sender_id="s1",
            phone=f"+91988800000{i}",
            body="hi",
            campaign_id="c-old",
            created_at=at.replace(second=i),
            updated_at=at,
            history=[StatusChange(status=S.QUEUED, at=at)],
        )
        assert repository.create(message)
        item = MessageModel.get(*message_key(message.id), consistent_read=True)
        item.update(
            actions=[MessageModel.gsi4pk.set(group_key("c-old", "")), MessageModel.gsi4sk.set(member_key(message))]
        )
    for listing in listings("c-old"):
        listing.delete()  # (the code before listing items wrote none)
    ids: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        page, cursor = repository.list_by_campaign("c-old", cursor=cursor, limit=2)
        ids += [m.id for m in page]
        if cursor is None:
            break
    assert ids == [f"old{i}" for i in range(5)]


def test_a_tampered_cursor_is_a_clear_error(services: Services) -> None:
    for bad in ("p_", "px_0001-00000001-000", "p12345_0001"):
        with pytest.raises(ValidationFailed) as raised:
            services.messages.list_by_campaign("c1", cursor=encode_cursor("messages", bad))
        assert raised.value.details.get("field") == "cursor" or "cursor" in str(raised.value)


def test_a_campaign_that_ran_across_the_change_lists_its_older_messages_first_then_the_rest(
    world: CampaignWorld,
) -> None:
    # given a campaign whose first messages were written before listing items (gsi4 entries, no `li`)
    campaign = dispatched(world, "across", 4)
    (listing,) = listings(campaign.id)
    older = sorted(listing.ids or ())[:2]
    for i, message_id in enumerate(older):  # as the code before wrote them
        item = MessageModel.get(*message_key(message_id), consistent_read=True)
        item.update(
            actions=[
                MessageModel.gsi4pk.set(group_key(campaign.id, "")),
                MessageModel.gsi4sk.set(f"{i:014d}_{message_id}"),
                MessageModel.listed_in.remove(),
            ]
        )
    # then every message is listed once, the older ones first, through any page size
    for limit in (1, 2, 3, 10):
        ids = every_page(world, campaign.id, limit)
        assert ids[:2] == older and sorted(ids) == sorted(listing.ids or ()) and len(ids) == 4
