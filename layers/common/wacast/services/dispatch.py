"""The dispatcher: the paced fan-out of a campaign run into message items and outbox messages.

One job plans one window (at most ~15 minutes ahead, the SQS DelaySeconds maximum), then hands on
to a continuation of itself that carries the audience position and the pacer state on the campaign
item. Every job carries the dispatch `seq`; only the job holding the current seq may advance it
(a conditional write), so a redelivered or duplicated job never forks the fan-out. Message ids
derive from (campaign, run, contact), so dispatching a window again never duplicates a message.

Each message is written alone; its creation is counted later, from the table's stream. So the write that
commits a window also adds how many messages the window has to the campaign's `dispatched` count, and
the run cannot complete before the counters have seen that many created (adapters/dynamo/campaigns.py).
A window counts each of its messages once: the ones it created, and the ones it found already written by
an attempt that never committed (a crash, or a pause that raced it: created after the last committed
window, `DispatchState.counted_through`); not one an earlier window counted (a contact met again).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from wacast.domain.campaign_jobs import DispatchJob, RequeueJob, RunJob, SweepJob
from wacast.domain.campaigns import DISPATCHING, Campaign, CampaignStatus, DispatchState
from wacast.domain.contacts import Contact
from wacast.domain.errors import StaleState, ValidationFailed
from wacast.domain.messages import (
    CLAIMABLE,
    Message,
    MessageStatus,
    StatusChange,
    dispatched_listing,
    message_id_for,
)
from wacast.domain.outbox import OutboxMessage
from wacast.domain.pacing import PacerState, PacingPlanner, PresetGaps, gap_bounds_ms, within_floor
from wacast.domain.senders import Sender
from wacast.domain.spintax import spin
from wacast.domain.templates import contact_values, render
from wacast.observability import logger
from wacast.ports import (
    CampaignRepository,
    CampaignStates,
    Clock,
    MessageRepository,
    OptOutRepository,
    Queue,
    SenderRepository,
    TemplateRepository,
)
from wacast.services.audience import AudienceReader, Position

S = MessageStatus
WINDOW = timedelta(seconds=840)  # plan this far ahead: under SQS's 900 s DelaySeconds maximum
LEAD = timedelta(seconds=60)  # the continuation runs this long before the planned window runs out
MAX_PAGES_PER_JOB = 50
PAGE = 100
SWEEP_PAGES_PER_JOB = 20
FAR = timedelta(days=3650)


def pacer_seed(campaign_id: str, run: int) -> int:
    return int(hashlib.sha256(f"{campaign_id}:{run}".encode()).hexdigest()[:12], 16)


def delay_until(moment: datetime | None, now: datetime) -> int:
    if moment is None:
        return 0
    return max(0, min(900, int((moment - now).total_seconds())))


@dataclass
class WindowCount:
    """The distinct messages of one window, for the campaign's `dispatched` count (see the module doc)."""

    counted_through: datetime | None  # of the last committed window: messages created until then are counted
    ids: set[str] = field(default_factory=set)
    latest: datetime | None = None  # the newest creation counted here

    def add(self, created: list[Message], found: list[Message]) -> None:
        """`created`: written by this window; `found`: there already, as read now."""
        self.ids.update(m.id for m in created)
        for message in found:
            if not message.counted_on_insert:
                continue  # written before creations were counted from the stream: never in `inserted`
            if self.counted_through is None or message.created_at > self.counted_through:
                self.ids.add(message.id)  # left by an attempt that never committed: this window counts it
                self.latest = message.created_at if self.latest is None else max(self.latest, message.created_at)

    def through(self, now: datetime) -> datetime:
        """The next `counted_through`: never earlier than this one (clocks of two Lambdas may differ)."""
        return max(t for t in (now, self.latest, self.counted_through) if t is not None)


