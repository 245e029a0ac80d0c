"""The send path of one outbox message, against in-memory fakes of our ports."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from session_host.drivers.chain import DriverChain
from tests.fakes import (
    FakeClock,
    InMemoryCampaignStates,
    InMemoryMessages,
    InMemoryOptOuts,
    InMemoryPacingGuard,
    InMemorySenders,
    ScriptedDriver,
)
from wacast import observability as obs
from wacast.domain.messages import Message, MessageStatus, StatusChange
from wacast.domain.outbox import OutboxMessage
from wacast.domain.outcomes import SendCode, SendOutcome
from wacast.domain.senders import Sender, SenderState
from wacast.observability import MemorySink, set_metrics_sink
from wacast.services.delivery import Act, DeliveryConfig, DeliveryService, Disposition

S = MessageStatus


class World:
    def __init__(self, *outcomes: SendOutcome, fallback: list[SendOutcome] | None = None) -> None:
        self.clock = FakeClock()
        self.messages = InMemoryMessages()
        self.sender = Sender(
            id="s1",
            account_id="a1",
            drivers=["primary", "fallback"],
            state=SenderState.CONNECTED,
            created_at=self.clock.now(),
        )
        self.senders = InMemorySenders(self.sender)
        self.primary = ScriptedDriver("primary", outcomes)
        self.fallback = ScriptedDriver("fallback", fallback or [])
        self.optouts = InMemoryOptOuts()
        self.campaigns = InMemoryCampaignStates()
        self.pacing = InMemoryPacingGuard()
        self.service = DeliveryService(
            self.messages,
            self.senders,
            DriverChain({"primary": self.primary, "fallback": self.fallback}),
            self.pacing,
            self.optouts,
            self.campaigns,
            self.clock,
            DeliveryConfig(host_id="h1", lease_seconds=60),
        )

    def queue(self, message_id: str = "m1", campaign: str | None = None, phone: str = "+919876543210") -> Message:
        now = self.clock.now()
        message = Message(
            id=message_id,
            account_id="a1",
            sender_id="s1",
            phone=phone,
            body="hi",
            campaign_id=campaign,
            created_at=now,
            updated_at=now,
            history=[StatusChange(status=S.QUEUED, at=now)],
        )
        assert self.messages.create(message)
        return message

    def handle(self, message_id: str = "m1") -> Disposition:
        """The outbox message the API or the dispatcher queued for this message, delivered to the host."""
        return self.service.handle(OutboxMessage(message_id=message_id, account_id="a1", sender_id="s1"))

    def status(self, message_id: str = "m1") -> MessageStatus:
        message = self.messages.get(message_id)
        assert message is not None
        return message.status

    @property
    def sends(self) -> int:
        return len(self.primary.sends) + len(self.fallback.sends)


def test_a_queued_message_is_claimed_sent_and_acknowledged() -> None:
    world = World()
    world.queue()
    disposition = world.handle("m1")
    message = world.messages.get("m1")
    assert disposition.act is Act.ACK
    assert message is not None and message.status is S.SENT
    assert message.driver == "primary" and not message.fallback_used and message.provider_message_id
    assert [h.status for h in message.history] == [S.QUEUED, S.SENDING, S.SENT]
    assert message.lease_owner is None


def test_a_transient_failure_of_the_primary_falls_back() -> None:
    world = World(SendOutcome.transient("primary", SendCode.NETWORK, "reset"))
    world.queue()
    world.handle("m1")
    message = world.messages.get("m1")
    assert message is not None and message.status is S.SENT
    assert message.driver == "fallback" and message.fallback_used


def test_a_permanent_failure_is_not_tried_on_the_fallback() -> None:
    world = World(SendOutcome.permanent("primary", SendCode.INVALID_RECIPIENT, "bad number"))
    world.queue()
    disposition = world.handle("m1")
    assert disposition.act is Act.ACK
    assert world.status() is S.FAILED
    assert world.fallback.sends == []


def test_a_recipient_not_on_whatsapp_is_skipped_with_the_reason_and_no_attempt() -> None:
    world = World(SendOutcome.permanent("primary", SendCode.NOT_ON_WHATSAPP, "no account"))
    world.queue()
    assert world.handle("m1").act is Act.ACK
    message = world.messages.get("m1")
    assert message is not None and message.status is S.SKIPPED
    assert message.last_error == "not on WhatsApp" and message.attempts == 0
    assert world.fallback.sends == []


def test_transient_failures_of_both_drivers_retry_with_backoff_and_count_an_attempt() -> None:
    world = World(
        SendOutcome.transient("primary", SendCode.NETWORK, "a"),
        fallback=[SendOutcome.transient("fallback", SendCode.NETWORK, "b")],
    )
    world.queue()
    disposition = world.handle("m1")
    message = world.messages.get("m1")
    assert disposition.act is Act.RETRY and 1 <= disposition.seconds <= 3
    assert message is not None and message.status is S.RETRYING and message.attempts == 1
    # the retry is claimed again and succeeds
    world.clock.advance(disposition.seconds)
    assert world.handle("m1").act is Act.ACK
    assert world.status() is S.SENT


def test_an_unknown_outcome_is_never_resent() -> None:
    world = World(SendOutcome.unknown("primary", SendCode.TIMEOUT, "no answer"))
    world.queue()
    world.handle("m1")
    assert world.status() is S.UNKNOWN
    assert world.handle("m1").act is Act.ACK  # redelivered: dropped
    assert world.sends == 1


def test_a_settled_message_delivered_again_is_dropped_without_a_send() -> None:
    world = World()
    world.queue()
    world.handle("m1")
    assert world.handle("m1").act is Act.ACK
    assert world.sends == 1


def test_a_message_leased_by_a_live_worker_is_left_alone() -> None:
    world = World()
    message = world.queue()
    world.messages.transition(
        message,
        S.SENDING,
        world.clock.now(),
        changes={"lease_owner": "other", "lease_expires_at": world.clock.now() + timedelta(seconds=40)},
    )
    disposition = world.handle("m1")
    assert disposition.act is Act.WAIT and 40 <= disposition.seconds <= 42
    assert world.sends == 0


def test_a_dead_workers_claim_without_a_driver_call_is_claimed_again() -> None:
    world = World()
    message = world.queue()
    world.messages.transition(
        message,
        S.SENDING,
        world.clock.now(),
        changes={"lease_owner": "dead", "lease_expires_at": world.clock.now() + timedelta(seconds=60)},
    )
    world.clock.advance(61)
    assert world.handle("m1").act is Act.ACK
    assert world.status() is S.SENT and world.sends == 1


def test_a_dead_workers_claim_after_the_driver_call_becomes_unknown() -> None:
    world = World()
    message = world.queue()
    world.messages.transition(
        message,
        S.SENDING,
        world.clock.now(),
        changes={
            "lease_owner": "dead",
            "lease_expires_at": world.clock.now() + timedelta(seconds=60),
            "driver_called_at": world.clock.now(),
        },
    )
    world.clock.advance(61)
    assert world.handle("m1").act is Act.ACK
    assert world.status() is S.UNKNOWN and world.sends == 0


def test_a_paused_campaigns_message_is_parked_without_burning_an_attempt() -> None:
    # the outbox copy goes (no polling while paused); the message waits, QUEUED, for the resume's requeue
    world = World()
    world.campaigns.statuses["c1"] = "paused"
    world.queue(campaign="c1")
    disposition = world.handle("m1")
    message = world.messages.get("m1")
    assert disposition.act is Act.ACK
    assert message is not None and message.status is S.QUEUED and message.attempts == 0 and world.sends == 0


def test_a_cancelled_campaigns_messages_are_skipped() -> None:
    world = World()
    world.campaigns.statuses["c1"] = "cancelled"
    world.queue(campaign="c1")
    assert world.handle("m1").act is Act.ACK
    assert world.status() is S.SKIPPED and world.sends == 0
    assert world.messages.counters["c1"]["skipped"] == 1 and world.messages.counters["c1"]["queued"] == 0


def test_an_opted_out_recipient_is_skipped() -> None:
    world = World()
    world.optouts.opt_out("a1", "+919876543210", "api", world.clock.now())
    world.queue()
    world.handle("m1")
    assert world.status() is S.SKIPPED and world.sends == 0


def test_a_disconnected_sender_defers() -> None:
    world = World()
    world.primary.connected = world.fallback.connected = False
    world.queue()
    disposition = world.handle("m1")
    assert disposition.act is Act.DEFER and world.status() is S.QUEUED and world.sends == 0


def test_the_minimum_gap_is_slept_when_short_and_deferred_when_long() -> None:
    world = World()
    world.queue("m1")
    world.queue("m2")
    world.handle("m1")
    world.handle("m2")  # balanced: 5 s gap, slept in the host
    (first, t1), (_, t2) = world.pacing.reserved
    assert (t2 - t1).total_seconds() >= 5
    assert world.clock.slept and max(world.clock.slept) <= 5

    world.sender.pacing = world.sender.pacing.model_copy(update={"preset": "custom", "min_gap_ms": 60_000})
    world.queue("m3")
    disposition = world.handle("m3")
    assert disposition.act is Act.DEFER and disposition.seconds >= 50
    assert world.status("m3") is S.QUEUED


def test_an_outbox_message_for_no_message_is_dropped() -> None:
    assert World().handle("nope").act is Act.ACK


def test_a_session_dropping_between_the_check_and_the_send_defers_without_an_attempt() -> None:
    world = World(SendOutcome.transient("primary", SendCode.NOT_CONNECTED, "the session dropped"))
    world.fallback.connected = False
    world.queue()
    disposition = world.handle("m1")
    message = world.messages.get("m1")
    assert disposition.act is Act.DEFER
    assert message is not None and message.attempts == 0 and message.status is S.RETRYING
    world.fallback.connected = True
    world.clock.advance(disposition.seconds)
    assert world.handle("m1").act is Act.ACK
    assert world.status() is S.SENT


@pytest.fixture
def sink() -> Iterator[MemorySink]:
    memory = MemorySink()
    set_metrics_sink(memory)
    yield memory
    set_metrics_sink(None)


def test_each_outcome_emits_its_business_metric(sink: MemorySink) -> None:
    world = World(
        SendOutcome.transient("primary", SendCode.NETWORK, "reset"),  # m1: the fallback sends it
        SendOutcome.permanent("primary", SendCode.INVALID_RECIPIENT, "bad number"),  # m2
        SendOutcome.unknown("primary", SendCode.TIMEOUT, "no answer"),  # m3
    )
    for message_id in ("m1", "m2", "m3"):
        world.queue(message_id, phone=f"+9198765432{message_id[-1]}0")
        world.handle(message_id)
    world.campaigns.statuses["c1"] = "paused"
    world.queue("m4", campaign="c1")
    world.handle("m4")
    assert sink.total(obs.MESSAGES_SENT, Driver="fallback") == 1
    assert sink.total(obs.FALLBACK_USED) == 1
    assert sink.total(obs.MESSAGES_FAILED, Reason="invalid_recipient") == 1
    assert sink.total(obs.MESSAGES_UNKNOWN) == 1
    assert sink.total(obs.MESSAGES_DEFERRED) == 1
    assert [p for p in sink.points if p[0] == obs.SEND_LATENCY][0][2] == "Milliseconds"


def test_a_settled_message_delivered_again_completes_its_campaign_if_due() -> None:
    # the worker that settled the last message died before completing the campaign
    world = World()
    world.campaigns.statuses["c1"] = "running"
    world.queue(campaign="c1")
    world.handle("m1")
    world.campaigns.completion_checks.clear()
    assert world.handle("m1").act is Act.ACK
    assert world.campaigns.completion_checks == ["c1"]


def test_the_media_of_a_message_goes_to_the_driver_with_its_caption() -> None:
    world = World()
    message = world.queue()
    world.messages.items[message.id] = message.model_copy(update={"media_url": "https://example.com/menu.pdf"})
    world.handle("m1")
    assert world.primary.sends == [("+919876543210", "hi")]
    assert world.primary.media == ["https://example.com/menu.pdf"]
