"""The session host's outbox consumer over real SQS (moto) with the simulated driver."""

from __future__ import annotations

import time

import pytest

from session_host.__main__ import simulated_drivers
from session_host.drivers.simulated import SimulatedConfig, SimulatedDriver
from session_host.host import SessionHost
from tests.integration.services import Services
from wacast.domain.accounts import Principal, Role
from wacast.domain.messages import MessageStatus

S = MessageStatus


def wait_until(predicate, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def owner(services: Services) -> Principal:
    session = services.auth.register("host@example.com", "a-long-password", "Host test")
    return Principal(account_id=session.account.id, user_id=session.user.id, role=Role.OWNER)


def test_the_host_sends_the_outbox_and_publishes_receipts(services: Services, owner: Principal) -> None:
    host = SessionHost(services.host, simulated_drivers(SimulatedConfig(delivered_after_s=(0.1, 0.2))), wait_seconds=1)
    host.start()
    try:
        message = services.messaging.send_direct(owner, "+919876543210", "hello")
        assert wait_until(lambda: (m := services.messages.get(message.id)) is not None and m.status is S.SENT)
        events = []
        assert wait_until(
            lambda: (
                bool(events.extend(services.queues.events.receive(wait_seconds=1)))
                or any(e.body["type"] == "receipt_batch" for e in events)  # within the host's receipt window
            )
        )
    finally:
        host.stop()
    stored = services.messages.get(message.id)
    assert stored is not None and stored.driver == "simulated" and stored.attempts == 0


def test_stopping_the_host_leaves_nothing_claimed_but_unsent(services: Services, owner: Principal) -> None:
    # given a host slowed down by pacing, with a backlog on one sender
    host = SessionHost(services.host, simulated_drivers(SimulatedConfig(latency_ms=(200, 300))), wait_seconds=1)
    sent = [services.messaging.send_direct(owner, f"+9198765432{i:02d}", "hi") for i in range(6)]
    host.start()
    assert wait_until(lambda: any((m := services.messages.get(x.id)) and m.status is S.SENT for x in sent))
    # when it is stopped (SIGTERM) mid-backlog
    host.stop()
    # then every message is either sent or still queued (back in SQS), none stuck in SENDING
    statuses = [services.messages.get(x.id).status for x in sent]  # type: ignore[union-attr]
    assert S.SENDING not in statuses and set(statuses) <= {S.SENT, S.QUEUED}
    assert S.QUEUED in statuses  # the balanced pacing left a backlog
    leftover = sum(services.queues.outbox.depth().__dict__[k] for k in ("visible", "in_flight", "delayed"))
    assert leftover >= statuses.count(S.QUEUED)


def test_a_temporary_ban_in_the_host_stops_the_sender_and_shows_on_its_item(
    services: Services, owner: Principal
) -> None:
    host = SessionHost(services.host, simulated_drivers(SimulatedConfig()), wait_seconds=1)
    host.start()
    try:
        first = services.messaging.send_direct(owner, "+919876543210", "hello")
        assert wait_until(lambda: (m := services.messages.get(first.id)) is not None and m.status is S.SENT)
        simulated = host.drivers["simulated"]
        assert isinstance(simulated, SimulatedDriver)
        # when WhatsApp bans the number (the driver's event reaches the governor through the host's wiring)
        simulated.temporary_ban(first.sender_id, code=104, expires_in_s=3600)
        simulated.start(services.senders.get(owner.account_id, first.sender_id))  # type: ignore[arg-type]
        sender = services.senders.get(owner.account_id, first.sender_id)
        assert sender is not None and sender.cooling is not None and sender.cooling.code == 104
        second = services.messaging.send_direct(owner, "+919876543211", "hello again")
        time.sleep(3)  # the host receives it, and defers it
        reached = simulated.sent_to(first.sender_id)  # what reached the simulated network
    finally:
        host.stop()
    held = services.messages.get(second.id)
    assert held is not None and held.status is S.QUEUED and held.attempts == 0
    assert [phone for _, phone, _, _ in reached] == ["+919876543210"]  # nothing went out while cooling down


def test_a_restarted_host_still_names_the_messages_it_sent_in_their_receipts(
    services: Services, owner: Principal
) -> None:
    # given a host that sent a message and stopped before its receipts came
    quiet = SimulatedConfig(delivered_after_s=(600, 601))
    host = SessionHost(services.host, simulated_drivers(quiet), wait_seconds=1)
    host.start()
    try:
        message = services.messaging.send_direct(owner, "+919876543210", "hello")
        assert wait_until(lambda: (m := services.messages.get(message.id)) is not None and m.status is S.SENT)
    finally:
        host.stop()
    sent = services.messages.get(message.id)
    assert sent is not None and sent.provider_message_id
    # when the next host starts on the same session store
    again = SessionHost(services.host, simulated_drivers(quiet), wait_seconds=1)
    again.start()
    again.stop()
    # then it remembers the send: a receipt for it names the message
    assert again.recent.message_of(sent.sender_id, sent.provider_message_id) == message.id
