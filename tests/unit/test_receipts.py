"""Receipts move a message forward (never back), prove unrecorded sends, and are counted; the receipts of
one SQS batch are applied with one write per message."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.fakes import T0, FakeClock, InMemoryAccounts, InMemoryCampaignStates, InMemoryMessages, InMemoryOptOuts
from wacast import observability as obs
from wacast.domain.errors import ProofPending
from wacast.domain.events import HostEvent, IncomingEvent, Receipt, ReceiptBatchEvent, ReceiptEvent, ReceiptStatus
from wacast.domain.messages import Message, MessageStatus, StatusChange
from wacast.observability import MemorySink, set_metrics_sink
from wacast.services.events import EventsService
from wacast.services.optouts import OptOutService

S = MessageStatus


@pytest.fixture
def sink() -> Iterator[MemorySink]:
    memory = MemorySink()
    set_metrics_sink(memory)
    yield memory
    set_metrics_sink(None)


def queued(messages: InMemoryMessages, message_id: str = "m1", phone: str = "+919876543210") -> Message:
    m = Message(
        id=message_id,
        account_id="a1",
        sender_id="s1",
        phone=phone,
        body="hi",
        campaign_id="c1",
        created_at=T0,
        updated_at=T0,
        history=[StatusChange(status=S.QUEUED, at=T0)],
    )
    messages.create(m)
    return m


def setup(status: MessageStatus) -> tuple[EventsService, InMemoryMessages]:
    messages = InMemoryMessages()
    m = queued(messages)
    m = messages.transition(
        m,
        S.SENDING,
        T0,
        changes={"lease_owner": "h", "lease_expires_at": T0 + timedelta(seconds=90), "driver_called_at": T0},
    )
    if status is S.SENT:
        messages.transition(m, S.SENT, T0, changes={"provider_message_id": "P1"})
    elif status is S.UNKNOWN:
        messages.transition(m, S.UNKNOWN, T0)
    accounts = InMemoryAccounts()
    service = EventsService(
        messages, OptOutService(InMemoryOptOuts(), accounts, FakeClock()), accounts, InMemoryCampaignStates()
    )
    return service, messages


def receipt(status: str, provider_id: str = "P1", minutes: int = 1) -> ReceiptEvent:
    return ReceiptEvent(
        account_id="a1",
        sender_id="s1",
        provider_message_ids=[provider_id],
        status=status,
        recipient="+919876543210",
        at=T0 + timedelta(minutes=minutes),
    )


def test_delivered_then_read_and_a_late_delivered_changes_nothing(sink: MemorySink) -> None:
    service, messages = setup(S.SENT)
    assert service.on_receipt(receipt("DELIVERED")) == 1
    assert service.on_receipt(receipt("READ", minutes=2)) == 1
    assert service.on_receipt(receipt("DELIVERED", minutes=3)) == 0
    stored = messages.get("m1")
    assert stored is not None and stored.status is S.READ
    assert messages.counters["c1"]["read"] == 1 and messages.counters["c1"]["delivered"] == 0
    assert sink.total(obs.DELIVERED) == 1 and sink.total(obs.READ) == 1


@pytest.mark.parametrize("unproven", [S.UNKNOWN, S.SENDING])
def test_a_receipt_from_the_recipient_proves_an_unrecorded_send(unproven: MessageStatus) -> None:
    # UNKNOWN: the worker's death was noticed; SENDING: its lease (90 s) ran out before the receipt came
    service, messages = setup(unproven)
    service.on_receipt(receipt("DELIVERED", provider_id="NEVER-RECORDED", minutes=2))
    stored = messages.get("m1")
    assert stored is not None and stored.status is S.DELIVERED and stored.provider_message_id == "NEVER-RECORDED"
    assert [h.status for h in stored.history][-2:] == [S.SENT, S.DELIVERED]


def test_a_receipt_for_someone_else_touches_nothing() -> None:
    service, messages = setup(S.UNKNOWN)
    other = receipt("DELIVERED", provider_id="X").model_copy(update={"recipient": "+14155550100"})
    assert service.on_receipt(other) == 0
    stored = messages.get("m1")
    assert stored is not None and stored.status is S.UNKNOWN


def test_a_stray_receipt_never_proves_a_send_a_live_worker_is_still_recording() -> None:
    # given a message mid-send (live lease) and a receipt for something typed on the phone to that number
    service, messages = setup(S.SENDING)
    with pytest.raises(ProofPending):
        service.on_receipt(receipt("DELIVERED", provider_id="TYPED-ON-THE-PHONE", minutes=1))
    # when the worker then records that its send failed (definitely not sent)
    m = messages.get("m1")
    assert m is not None
    messages.transition(
        m, S.RETRYING, T0 + timedelta(minutes=1), changes={"driver_called_at": None, "lease_owner": None}
    )
    # then the retried receipt proves nothing: the message is not marked sent
    assert service.on_receipt(receipt("DELIVERED", provider_id="TYPED-ON-THE-PHONE", minutes=4)) == 0
    stored = messages.get("m1")
    assert stored is not None and stored.status is S.RETRYING


# -- a batch of events: one write per message, the receipt that says the most --------------------------


#: Who has the message of each provider id (another_sent's messages go to another phone than m1).
RECIPIENT_OF = {"P2": "+14155550100"}


def batch(*receipts: tuple[str, ReceiptStatus], minute: int = 1) -> ReceiptBatchEvent:
    """A host's batch: (provider id, status) pairs, each from the recipient of its message."""
    return ReceiptBatchEvent(
        receipts=[
            Receipt(
                account_id="a1",
                sender_id="s1",
                provider_message_id=provider_id,
                status=status,
                recipient=RECIPIENT_OF.get(provider_id, "+919876543210"),
                at=T0 + timedelta(minutes=minute),
            )
            for provider_id, status in receipts
        ]
    )


