"""A campaign pipeline driven step by step against moto: the real services, queues and tables, the
simulated WhatsApp network, and the test deciding when each consumer runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from session_host.consumer import OutboxConsumer
from session_host.drivers.chain import DriverChain
from session_host.drivers.simulated import SimulatedConfig, SimulatedDriver
from session_host.events import HostEvents
from session_host.timers import ThreadTimers
from tests.fakes import HostEventsWithoutSupervisor
from tests.integration.services import Services
from wacast.adapters.clock import SystemClock
from wacast.domain.accounts import Principal, Role
from wacast.domain.campaign_jobs import CAMPAIGN_JOB
from wacast.domain.campaigns import Audience, Campaign, CampaignDraft
from wacast.domain.errors import ProofPending
from wacast.domain.events import HOST_EVENT
from wacast.domain.messages import Message, MessageStatus
from wacast.domain.outbox import OutboxMessage
from wacast.domain.pacing import PacingPolicy, PacingPreset
from wacast.services.delivery import Act, DeliveryConfig, DeliveryService

NO_GAP = PacingPolicy(preset=PacingPreset.CUSTOM, min_gap_ms=0, max_gap_ms=0)


class CampaignWorld:
    """`drivers` names the simulated drivers the sender uses, primary first (default: one)."""

    def __init__(
        self,
        services: Services,
        drivers: dict[str, SimulatedConfig] | None = None,
        email: str = "owner@example.com",
    ) -> None:
        self.services = services
        session = services.auth.register(email, "a-long-password", "Campaigns")
        self.principal = Principal(account_id=session.account.id, user_id=session.user.id, role=Role.OWNER)
        sender = services.senders.get(self.principal.account_id, session.account.default_sender_id or "")
        assert sender is not None
        configs = drivers or {
            "simulated": SimulatedConfig(latency_ms=(0, 0), delivered_after_s=(0.05, 0.1), read_rate=0.0)
        }
        self.sender = sender.model_copy(update={"pacing": NO_GAP, "drivers": list(configs)})
        services.senders.save_config(self.sender)
        self.timers = ThreadTimers()
        events = HostEventsWithoutSupervisor(HostEvents(services.senders, services.publisher))
        self.drivers = {
            name: SimulatedDriver(events, SystemClock(), self.timers, config, name) for name, config in configs.items()
        }
        for driver in self.drivers.values():
            driver.start(self.sender)
        self.network = next(iter(self.drivers.values()))
        self.delivery = DeliveryService(
            services.messages,
            services.senders,
            DriverChain(self.drivers),
            services.repos.pacing_guard,
            services.repos.optouts,
            services.repos.campaign_states,
            SystemClock(),
            DeliveryConfig(host_id="host-test", disconnected_recheck_seconds=1),
        )
        self.consumer = OutboxConsumer(services.queues.outbox, self.delivery)
        self.acts: list[Act] = []

    def close(self) -> None:
        self.timers.stop()

    # -- building -----------------------------------------------------------------------------------

    def contacts(self, count: int, tag: str, start: int = 0, **attributes: str) -> list[str]:
        return [
            self.services.contacts.create(self.principal, f"+9198{start + i:08d}", f"Person {i}", attributes, [tag]).id
            for i in range(count)
        ]

    def import_contacts(self, count: int, tag: str) -> None:
        rows = "".join(f"+9198{i:08d},Person {i},{tag}\n" for i in range(count))
        report = self.services.contacts.import_csv(self.principal, f"phone,name,tags\n{rows}".encode())
        assert report.imported == count, report

    def campaign(self, tag: str, body: str = "Hi {{name}}", **extra: Any) -> Campaign:
        extra.setdefault("pacing", NO_GAP)
        draft = CampaignDraft(name="test", body=body, audience=Audience(tags=[tag]), **extra)
        return self.services.campaigns.create(self.principal, draft)

    # -- running the consumers --------------------------------------------------------------------

    def pump_jobs(self, wait: int = 0) -> int:
        received = self.services.queues.campaigns.receive(wait_seconds=wait)
        for message in received:
            self.services.dispatcher.jobs.run(CAMPAIGN_JOB.validate_python(message.body), message.receive_count)
            self.services.queues.campaigns.delete(message)
        return len(received)

    def pump_outbox(self, limit: int | None = None, wait: int = 0) -> int:
        handled = 0
        while limit is None or handled < limit:
            room = 10 if limit is None else min(10, limit - handled)
            batch = self.services.queues.outbox.receive(max_messages=room, wait_seconds=wait)
            if not batch:
                return handled
            for received in batch:
                disposition = self.delivery.handle(OutboxMessage.model_validate(received.body))
                self.consumer.apply(received, disposition)
                self.acts.append(disposition.act)
            handled += len(batch)
        return handled

    def pump_events(self) -> int:
        received = self.services.queues.events.receive(wait_seconds=0)
        for message in received:
            try:
                self.services.events.handle(HOST_EVENT.validate_python(message.body))
            except ProofPending:
                continue  # the events queue gives it back later, as it would to the Lambda
            self.services.queues.events.delete(message)
        return len(received)

    def pump_counters(self) -> int:
        """The counters function's work: status changes from the table's stream onto the counters."""
        return self.services.roots.settle_counters()

    def run_until(self, done: Callable[[], bool], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():
                return
            moved = self.pump_jobs() + self.pump_outbox(limit=50) + self.pump_events() + self.pump_counters()
            if not moved:
                time.sleep(0.1)
        raise AssertionError("the campaign did not get there in time")

    def settle_receipts(self, timeout: float = 30.0) -> None:
        """Let the receipts still on their way arrive and be applied (quiet for two seconds)."""
        deadline, quiet_since = time.monotonic() + timeout, time.monotonic()
        while time.monotonic() < deadline:
            if self.pump_events() + self.pump_counters():
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > 2.0:
                return
            time.sleep(0.2)
        raise AssertionError("receipts kept coming")

    # -- looking --------------------------------------------------------------------------------

    def reload(self, campaign: Campaign) -> Campaign:
        self.pump_counters()  # the counters as they are once the stream is applied
        return self.services.campaigns.get(self.principal, campaign.id)

    def messages(self, campaign: Campaign) -> list[Message]:
        out: list[Message] = []
        cursor: str | None = None
        for _ in range(100):
            page, cursor = self.services.messages.list_by_campaign(campaign.id, cursor=cursor, limit=500)
            out += [m for m in (self.services.messages.get(x.id) for x in page) if m is not None]
            if cursor is None:
                return out
        raise AssertionError("too many pages")

    def sent_phones(self) -> list[str]:
        """Every phone the network got a message for, across the drivers (a phone twice = a duplicate)."""
        return [phone for d in self.drivers.values() for _, phone, _, _ in d.sent_to(self.sender.id)]


def counts_by_bucket(messages: list[Message]) -> dict[str, int]:
    from wacast.domain.messages import COUNTER_OF

    counts: dict[str, int] = {}
    for m in messages:
        counts[COUNTER_OF[m.status]] = counts.get(COUNTER_OF[m.status], 0) + 1
    return counts


def counters_match(campaign: Campaign, messages: list[Message]) -> None:
    expected = counts_by_bucket(messages)
    actual = {k: v for k, v in campaign.counters.model_dump().items() if k != "total" and v}
    assert actual == expected, (actual, expected)
    assert campaign.counters.total == len(messages)


S = MessageStatus
