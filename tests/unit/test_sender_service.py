"""SenderService with in-memory fakes: who may manage senders, and the commands sent to the host."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fakes import FakeClock, InMemoryAccounts, InMemoryQueue, InMemorySenders
from wacast.domain.accounts import Account, Principal, Role
from wacast.domain.errors import Forbidden, NotFound, ValidationFailed
from wacast.domain.pacing import PacingPolicy
from wacast.domain.senders import SenderState
from wacast.services.senders import SenderService

OWNER = Principal(account_id="a1", user_id="u1", role=Role.OWNER)
MEMBER = Principal(account_id="a1", user_id="u2", role=Role.MEMBER)


@pytest.fixture
def world() -> tuple[SenderService, InMemoryQueue, InMemorySenders, FakeClock]:
    clock = FakeClock()
    accounts = InMemoryAccounts()
    accounts.accounts["a1"] = Account(id="a1", name="A", created_at=clock.now())
    senders, control = InMemorySenders(), InMemoryQueue(clock, "control")
    return SenderService(senders, accounts, control, clock, ("neonize", "webjs")), control, senders, clock


def test_members_may_look_but_not_manage(
    world: tuple[SenderService, InMemoryQueue, InMemorySenders, FakeClock],
) -> None:
    service, control, _, _ = world
    with pytest.raises(Forbidden):
        service.create(MEMBER, "+919800000001", "x", ["neonize"], PacingPolicy())
    sender = service.create(OWNER, "+919800000001", "x", ["neonize", "webjs"], PacingPolicy())
    assert [s.id for s in service.list_senders(MEMBER)] == [sender.id]
    for action in (service.start_linking, service.logout, service.current_qr):
        with pytest.raises(Forbidden):
            action(MEMBER, sender.id)
    assert control.sent == []


def test_commands_go_to_the_control_queue(
    world: tuple[SenderService, InMemoryQueue, InMemorySenders, FakeClock],
) -> None:
    service, control, _, _ = world
    sender = service.create(OWNER, "+919800000001", "x", ["neonize", "webjs"], PacingPolicy())
    service.start_linking(OWNER, sender.id, "webjs")
    service.request_pairing_code(OWNER, sender.id)
    with pytest.raises(ValidationFailed):
        service.request_pairing_code(OWNER, sender.id, "+919800000009")  # not the sender's number
    with pytest.raises(ValidationFailed):
        service.start_linking(OWNER, sender.id, "simulated")
    bodies = [body for body, _ in control.sent]
    assert [(b["type"], b["driver"], b["phone"]) for b in bodies] == [
        ("link", "webjs", None),
        ("pair", None, "919800000001"),
    ]
    assert len({b["command_id"] for b in bodies}) == 2


def test_a_qr_code_expires(world: tuple[SenderService, InMemoryQueue, InMemorySenders, FakeClock]) -> None:
    service, _, senders, clock = world
    sender = service.create(OWNER, "+919800000001", "x", ["neonize"], PacingPolicy())
    with pytest.raises(NotFound):
        service.current_qr(OWNER, sender.id)
    senders.save_state(
        sender.model_copy(update={"qr": "2@abc", "qr_updated_at": clock.now(), "state": SenderState.LINKING})
    )
    assert service.current_qr(OWNER, sender.id).code == "2@abc"
    assert service.qr_image(OWNER, sender.id, "png").startswith(b"\x89PNG")
    clock.advance(timedelta(seconds=91).total_seconds())
    with pytest.raises(NotFound):
        service.current_qr(OWNER, sender.id)
