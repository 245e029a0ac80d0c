"""Campaigns: what to send (a template or a body), to whom (an audience), from which sender, how
fast (pacing), and where it stands (status, counters)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, Field, PrivateAttr, model_validator

from wacast.domain.messages import COUNTERS
from wacast.domain.pacing import PacerState, PacingPolicy
from wacast.domain.schedules import CampaignSchedule


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


C = CampaignStatus

#: Lifecycle: which statuses each action may start from.
STARTABLE = frozenset({C.DRAFT, C.SCHEDULED})
PAUSABLE = frozenset({C.RUNNING})
RESUMABLE = frozenset({C.PAUSED})
CANCELLABLE = frozenset({C.DRAFT, C.SCHEDULED, C.RUNNING, C.PAUSED})
#: The message body (template, body, audience, sender) may change only before anything was sent.
EDITABLE = frozenset({C.DRAFT, C.SCHEDULED})
DELETABLE = frozenset({C.DRAFT, C.SCHEDULED, C.COMPLETED, C.CANCELLED, C.FAILED})
#: A schedule may be set (or replaced) only before the campaign runs.
SCHEDULABLE = frozenset({C.DRAFT, C.SCHEDULED})
#: A schedule's firing starts a run only of a campaign that waits for it.
FIREABLE = frozenset({C.SCHEDULED})
#: A run is underway: started and not ended. Its name and pacing may still change.
UNDERWAY = frozenset({C.RUNNING, C.PAUSED})
#: The name and pacing (not what is sent, nor to whom) may change until the campaign ends.
RETUNABLE = EDITABLE | UNDERWAY
#: A run's fan-out advances (and a resumed run's parked messages are queued again) only while it runs.
DISPATCHING = frozenset({C.RUNNING})
#: A campaign fails (its sender or template was deleted) only while it may still send.
FAILABLE = frozenset({C.SCHEDULED, C.RUNNING, C.PAUSED})
#: A run completes only from running: a paused run waits to be resumed; the other statuses ended already.
COMPLETABLE = frozenset({C.RUNNING})
#: Drivers whose sends are counted per campaign (a closed set, so each is one counter column).
DRIVERS = ("neonize", "webjs", "simulated")


def is_recurring(schedule: CampaignSchedule | None) -> bool:
    """A cron schedule: every run that ends goes back to waiting for the next firing."""
    return schedule is not None and schedule.kind == "cron"


def run_is_over(status: CampaignStatus, dispatch_done: bool, unsettled: int, uncounted: int = 0) -> bool:
    """A run is over when it is running, its whole audience is dispatched, every message the dispatcher wrote
    has been counted (`uncounted`: how many of them the counters have not seen created yet; a message is
    counted from the table's stream, so its creation may be counted after another message's settle), and
    none of its messages is still waiting or being sent (`unsettled`: the campaign's `queued` counter)."""
    return status in COMPLETABLE and dispatch_done and uncounted <= 0 and unsettled == 0


def status_after_run(recurring: bool, schedule_end: datetime | None, now: datetime) -> CampaignStatus:
    """Where a run that is over leaves its campaign: a recurring campaign whose schedule has not ended
    waits for its next firing (scheduled); any other campaign is completed."""
    if recurring and (schedule_end is None or schedule_end > now):
        return C.SCHEDULED
    return C.COMPLETED


class StoredContactIds(BaseModel):
    """Where the contact ids of a campaign's audience are kept: apart from the campaign (there may be 10,000
    of them), in `chunks` items of up to `chunk_size` ids each, written under `version` (a new version for
    every change of the audience, so a reader never sees half of one and half of another)."""

    campaign_id: str
    version: str
    count: int = Field(ge=1)
    chunk_size: int = Field(ge=1)

    @property
    def chunks(self) -> int:
        return -(-self.count // self.chunk_size)


class Audience(BaseModel):
    """Who gets the campaign: explicit contacts, contacts with any of some tags, or one CSV import."""

    # (Not in the docstring: that is the API's description.) A campaign read from the store may carry its
    # contact ids by reference only (`stored`, with `contact_ids` None: `Audience.by_reference`), so reading
    # a campaign never reads 10,000 ids; `services.audience.AudienceReader` reads them, a page or all of
    # them, where they are needed.

    contact_ids: list[str] | None = Field(default=None, min_length=1, max_length=10_000)
    tags: list[str] | None = Field(default=None, min_length=1, max_length=20)
    import_batch: str | None = Field(default=None, min_length=1, max_length=128)
    #: Where these contact ids are stored (set by the store, never by a client: not part of the API).
    _stored: StoredContactIds | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [x for x in (self.contact_ids, self.tags, self.import_batch) if x is not None]
        if len(given) != 1 and not (not given and self._stored is not None):  # (by reference: none is given)
            raise ValueError("give exactly one of contact_ids, tags or import_batch")
        return self

    @classmethod
    def by_reference(cls, stored: StoredContactIds) -> Audience:
        """A contact-id audience whose ids were not read: only where they are."""
        audience = cls.model_construct(contact_ids=None, tags=None, import_batch=None)
        audience._stored = stored
        return audience

    @property
    def stored(self) -> StoredContactIds | None:
        return self._stored

    def with_contact_ids(self, contact_ids: list[str], stored: StoredContactIds | None) -> Audience:
        """This audience with its ids read (and still known to be stored at `stored`)."""
        audience = Audience(contact_ids=contact_ids)
        audience._stored = stored
        return audience

    def __eq__(self, other: object) -> bool:
        """Who is in it (where it is stored does not matter)."""
        if not isinstance(other, Audience):
            return NotImplemented
        return (self.contact_ids, self.tags, self.import_batch, self._stored if self.contact_ids is None else None) == (
            other.contact_ids,
            other.tags,
            other.import_batch,
            other._stored if other.contact_ids is None else None,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, like every pydantic model


class Counters(BaseModel):
    """Messages of the campaign by bucket. `queued` holds every message not yet settled."""

    total: int = 0
    queued: int = 0
    sent: int = 0
    delivered: int = 0
    read: int = 0
    failed: int = 0
    skipped: int = 0
    unknown: int = 0


assert set(Counters.model_fields) == {"total", *COUNTERS}


class DispatchState(BaseModel):
    """Where the dispatcher is: each job carries `seq`, and only the job with the current seq may
    advance it, so a redelivered or duplicated job never forks the fan-out."""

    seq: int = 0
    cursor: str | None = None
    audience_index: int = 0  # which tag of a multi-tag audience is being paged
    pacer: PacerState | None = None
    done: bool = False
    #: Every message of the campaign created at or before this moment is in the campaign's `dispatched`
    #: count (a committed window's messages and those it found left by an uncommitted attempt): a message
    #: a later window finds already there is counted again only if it was created after it.
    counted_through: datetime | None = None


class Campaign(BaseModel):
    id: str
    account_id: str
    name: str
    sender_id: str
    template_id: str | None = None
    body: str | None = None
    audience: Audience
    audience_size: int = 0
    pacing: PacingPolicy | None = None  # None: the sender's policy
    status: CampaignStatus = C.DRAFT
    run: int = 0
    counters: Counters = Field(default_factory=Counters)
    sent_by_driver: dict[str, int] = Field(default_factory=dict)
    fallback_used: int = 0
    #: Messages of the campaign their recipient answered (each counted once, at its first reply).
    replied: int = 0
    dispatch: DispatchState = Field(default_factory=DispatchState)
    schedule: CampaignSchedule | None = None
    last_fire: str | None = None  # the scheduled time of the last firing that started a run
    failure_reason: str | None = None
    #: Why a paused campaign is paused, and by whom ("user", or "governor": its sender is cooling down and
    #: it resumes by itself when the cooling ends).
    pause_reason: str | None = None
    paused_by: str | None = None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None


class CampaignDraft(BaseModel):
    """What a user gives to create (or, whole, to update) a campaign."""

    name: str = Field(min_length=1, max_length=200)
    sender_id: str | None = Field(default=None, max_length=64, description="default: the account's default sender")
    template_id: str | None = Field(default=None, max_length=64)
    body: str | None = Field(default=None, min_length=1, max_length=4096)
    audience: Audience
    pacing: PacingPolicy | None = None

    @model_validator(mode="after")
    def _template_or_body(self) -> Self:
        if (self.template_id is None) == (self.body is None):
            raise ValueError("give exactly one of template_id or body")
        return self
