"""In-memory campaigns (CampaignRepository and CampaignStates at once) for the account-safety tests, and a
host world: the simulated driver, the delivery service and the governor on one fake clock."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from session_host.drivers.chain import DriverChain
from session_host.drivers.simulated import SimulatedConfig, SimulatedDriver
from session_host.governor import HostGovernor
from session_host.lookup import NumberChecker
from tests.fakes import (
    FakeClock,
    InMemoryMessages,
    InMemoryOptOuts,
    InMemoryPacingGuard,
    InMemoryQueue,
    InMemorySenders,
    ManualTimers,
)
from wacast.domain.campaigns import Audience, Campaign, CampaignStatus, DispatchState
from wacast.domain.errors import Conflict, NotFound
from wacast.domain.events import ReceiptStatus
from wacast.domain.governor import AccountSignal, GovernorThresholds
from wacast.domain.messages import Message, MessageStatus, StatusChange
from wacast.domain.outbox import OutboxMessage
from wacast.domain.pacing import PacingPolicy, PacingPreset
from wacast.domain.reachability import LookupPolicy
from wacast.domain.senders import Sender, SenderState
from wacast.services.delivery import DeliveryConfig, DeliveryService, Disposition
from wacast.services.governor import GovernorService


class InMemoryCampaigns:
    """The campaign lifecycle writes the governor uses (conditional on the status, like the adapter)."""

    def __init__(self) -> None:
        self.items: dict[str, Campaign] = {}
        self.completion_checks: list[str] = []

    def add(self, campaign: Campaign) -> None:
        self.items[campaign.id] = campaign

    def get(self, account_id: str, campaign_id: str) -> Campaign | None:
        campaign = self.items.get(campaign_id)
        return campaign if campaign and campaign.account_id == account_id else None

    def list_for_account(
        self, account_id: str, *, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[Campaign], str | None]:
        mine = sorted((c for c in self.items.values() if c.account_id == account_id), key=lambda c: c.id)
        start = int(cursor or 0)
        page = mine[start : start + limit]
        return page, (str(start + limit) if start + limit < len(mine) else None)

    def transition(
        self,
        account_id: str,
        campaign_id: str,
        allowed: Iterable[CampaignStatus],
        to: CampaignStatus,
        now: datetime,
        **changes: Any,
    ) -> Campaign:
        current = self.get(account_id, campaign_id)
        if current is None:
            raise NotFound("no such campaign")
        if current.status not in set(allowed):
            raise Conflict(f"a {current.status} campaign cannot be moved to {to}")
        updated = current.model_copy(update={"status": to, "updated_at": now, **changes})
        self.items[campaign_id] = updated
        return updated

    # CampaignStates
    def status_of(self, account_id: str, campaign_id: str) -> CampaignStatus | None:
        campaign = self.get(account_id, campaign_id)
        return campaign.status if campaign else None

    def mark_failed(self, account_id: str, campaign_id: str, reason: str) -> bool:
        return False

    def complete_if_done(self, account_id: str, campaign_id: str, now: datetime) -> bool:
        self.completion_checks.append(campaign_id)
        return False


def campaign(campaign_id: str, status: CampaignStatus, now: datetime, sender_id: str = "s1") -> Campaign:
    return Campaign(
        id=campaign_id,
        account_id="a1",
        name=campaign_id,
        sender_id=sender_id,
        body="hi",
        audience=Audience(tags=["all"]),
        status=status,
        run=1,
        dispatch=DispatchState(seq=3),
        created_at=now,
        updated_at=now,
    )


class GovernedEvents:
    """DriverEvents of the simulated driver in these tests: signals and receipts go to the governor."""

    def __init__(self) -> None:
        self.governor: HostGovernor | None = None
        self.states: list[SenderState] = []

    def on_state(self, sender: Sender, state: SenderState, error: str | None, at: datetime) -> None:
        self.states.append(state)

    def on_qr(self, sender: Sender, qr: str, at: datetime) -> None: ...

    def on_pairing_code(self, sender: Sender, code: str, at: datetime) -> None: ...

    def on_receipt(
        self, sender: Sender, ids: list[str], status: ReceiptStatus, recipient: str | None, at: datetime
    ) -> None:
        assert self.governor is not None
        self.governor.on_receipt(sender, ids)

    def on_incoming(
        self,
        sender: Sender,
        from_phone: str,
        text: str,
        at: datetime,
        *,
        provider_id: str | None = None,
        media_type: str | None = None,
    ) -> None: ...

    def on_account_signal(self, sender: Sender, signal: AccountSignal, at: datetime) -> None:
        assert self.governor is not None
        self.governor.on_signal(sender, signal, at)


NO_GAP = PacingPolicy(preset=PacingPreset.CUSTOM, min_gap_ms=1000, max_gap_ms=1000)


class GovernedHost:
    """One sender on the simulated driver, delivered by the real DeliveryService under the real governor."""

    def __init__(
        self,
        thresholds: GovernorThresholds | None = None,
        config: SimulatedConfig | None = None,
        lookups: LookupPolicy | None = None,
    ) -> None:
        self.clock = FakeClock()
        self.timers = ManualTimers(self.clock)
        self.sender = Sender(
            id="s1", account_id="a1", drivers=["simulated"], pacing=NO_GAP, created_at=self.clock.now()
        )
        self.senders = InMemorySenders(self.sender)
        self.campaigns = InMemoryCampaigns()
        self.jobs = InMemoryQueue(self.clock, "campaigns")
        self.messages = InMemoryMessages()
        self.events = GovernedEvents()
        cfg = config or SimulatedConfig(latency_ms=(10, 10), delivered_after_s=(1.0, 1.0), read_rate=0.0)
        self.driver = SimulatedDriver(self.events, self.clock, self.timers, cfg)
        chain = DriverChain({"simulated": self.driver})
        self.numbers = NumberChecker(chain, lookups) if lookups else None
        self.service = GovernorService(self.senders, self.campaigns, self.campaigns, self.jobs, self.clock)
        self.governor = HostGovernor(self.service, thresholds or GovernorThresholds())
        self.events.governor = self.governor
        self.delivery = DeliveryService(
            self.messages,
            self.senders,
            chain,
            InMemoryPacingGuard(),
            InMemoryOptOuts(),
            self.campaigns,
            self.clock,
            DeliveryConfig(host_id="h1", lease_seconds=60),
            governor=self.governor,
            numbers=self.numbers,
        )
        self.driver.start(self.sender)
        self._n = 0

    def queue(self, campaign_id: str | None = None, phone: str | None = None) -> str:
        self._n += 1
        now = self.clock.now()
        message = Message(
            id=f"m{self._n}",
            account_id="a1",
            sender_id="s1",
            phone=phone or f"+9198765{self._n:05d}",
            body="hi",
            campaign_id=campaign_id,
            created_at=now,
            updated_at=now,
            history=[StatusChange(status=MessageStatus.QUEUED, at=now)],
        )
        assert self.messages.create(message)
        return message.id

    def deliver(self, message_id: str) -> Disposition:
        return self.delivery.handle(OutboxMessage(message_id=message_id, account_id="a1", sender_id="s1"))

    def status(self, message_id: str) -> MessageStatus:
        message = self.messages.get(message_id)
        assert message is not None
        return message.status

    def sent_count(self) -> int:
        return len(self.driver.sent_to("s1"))

    def stored_sender(self) -> Sender:
        sender = self.senders.get("a1", "s1")
        assert sender is not None
        return sender
