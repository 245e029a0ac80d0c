"""The state machine's conditional writes; a new message is one conditional put of the message alone, and
the counters count its creation and each change from the table's stream, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.services import Services
from wacast.adapters.dynamo.campaigns import CampaignCountersModel, campaign_key
from wacast.adapters.dynamo.messages import SENDS_SCAN
from wacast.domain.errors import StaleState
from wacast.domain.events import IncomingEvent
from wacast.domain.messages import Message, MessageStatus, StatusChange

S = MessageStatus
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def new_message(message_id: str = "m1", campaign: str | None = None, run: int = 0) -> Message:
    return Message(
        id=message_id,
        account_id="a1",
        sender_id="s1",
        phone="+919876543210",
        body="hi",
        campaign_id=campaign,
        run=run,
        created_at=NOW,
        updated_at=NOW,
        history=[StatusChange(status=S.QUEUED, at=NOW)],
    )


def counters(campaign_id: str) -> dict[str, int]:
    item = CampaignCountersModel.get(*campaign_key("a1", campaign_id), consistent_read=True)
    names = ("total", "queued", "sent", "delivered", "failed", "inserted")
    return {name: int(getattr(item, f"count_{name}")) for name in names}


def test_create_is_idempotent(services: Services) -> None:
    assert services.messages.create(new_message())
    assert not services.messages.create(new_message())
    stored = services.messages.get("m1")
    assert stored is not None and stored.status is S.QUEUED and stored.history[0].status is S.QUEUED


def test_two_workers_cannot_both_claim_a_message(services: Services) -> None:
    services.messages.create(new_message())
    first = services.messages.get("m1")
    second = services.messages.get("m1")
    assert first is not None and second is not None
    services.messages.transition(first, S.SENDING, NOW, changes={"lease_owner": "w1"})
    with pytest.raises(StaleState):
        services.messages.transition(second, S.SENDING, NOW, changes={"lease_owner": "w2"})
    stored = services.messages.get("m1")
    assert stored is not None and stored.lease_owner == "w1" and stored.version == 1


def test_a_transition_the_state_machine_forbids_is_refused(services: Services) -> None:
    services.messages.create(new_message())
    message = services.messages.get("m1")
    assert message is not None
    with pytest.raises(StaleState):
        services.messages.transition(message, S.READ, NOW)


def test_the_full_path_keeps_history_lease_and_lookups(services: Services) -> None:
    services.messages.create(new_message())
    m = services.messages.get("m1")
    assert m is not None
    m = services.messages.transition(
        m,
        S.SENDING,
        NOW,
        changes={"lease_owner": "w1", "lease_expires_at": NOW + timedelta(seconds=60), "driver_called_at": NOW},
    )
    m = services.messages.transition(
        m,
        S.SENT,
        NOW,
        detail="sent via neonize",
        changes={"provider_message_id": "3EB0X", "driver": "neonize", "lease_owner": None, "lease_expires_at": None},
    )
    stored = services.messages.get("m1")
    assert stored == m
    assert stored is not None and stored.lease_owner is None and stored.driver_called_at == NOW
    assert [h.status for h in stored.history] == [S.QUEUED, S.SENDING, S.SENT]
    sends = services.messages.sends_to("a1", "s1", "+919876543210")
    found = [x for x in sends.messages if x.provider_message_id == "3EB0X"]
    assert sends.complete
    assert [x.id for x in found] == ["m1"]
    assert list(services.messages.sends_to("a1", "s2", "+919876543210").messages) == []  # another sender's only
    assert list(services.messages.sends_to("a2", "s1", "+919876543210").messages) == []  # another account's


def test_sends_to_a_phone_come_newest_first_a_few_at_a_time_and_skip_replies(services: Services) -> None:
    for i in range(23):
        message = new_message(f"m{i:02d}").model_copy(update={"created_at": NOW + timedelta(seconds=i)})
        services.messages.create(message)
    services.events.on_incoming(  # a reply from that phone shares the conversation's index
        IncomingEvent(account_id="a1", sender_id="s1", sender_phone="+919876543210", text="hi", at=NOW)
    )
    sends = services.messages.sends_to("a1", "s1", "+919876543210")
    assert sends.complete  # 24 entries: the whole conversation
    assert next(sends.messages).id == "m22"  # the newest; the next ones are read as the caller goes on
    assert [m.id for m in sends.messages] == [f"m{i:02d}" for i in range(21, -1, -1)]


def test_a_conversation_longer_than_the_scan_is_not_complete(services: Services) -> None:
    for i in range(SENDS_SCAN + 1):
        message = new_message(f"m{i:02d}").model_copy(update={"created_at": NOW + timedelta(seconds=i)})
        services.messages.create(message)
    sends = services.messages.sends_to("a1", "s1", "+919876543210")
    assert not sends.complete and len(list(sends.messages)) == SENDS_SCAN


def test_a_new_message_is_counted_from_its_insert_and_each_change_from_the_stream_once(services: Services) -> None:
    CampaignCountersModel(*campaign_key("a1", "c1"), status="running").save()
    for i in range(3):  # two messages of a run (the dispatcher's), one sent to the campaign directly (run 0)
        assert services.messages.create(new_message(f"m{i}", campaign="c1", run=1 if i < 2 else 0))
    assert not services.messages.create(new_message("m0", campaign="c1", run=1))  # there already: nothing written
    assert counters("c1")["total"] == 0  # the message's own write touches no counter item
    assert services.roots.settle_counters() == 3  # one INSERT record per message created, none for the retry
    assert counters("c1") == {"total": 3, "queued": 3, "sent": 0, "delivered": 0, "failed": 0, "inserted": 2}
    m = services.messages.get("m0")
    assert m is not None
    m = services.messages.transition(m, S.SENDING, NOW)  # not a counter change
    m = services.messages.transition(m, S.SENT, NOW, changes={"provider_message_id": "P0"})
    services.messages.transition(m, S.DELIVERED, NOW)
    m1 = services.messages.get("m1")
    assert m1 is not None
    services.messages.transition(m1, S.FAILED, NOW, changes={"last_error": "x"})
    assert counters("c1")["queued"] == 3  # a status change is one write of the message alone
    assert services.roots.settle_counters() == 4  # the counters function applies the stream's changes
    assert counters("c1") == {"total": 3, "queued": 1, "sent": 0, "delivered": 1, "failed": 1, "inserted": 2}
    assert services.roots.settle_counters() == 0 and counters("c1")["delivered"] == 1  # once


def test_create_many_puts_each_message_and_says_which_were_new(services: Services) -> None:
    CampaignCountersModel(*campaign_key("a1", "c1"), status="running").save()
    assert services.messages.create(new_message("m3", campaign="c1", run=1))  # an earlier attempt wrote this one
    page = [new_message(f"m{i}", campaign="c1", run=1) for i in range(60)]
    created = services.messages.create_many(page)
    assert created == [i != 3 for i in range(60)]  # in order; the one there already is not new
    assert all(services.messages.get(f"m{i}") is not None for i in range(60))
    assert services.messages.create_many(page) == [False] * 60  # the same page again writes nothing
    services.roots.settle_counters()
    assert counters("c1") == {"total": 60, "queued": 60, "sent": 0, "delivered": 0, "failed": 0, "inserted": 60}


def test_a_direct_message_is_counted_on_its_accounts_direct_counters_from_the_stream(services: Services) -> None:
    assert services.messages.create(new_message("d1"))
    assert services.messages.direct_counters("a1").get("total", 0) == 0  # not by its own write
    services.roots.settle_counters()
    assert {k: v for k, v in services.messages.direct_counters("a1").items() if v} == {"total": 1, "queued": 1}


def test_a_failed_condition_moves_no_counter(services: Services) -> None:
    CampaignCountersModel(*campaign_key("a1", "c1"), status="running").save()
    services.messages.create(new_message("m1", campaign="c1"))
    stale = services.messages.get("m1")
    assert stale is not None
    services.messages.transition(stale, S.SKIPPED, NOW)
    with pytest.raises(StaleState):
        services.messages.transition(stale, S.FAILED, NOW)
    services.roots.settle_counters()
    assert (counters("c1")["failed"], counters("c1")["queued"]) == (0, 0)


def test_a_message_of_a_deleted_campaign_still_moves(services: Services) -> None:
    CampaignCountersModel(*campaign_key("a1", "gone"), status="running").save()
    services.messages.create(new_message("m1", campaign="gone"))
    CampaignCountersModel(*campaign_key("a1", "gone")).delete()
    m = services.messages.get("m1")
    assert m is not None
    services.messages.transition(m, S.SKIPPED, NOW)
    stored = services.messages.get("m1")
    assert stored is not None and stored.status is S.SKIPPED
    assert services.messages.create(new_message("m2", campaign="gone"))  # written: the host skips it
    services.roots.settle_counters()  # their moves go nowhere: no stub campaign item is made
    with pytest.raises(CampaignCountersModel.DoesNotExist):
        CampaignCountersModel.get(*campaign_key("a1", "gone"))
