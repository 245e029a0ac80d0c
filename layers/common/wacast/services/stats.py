"""Campaign statistics (counters, rates, drivers, ETA), message listings and exports, and queue depths."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from wacast.domain.accounts import Principal
from wacast.domain.campaigns import UNDERWAY, Campaign, CampaignStatus, Counters
from wacast.domain.contact_csv import csv_line
from wacast.domain.errors import NotFound
from wacast.domain.message_csv import EXPORT_COLUMNS, export_row
from wacast.domain.messages import Message, MessageStatus
from wacast.domain.pacing import PacerState, PacingPlanner, PresetGaps, within_floor
from wacast.ports import (
    CampaignRepository,
    Clock,
    MessageRepository,
    Queue,
    QueueDepth,
    SenderRepository,
)
from wacast.services.dispatch import pacer_seed

ETA_HORIZON = timedelta(days=366)
EXPORT_PAGES = 2_000  # 200k messages


class Rates(BaseModel):
    delivery: float
    read: float
    failure: float
    reply: float = Field(description="replied / sent_total")


class CampaignStats(BaseModel):
    campaign_id: str
    status: CampaignStatus
    run: int
    audience_size: int
    counters: Counters
    sent_total: int  # reached WhatsApp: sent + delivered + read
    replied: int = Field(description="messages their recipient answered (each counted once)")
    funnel: dict[str, int] = Field(
        description="total -> sent -> delivered -> read -> replied: each step counts the messages that reached it"
    )
    rates: Rates
    by_driver: dict[str, int]
    fallback_used: int
    eta: datetime | None


class QueueStats(BaseModel):
    queues: dict[str, QueueDepth]
    account: Counters


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


class StatsService:
    """Read models over campaigns, messages and queues."""

    def __init__(
        self,
        campaigns: CampaignRepository,
        messages: MessageRepository,
        senders: SenderRepository,
        queues: dict[str, Queue],
        clock: Clock,
        presets: PresetGaps,
    ) -> None:
        self.campaigns = campaigns
        self.messages = messages
        self.senders = senders
        self.queues = queues
        self.clock = clock
        self.presets = presets

    def campaign(self, principal: Principal, campaign_id: str) -> CampaignStats:
        c = self._campaign(principal, campaign_id)
        n = c.counters
        sent_total = n.sent + n.delivered + n.read
        return CampaignStats(
            campaign_id=c.id,
            status=c.status,
            run=c.run,
            audience_size=c.audience_size,
            counters=n,
            sent_total=sent_total,
            replied=c.replied,
            funnel={
                "total": n.total,
                "sent": sent_total,
                "delivered": n.delivered + n.read,
                "read": n.read,
                "replied": c.replied,
            },
            rates=Rates(
                delivery=_ratio(n.delivered + n.read, sent_total),
                read=_ratio(n.read, sent_total),
                failure=_ratio(n.failed, n.total),
                reply=_ratio(c.replied, sent_total),
            ),
            by_driver=c.sent_by_driver,
            fallback_used=c.fallback_used,
            eta=self._eta(c),
        )

    def messages_of(
        self, principal: Principal, campaign_id: str, status: MessageStatus | None, cursor: str | None, limit: int
    ) -> tuple[list[Message], str | None]:
        self._campaign(principal, campaign_id)
        return self.messages.list_by_campaign(campaign_id, status=status, cursor=cursor, limit=limit)

    def export_csv(self, principal: Principal, campaign_id: str) -> Iterator[str]:
        """CSV lines: a header, then one per message of the campaign (its text as sent). Checks the
        campaign (NotFound) before the first line is produced."""
        self._campaign(principal, campaign_id)

        return message_export_lines(self.messages, campaign_id)

    def queue_stats(self, principal: Principal) -> QueueStats:
        """Every queue's depth, and every message of the account by status: its campaigns' (direct sends
        linked to a campaign count there) and its direct ones."""
        totals: dict[str, int] = dict.fromkeys(Counters.model_fields, 0)
        for name, value in self.messages.direct_counters(principal.account_id).items():
            if name in totals:
                totals[name] += value
        cursor: str | None = None
        for _ in range(1_000):
            page, cursor = self.campaigns.list_for_account(principal.account_id, cursor=cursor, limit=100)
            for c in page:
                for name, value in c.counters.model_dump().items():
                    totals[name] += value
            if cursor is None:
                break
        return QueueStats(
            queues={name: queue.depth() for name, queue in self.queues.items()}, account=Counters(**totals)
        )

    def _campaign(self, principal: Principal, campaign_id: str) -> Campaign:
        campaign = self.campaigns.get(principal.account_id, campaign_id)
        if campaign is None:
            raise NotFound("no such campaign", details={"campaign_id": campaign_id})
        return campaign

    def _eta(self, c: Campaign) -> datetime | None:
        """When the last message should go, from the pacing plan: what is planned already, then the
        audience not dispatched yet, planned on the same pacer."""
        if c.status not in UNDERWAY:
            return c.completed_at
        sender = self.senders.get(c.account_id, c.sender_id)
        if sender is None:
            return None
        now = self.clock.now()
        pacer = c.dispatch.pacer or PacerState(seed=pacer_seed(c.id, c.run))
        remaining = 0 if c.dispatch.done else max(0, c.audience_size - c.counters.total)
        if remaining == 0:  # everything is planned: the last planned send
            return max(now, pacer.last_at) if pacer.last_at else now
        policy = within_floor(c.pacing, sender.pacing, self.presets) if c.pacing else sender.pacing
        planner = PacingPlanner(policy, self.presets, sender.created_at)
        times, _ = planner.plan(pacer, min(remaining, 200_000), now, now + ETA_HORIZON)
        return times[-1] if times else None


def message_export_lines(messages: MessageRepository, campaign_id: str) -> Iterator[str]:
    """CSV lines: a header, then one per message of the campaign (its text as sent), a page at a time."""
    yield csv_line(EXPORT_COLUMNS)
    cursor: str | None = None
    for _ in range(EXPORT_PAGES):
        page, cursor = messages.list_by_campaign(campaign_id, cursor=cursor, limit=500)
        for message in page:
            yield csv_line(export_row(message))
        if cursor is None:
            return