def another_sent(messages: InMemoryMessages, message_id: str, provider_id: str) -> Message:
    m = queued(messages, message_id, phone="+14155550100")
    m = messages.transition(m, S.SENDING, T0, changes={"lease_owner": "h"})
    return messages.transition(m, S.SENT, T0, changes={"provider_message_id": provider_id})


def test_delivered_and_read_of_one_message_in_one_batch_are_one_write(sink: MemorySink) -> None:
    # given a sent message, and the events of one SQS batch: its DELIVERED (a receipt of the previous host
    # version) and a host batch with its READ
    service, messages = setup(S.SENT)
    before = messages.get("m1")
    assert before is not None
    # when
    failures = service.handle_batch([receipt("DELIVERED"), batch(("P1", "READ"), minute=2)])
    # then one write: SENT -> READ, at the READ's time
    assert failures == [None, None]
    after = messages.get("m1")
    assert after is not None and after.status is S.READ and after.version == before.version + 1
    assert [(h.status, h.at) for h in after.history][-2:] == [(S.SENT, T0), (S.READ, T0 + timedelta(minutes=2))]
    assert messages.counters["c1"]["read"] == 1 and messages.counters["c1"]["sent"] == 0
    # a read message was delivered: both counted, so Delivered stays the messages that reached the phone
    assert sink.total(obs.DELIVERED) == 1 and sink.total(obs.READ) == 1


def test_the_highest_receipt_wins_in_any_order_and_each_message_is_written_once() -> None:
    service, messages = setup(S.SENT)
    another_sent(messages, "m2", "P2")
    versions = {mid: m.version for mid, m in messages.items.items()}
    failures = service.handle_batch(
        [batch(("P1", "READ"), ("P2", "DELIVERED")), batch(("P1", "DELIVERED"), ("P2", "DELIVERED"), minute=3)]
    )
    assert failures == [None, None]
    statuses = {mid: (m.status, m.version - versions[mid]) for mid, m in messages.items.items()}
    assert statuses == {"m1": (S.READ, 1), "m2": (S.DELIVERED, 1)}


def test_a_receipt_that_waits_for_its_send_fails_only_the_events_that_carry_it() -> None:
    # given m1 mid-send (live lease), m2 sent; a stray receipt to m1's recipient comes with m2's receipt
    service, messages = setup(S.SENDING)
    another_sent(messages, "m2", "P2")
    events: list[HostEvent] = [
        batch(("P2", "READ")),
        batch(("TYPED-ON-THE-PHONE", "DELIVERED"), ("P2", "DELIVERED")),
        receipt("READ", provider_id="TYPED-ON-THE-PHONE", minutes=1),
    ]
    # when
    failures = service.handle_batch(events)
    # then the events carrying the waiting receipt fail (their records are retried), the first does not
    assert failures[0] is None
    assert isinstance(failures[1], ProofPending) and isinstance(failures[2], ProofPending)
    m2 = messages.get("m2")
    assert m2 is not None and m2.status is S.READ  # applied, and a retry of event 1 will not move it back
    # when the worker records that its send failed (definitely not sent), the retried records go through
    m1 = messages.get("m1")
    assert m1 is not None
    messages.transition(m1, S.RETRYING, T0, changes={"driver_called_at": None, "lease_owner": None})
    assert service.handle_batch(events[1:]) == [None, None]
    # then the stray receipt proved nothing, and m2's older receipt did not move it back
    assert [messages.items[m].status for m in ("m1", "m2")] == [S.RETRYING, S.READ]


def test_other_events_of_the_batch_are_applied_and_fail_on_their_own() -> None:
    service, messages = setup(S.SENT)
    stop = IncomingEvent(account_id="a1", sender_id="s1", sender_phone="+14155550123", text="STOP", at=T0)
    failures = service.handle_batch([stop, batch(("P1", "DELIVERED"))])
    assert failures == [None, None]
    assert service.opt_outs.optouts.is_opted_out("a1", "+14155550123")  # type: ignore[attr-defined]
    stored = messages.get("m1")
    assert stored is not None and stored.status is S.DELIVERED
