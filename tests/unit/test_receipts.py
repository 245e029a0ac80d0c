"""Receipts move a message forward (never back), prove unrecorded sends, and are counted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.fakes import T0, FakeClock, InMemoryAccounts, InMemoryCampaignStates, InMemoryMessages, InMemoryOptOuts
from wacast import observability as obs
from wacast.domain.errors import ProofPending
from wacast.domain.events import ReceiptEvent
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


def setup(status: MessageStatus) -> tuple[EventsService, InMemoryMessages]:
    messages = InMemoryMessages()
    m = Message(
        id="m1",
        account_id="a1",
        sender_id="s1",
        phone="+919876543210",
        body="hi",
        campaign_id="c1",
        created_at=T0,
        updated_at=T0,
        history=[StatusChange(status=S.QUEUED, at=T0)],
    )
    messages.create(m)
    m = messages.transition(
        m, S.SENDING, T0, changes={"lease_owner": "h", "lease_expires_at": T0 + timedelta(seconds=90)}
    )
    m = messages.mark_driver_called(m, T0)
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
