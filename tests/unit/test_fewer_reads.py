"""The host and the events function read less (issue 12), and no guarantee moves: the host reads a message
eventually consistently and falls back to a consistent read whenever that could matter; a receipt names the
message its host sent, and the events function reads that message instead of looking its provider id up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes import InMemoryAccounts, InMemoryCampaignStates, InMemoryMessages, InMemoryOptOuts
from tests.unit.test_delivery_service import World
from wacast.domain.errors import StaleState
from wacast.domain.events import Receipt, strongest
from wacast.domain.messages import Message, MessageStatus, StatusChange
from wacast.domain.recent_sends import RecentSends
from wacast.ports import SendsTo
from wacast.services.delivery import Act
from wacast.services.events import EventsService

S = MessageStatus
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class LaggingMessages(InMemoryMessages):
    """An eventually consistent read that has not seen the newest write yet: it returns `lag` versions
    back (or nothing for an item that new); consistent reads see everything. Counts the reads of each kind."""

    def __init__(self) -> None:
        super().__init__()
        self.history_of: dict[str, list[Message]] = {}
        self.lag = 0
        self.reads = {True: 0, False: 0}
        self.lookups = 0

    def create(self, message: Message) -> bool:
        self.history_of.setdefault(message.id, []).append(message.model_copy(deep=True))
        return super().create(message)

    def transition(self, message: Message, new: MessageStatus, now: datetime, **kwargs: Any) -> Message:
        moved = super().transition(message, new, now, **kwargs)
        self.history_of.setdefault(message.id, []).append(moved.model_copy(deep=True))
        return moved

    def get(self, message_id: str, *, consistent: bool = True) -> Message | None:
        self.reads[consistent] += 1
        if consistent or self.lag == 0:
            return super().get(message_id)
        versions = self.history_of.get(message_id, [])
        if len(versions) <= self.lag:
            return None
        return versions[-1 - self.lag].model_copy(deep=True)

    def sends_to(self, account_id: str, sender_id: str, phone: str) -> SendsTo:
        self.lookups += 1
        return super().sends_to(account_id, sender_id, phone)


def lagging_world() -> tuple[World, LaggingMessages]:
    world = World()
    messages = LaggingMessages()
    world.messages = messages
    world.service.messages = messages
    return world, messages


def test_the_host_reads_a_message_eventually_consistently_when_that_is_current() -> None:
    world, messages = lagging_world()
    world.queue()
    assert world.handle().act is Act.ACK
    assert messages.reads == {False: 1, True: 0}
    assert world.status() is S.SENT and world.sends == 1


def test_a_message_too_new_for_an_eventually_consistent_read_is_read_again_not_dropped() -> None:
    world, messages = lagging_world()
    messages.lag = 1  # the dispatcher's put is not visible yet to an eventually consistent read
    world.queue()
    assert world.handle().act is Act.ACK
    assert messages.reads == {False: 1, True: 1}
    assert world.status() is S.SENT and world.sends == 1


def test_a_stale_read_never_sends_a_settled_message_again() -> None:
    # the message was sent by another worker; this one reads an old version (QUEUED) of it
    world, messages = lagging_world()
    world.queue()
    assert world.handle().act is Act.ACK and world.sends == 1
    messages.lag = 2  # versions: QUEUED, SENDING, SENT: the read shows QUEUED
    assert world.handle().act is Act.ACK
    assert world.sends == 1 and world.status() is S.SENT  # the claim failed on the version; the re-read said SENT


def test_a_campaign_pause_stops_the_very_next_send() -> None:
    world = World()
    world.campaigns.statuses["c1"] = "running"
    world.queue("m1", campaign="c1")
    world.queue("m2", campaign="c1", phone="+919876543211")
    assert world.handle("m1").act is Act.ACK and world.status("m1") is S.SENT
    world.campaigns.statuses["c1"] = "paused"
    assert world.handle("m2").act is Act.ACK
    assert world.status("m2") is S.QUEUED and world.sends == 1  # parked at once: the status is never cached


def test_the_host_remembers_its_sends_for_their_receipts() -> None:
    world = World()
    recent = RecentSends()
    world.service.recent = recent
    world.queue()
    world.handle()
    message = world.messages.get("m1")
    assert message is not None and message.provider_message_id
    assert recent.message_of("s1", message.provider_message_id) == "m1"
    assert recent.message_of("s2", message.provider_message_id) is None


def test_recent_sends_forget_the_oldest_first() -> None:
    recent = RecentSends(capacity=2)
    recent.remember("s1", "P1", "m1")
    recent.remember("s1", "P2", "m2")
    recent.remember("s1", "P1", "m1")  # touched again: now the newest
    recent.remember("s1", "P3", "m3")
    assert [recent.message_of("s1", p) for p in ("P1", "P2", "P3")] == ["m1", None, "m3"]
    assert len(recent) == 2


def sent(messages: InMemoryMessages, message_id: str, provider_id: str, created_at: datetime = T0) -> Message:
    m = Message(
        id=message_id,
        account_id="a1",
        sender_id="s1",
        phone="+919876543210",
        body="hi",
        created_at=created_at,
        updated_at=T0,
        history=[StatusChange(status=S.QUEUED, at=T0)],
    )
    messages.create(m)
    m = messages.transition(m, S.SENDING, T0, changes={"lease_owner": "h", "driver_called_at": T0})
    return messages.transition(m, S.SENT, T0, changes={"provider_message_id": provider_id, "lease_owner": None})


def events_over(messages: InMemoryMessages) -> EventsService:
    return EventsService(messages, InMemoryOptOuts(), InMemoryAccounts(), InMemoryCampaignStates())  # type: ignore[arg-type]


def receipt(provider_id: str, status: str = "DELIVERED", message_id: str | None = None) -> Receipt:
    return Receipt(
        account_id="a1",
        sender_id="s1",
        provider_message_id=provider_id,
        status=status,  # type: ignore[arg-type]
        recipient="+919876543210",
        at=T0,
        message_id=message_id,
    )


def test_a_receipt_that_names_its_message_is_applied_without_a_lookup() -> None:
    messages = LaggingMessages()
    sent(messages, "m1", "P1")
    assert events_over(messages).apply_receipt(receipt("P1", message_id="m1"))
    assert messages.lookups == 0 and messages.reads == {False: 1, True: 0}
    assert (messages.get("m1") or sent).status is S.DELIVERED  # type: ignore[union-attr]


def test_a_stale_read_of_a_named_message_is_made_again_consistently() -> None:
    messages = LaggingMessages()
    sent(messages, "m1", "P1")
    messages.lag = 1  # the read shows it SENDING, without the provider id yet
    assert events_over(messages).apply_receipt(receipt("P1", message_id="m1"))
    assert messages.lookups == 0 and messages.reads[True] >= 1
    messages.lag = 0
    found = messages.get("m1")
    assert found is not None and found.status is S.DELIVERED


def test_a_receipt_naming_the_wrong_message_is_found_by_its_recipient_and_provider_id() -> None:
    messages = LaggingMessages()
    sent(messages, "m1", "P1")
    sent(messages, "m2", "P2")
    assert events_over(messages).apply_receipt(receipt("P2", "READ", message_id="m1"))
    assert messages.lookups == 1
    m1, m2 = messages.get("m1"), messages.get("m2")
    assert m1 is not None and m1.status is S.SENT  # never moved by a receipt about another message
    assert m2 is not None and m2.status is S.READ


def test_merging_receipts_keeps_the_message_id() -> None:
    merged = strongest([receipt("P1", "DELIVERED", message_id="m1"), receipt("P1", "READ")])
    (only,) = merged.values()
    assert only.status == "READ" and only.message_id == "m1"


def test_a_receipt_the_host_did_not_name_is_found_among_the_sends_to_its_recipient() -> None:
    messages = LaggingMessages()
    sent(messages, "m1", "P1")
    sent(messages, "m2", "P2")
    assert events_over(messages).apply_receipt(receipt("P1", "READ"))
    m1, m2 = messages.get("m1"), messages.get("m2")
    assert m1 is not None and m1.status is S.READ
    assert m2 is not None and m2.status is S.SENT


def test_a_receipt_with_neither_message_nor_recipient_moves_nothing() -> None:
    messages = LaggingMessages()
    sent(messages, "m1", "P1")
    lost = receipt("P1").model_copy(update={"recipient": None})
    assert not events_over(messages).apply_receipt(lost)
    m1 = messages.get("m1")
    assert m1 is not None and m1.status is S.SENT and messages.lookups == 0


def test_recent_sends_restored_after_a_restart_are_older_than_the_new_ones() -> None:
    before = RecentSends(capacity=3)
    for i in range(4):
        before.remember("s1", f"P{i}", f"m{i}")
    after = RecentSends(capacity=3)
    after.remember("s1", "P9", "m9")  # sent after the restart, before the file was read
    after.restore(before.entries())
    assert [after.message_of("s1", p) for p in ("P0", "P1", "P2", "P3", "P9")] == [None, None, "m2", "m3", "m9"]
    after.remember("s1", "P10", "m10")  # the oldest restored one goes first
    assert after.message_of("s1", "P2") is None and after.message_of("s1", "P9") == "m9"


class LostClaimAnswer(InMemoryMessages):
    """The claim's write goes through, but its answer is lost: the SDK's retry finds the condition failed."""

    def transition(self, message: Message, new: MessageStatus, now: datetime, **kwargs: Any) -> Message:
        moved = super().transition(message, new, now, **kwargs)
        if new is S.SENDING:
            raise StaleState("the message changed meanwhile")
        return moved


def test_a_claim_whose_answer_was_lost_still_sends_once() -> None:
    world = World()
    messages = LostClaimAnswer()
    world.messages = messages
    world.service.messages = messages
    world.queue()
    assert world.handle().act is Act.ACK
    assert world.status() is S.SENT and world.sends == 1


def test_someone_elses_claim_is_never_taken_for_ours() -> None:
    world = World()
    world.queue()
    other = world.messages.get("m1")
    assert other is not None
    lease = {"lease_owner": "h1/another-attempt", "lease_expires_at": world.clock.now() + timedelta(seconds=60)}
    world.messages.transition(other, S.SENDING, world.clock.now(), changes={**lease, "driver_called_at": T0})
    assert world.handle().act is Act.WAIT  # a live lease of another attempt of this host: not ours
    assert world.sends == 0


def test_a_receipt_beyond_the_sends_read_proves_no_unproven_send() -> None:
    # given an old sent message, 50 newer ones to the same phone, and the newest an unproven send (a crash)
    messages = LaggingMessages()
    old = sent(messages, "m-old", "P-OLD", created_at=T0 - timedelta(days=1))
    for i in range(50):
        sent(messages, f"m{i:02d}", f"P{i:02d}")
    newest = Message(
        id="m-unproven",
        account_id="a1",
        sender_id="s1",
        phone="+919876543210",
        body="hi",
        created_at=T0 + timedelta(hours=1),
        updated_at=T0,
        history=[StatusChange(status=S.QUEUED, at=T0)],
    )
    messages.create(newest)
    claimed = messages.transition(newest, S.SENDING, T0, changes={"lease_owner": "h", "driver_called_at": T0})
    messages.transition(claimed, S.UNKNOWN, T0)
    # when the old message's receipt comes without its message id (the host forgot it)
    assert not events_over(messages).apply_receipt(receipt("P-OLD", "READ"))
    # then the unproven send is not taken for it: an older send, not read, may have that id
    unproven = messages.get("m-unproven")
    assert unproven is not None and unproven.status is S.UNKNOWN and unproven.provider_message_id is None
    assert (messages.get(old.id) or old).status is S.SENT