class DispatchService:
    """Handles the dispatch, sweep and requeue jobs of the campaigns queue (see CampaignJobRunner)."""

    def __init__(
        self,
        campaigns: CampaignRepository,
        states: CampaignStates,
        senders: SenderRepository,
        templates: TemplateRepository,
        audience: AudienceReader,
        messages: MessageRepository,
        optouts: OptOutRepository,
        outbox: Queue,
        jobs: Queue,
        clock: Clock,
        presets: PresetGaps,
    ) -> None:
        self.campaigns = campaigns
        self.states = states
        self.senders = senders
        self.templates = templates
        self.audience = audience
        self.messages = messages
        self.optouts = optouts
        self.outbox = outbox
        self.jobs = jobs
        self.clock = clock
        self.presets = presets

    def on_dispatch(self, job: DispatchJob, receive_count: int = 1) -> None:
        """Plan the next window of the job's run, if the job holds the campaign's current seq."""
        campaign = self._campaign_of(job)
        if campaign is None:
            return
        if campaign.status not in DISPATCHING:
            self._run_stopped(campaign)
            return
        if campaign.dispatch.done:  # a redelivery after the last window: make sure it completes
            self.states.complete_if_done(campaign.account_id, campaign.id, self.clock.now())
            return
        if job.seq == campaign.dispatch.seq - 1 and receive_count > 1:
            # This job advanced the campaign, then failed before handing on: hand on again.
            self._continue(campaign, campaign.dispatch, self.clock.now())
            return
        if job.seq != campaign.dispatch.seq:
            return  # a stale or duplicate job: the current one owns the dispatch
        self.dispatch_window(campaign)

    def on_sweep(self, job: SweepJob) -> None:
        campaign = self._campaign_of(job)
        if campaign is not None:
            self.sweep(campaign)

    def on_requeue(self, job: RequeueJob) -> None:
        campaign = self._campaign_of(job)
        if campaign is not None:
            self.requeue(campaign)

    def _campaign_of(self, job: RunJob) -> Campaign | None:
        """The job's campaign, unless it was deleted or has started another run since."""
        campaign = self.campaigns.get(job.account_id, job.campaign_id)
        if campaign is None or campaign.run != job.run:
            logger.info("campaign job for another run or a deleted campaign; dropped", job=job.model_dump())
            return None
        return campaign

    # -- one window -------------------------------------------------------------------------------

    def dispatch_window(self, campaign: Campaign) -> None:
        now = self.clock.now()
        sender = self.senders.get(campaign.account_id, campaign.sender_id)
        body = self._body(campaign)
        if sender is None or body is None:
            reason = "the sender was deleted" if sender is None else "the template was deleted"
            self.states.mark_failed(campaign.account_id, campaign.id, reason)
            logger.error("campaign failed", campaign_id=campaign.id, reason=reason)
            return
        policy = within_floor(campaign.pacing, sender.pacing, self.presets) if campaign.pacing else sender.pacing
        planner = PacingPlanner(policy, self.presets, sender.created_at)
        pacer = campaign.dispatch.pacer or PacerState(seed=pacer_seed(campaign.id, campaign.run))
        min_gap = timedelta(milliseconds=max(1, gap_bounds_ms(policy, self.presets)[0]))
        horizon = now + WINDOW
        position: Position | None = Position(campaign.dispatch.audience_index, campaign.dispatch.cursor)
        window = WindowCount(campaign.dispatch.counted_through)
        written = 0
        for page_no in range(MAX_PAGES_PER_JOB):
            assert position is not None
            if not planner.plan(pacer, 1, now, horizon)[0]:
                break  # the window is full
            room = int((horizon - max(now, pacer.next_at or now)) / min_gap) + 1
            # Eventually consistent (half the read units): the query that lists a tag's or an import's
            # contacts is anyway, a contact changed a moment ago is read as it was (as if the window had run
            # a moment earlier), and the host checks the opt-out again, consistently, right before each send.
            contacts, position = self.audience.page(
                campaign.account_id, campaign.audience, position, min(PAGE, room), consistent=False
            )
            # listed under the window's seq and the page's number: a window done again lists the same ids there
            listed_as = dispatched_listing(campaign.run, campaign.dispatch.seq, page_no)
            pacer, count = self._write_page(campaign, sender, body, contacts, planner, pacer, now, window, listed_as)
            written += count
            if position is None:
                break
        last = position or Position()
        state = DispatchState(
            seq=campaign.dispatch.seq + 1,
            cursor=last.cursor,
            audience_index=last.index,
            pacer=pacer,
            done=position is None,
            counted_through=window.through(now),
        )
        if not self.campaigns.advance_dispatch(campaign, campaign.dispatch.seq, state, now, len(window.ids)):
            logger.info("dispatch lost its turn (paused, cancelled or raced); stopping", campaign_id=campaign.id)
            current = self.campaigns.get(campaign.account_id, campaign.id)
            if current is not None:
                self._run_stopped(current)
            return
        logger.info(
            "dispatched a window",
            campaign_id=campaign.id,
            run=campaign.run,
            messages=written,
            counted=len(window.ids),
            done=state.done,
        )
        if state.done:
            self.states.complete_if_done(campaign.account_id, campaign.id, now)
        else:
            self._continue(campaign, state, now)

    def _write_page(
        self,
        campaign: Campaign,
        sender: Sender,
        body: str,
        contacts: list[Contact],
        planner: PacingPlanner,
        pacer: PacerState,
        now: datetime,
        window: WindowCount,
        listed_as: str,
    ) -> tuple[PacerState, int]:
        """Write one page of messages (planned on `pacer`), count them in `window` and queue them. Returns
        the pacer after them and how many were new."""
        if not contacts:
            return pacer, 0
        # Eventually consistent (an opt-out of the last second may be missed here): the host checks the
        # opt-out again with a consistent read right before each send, and skips the message then.
        opted_out = self.optouts.opted_out_among(campaign.account_id, [c.phone for c in contacts])
        messages = []
        for contact in contacts:
            status, text, detail, send_at = S.QUEUED, "", "queued by the dispatcher", None
            if contact.phone in opted_out:
                status, detail = S.SKIPPED, "opted out"
            else:
                try:  # the variant is chosen by the message id: a re-dispatch renders the same text
                    text = render(
                        spin(body, message_id_for(campaign.id, contact.id, campaign.run)), contact_values(contact)
                    )
                except ValidationFailed as exc:
                    status, detail = S.FAILED, f"template: {exc.message}"
            if status is S.QUEUED:
                times, pacer = planner.plan(pacer, 1, now, now + FAR)
                send_at = times[0]
            messages.append(self._message(campaign, sender, contact, status, text, detail, send_at, now))
        created = self.messages.create_many(messages, listed_as)
        pairs = list(zip(messages, created, strict=True))
        new = [m for m, is_new in pairs if is_new]
        found = [f for f in (self.messages.get(m.id) for m, is_new in pairs if not is_new) if f is not None]
        window.add(new, found)
        self._enqueue(new, found, now)
        return pacer, len(new)

    def _enqueue(self, new: list[Message], existing: list[Message], now: datetime) -> None:
        """Queue what was just written, and what a crashed earlier run wrote but may not have queued."""
        ready = [m for m in new if m.status is S.QUEUED] + [m for m in existing if m.status is S.QUEUED]
        self.outbox.send_batch([(OutboxMessage.of(m).model_dump(), delay_until(m.send_at, now)) for m in ready])

    @staticmethod
    def _message(
        campaign: Campaign,
        sender: Sender,
        contact: Contact,
        status: MessageStatus,
        text: str,
        detail: str,
        send_at: datetime | None,
        now: datetime,
    ) -> Message:
        return Message(
            id=message_id_for(campaign.id, contact.id, campaign.run),
            account_id=campaign.account_id,
            sender_id=sender.id,
            phone=contact.phone,
            body=text,
            status=status,
            campaign_id=campaign.id,
            contact_id=contact.id,
            run=campaign.run,
            send_at=send_at,
            last_error=None if status is S.QUEUED else detail,
            created_at=now,
            updated_at=now,
            history=[StatusChange(status=status, at=now, detail=detail)],
        )

    def _body(self, campaign: Campaign) -> str | None:
        if campaign.template_id is None:
            return campaign.body
        template = self.templates.get(campaign.account_id, campaign.template_id)
        return template.body if template else None

    def _continue(self, campaign: Campaign, state: DispatchState, now: datetime) -> None:
        pacer_next = state.pacer.next_at if state.pacer else None
        job = DispatchJob(account_id=campaign.account_id, campaign_id=campaign.id, run=campaign.run, seq=state.seq)
        self.jobs.send(job.model_dump(), delay_seconds=delay_until(pacer_next - LEAD if pacer_next else None, now))

    # -- resumption -------------------------------------------------------------------------------

    def requeue(self, campaign: Campaign) -> None:
        """A resumed run: queue again, paced from now, every message that came due while it was paused
        (the host parked them: they left the outbox, still QUEUED). A message whose outbox copy survived
        may be queued twice: its claim lets one copy through and the other finds it settled."""
        if campaign.status not in DISPATCHING:
            return
        now = self.clock.now()
        sender = self.senders.get(campaign.account_id, campaign.sender_id)
        if sender is None:
            return  # the next dispatch window fails the campaign, naming the reason
        policy = within_floor(campaign.pacing, sender.pacing, self.presets) if campaign.pacing else sender.pacing
        gap = max(1, gap_bounds_ms(policy, self.presets)[0]) / 1000
        due: list[Message] = []
        for status in sorted(CLAIMABLE):
            cursor: str | None = None
            for _ in range(MAX_PAGES_PER_JOB):
                page, cursor = self.messages.list_by_campaign(campaign.id, status=status, cursor=cursor, limit=PAGE)
                due += [m for m in page if m.run == campaign.run and (m.send_at is None or m.send_at <= now)]
                if cursor is None:
                    break
        due.sort(key=lambda m: (m.send_at or m.created_at, m.id))
        self.outbox.send_batch([(OutboxMessage.of(m).model_dump(), min(900, int(i * gap))) for i, m in enumerate(due)])
        logger.info("requeued a resumed campaign's parked messages", campaign_id=campaign.id, messages=len(due))

    # -- cancellation -----------------------------------------------------------------------------

    def _run_stopped(self, campaign: Campaign) -> None:
        """A dispatch found its run no longer running. Paused (resume sends a new job), completed, failed:
        nothing to do. Cancelled: sweep (again), since a dispatch that raced the cancel, or died between
        writing and queueing, may have left waiting messages the cancel's own sweep did not see."""
        self.sweep(campaign)

    def sweep(self, campaign: Campaign) -> None:
        """A cancelled run: every message still waiting becomes SKIPPED. Nothing, for a run not cancelled."""
        if campaign.status is not CampaignStatus.CANCELLED:
            return
        skipped = 0
        for status in sorted(CLAIMABLE):
            cursor: str | None = None
            for _ in range(SWEEP_PAGES_PER_JOB):
                page, cursor = self.messages.list_by_campaign(campaign.id, status=status, cursor=cursor, limit=PAGE)
                for message in page:
                    skipped += self._skip(message)
                if cursor is None:
                    break
            if cursor is not None:  # more than one job's worth: carry on in a fresh job
                sweep = SweepJob(account_id=campaign.account_id, campaign_id=campaign.id, run=campaign.run)
                self.jobs.send(sweep.model_dump())
                break
        logger.info("swept a cancelled campaign", campaign_id=campaign.id, skipped=skipped)

    def _skip(self, message: Message) -> int:
        current = self.messages.get(message.id)  # the GSI lags: decide on the item itself
        if current is None or current.status not in CLAIMABLE:
            return 0
        try:
            self.messages.transition(current, S.SKIPPED, self.clock.now(), detail="campaign cancelled")
        except StaleState:
            return 0
        return 1
