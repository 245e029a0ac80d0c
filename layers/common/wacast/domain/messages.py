"""The delivery state machine: message statuses and the transitions allowed between them (what a
driver reports about a send is in wacast.domain.outcomes).

QUEUED -> SENDING -> SENT -> DELIVERED -> READ, plus RETRYING, FAILED, SKIPPED and UNKNOWN.
Every transition is applied by a conditional write on the status it starts from, so two workers
can never both own a message. This module decides what is allowed; adapters enforce it.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class MessageStatus(StrEnum):
    QUEUED = "QUEUED"
    SENDING = "SENDING"
    RETRYING = "RETRYING"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    READ = "READ"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"
    UNKNOWN = "UNKNOWN"


S = MessageStatus

#: A worker may claim a message only from these statuses.
CLAIMABLE = frozenset({S.QUEUED, S.RETRYING})
#: Not yet settled: the message still waits for (another) send attempt or is being sent.
PENDING = frozenset({S.QUEUED, S.SENDING, S.RETRYING})
#: Settled: nothing will try to send it again.
SETTLED = frozenset(MessageStatus) - PENDING
#: A driver may have reached WhatsApp in these statuses (once it was called) and no outcome is recorded.
MAYBE_SENT = frozenset({S.SENDING, S.UNKNOWN})

TRANSITIONS: dict[MessageStatus, frozenset[MessageStatus]] = {
    S.QUEUED: frozenset({S.SENDING, S.SKIPPED, S.FAILED}),
    S.RETRYING: frozenset({S.SENDING, S.SKIPPED, S.FAILED}),
    # SENDING -> SENDING (re-claim) and SENDING -> SKIPPED only when the dead worker never called the driver.
    S.SENDING: frozenset({S.SENDING, S.SENT, S.RETRYING, S.FAILED, S.SKIPPED, S.UNKNOWN}),
    S.SENT: frozenset({S.DELIVERED, S.READ}),
    S.DELIVERED: frozenset({S.READ}),
    # A receipt from the recipient proves an UNKNOWN send happened.
    S.UNKNOWN: frozenset({S.SENT, S.DELIVERED, S.READ}),
    S.READ: frozenset(),
    S.FAILED: frozenset(),
    S.SKIPPED: frozenset(),
}

#: Receipts only ever move a message forward along this ladder.
RECEIPT_RANK: dict[MessageStatus, int] = {S.UNKNOWN: 0, S.SENT: 1, S.DELIVERED: 2, S.READ: 3}

#: Campaign counters: each status is counted in exactly one bucket.
COUNTER_OF: dict[MessageStatus, str] = {
    S.QUEUED: "queued",
    S.SENDING: "queued",
    S.RETRYING: "queued",
    S.SENT: "sent",
    S.DELIVERED: "delivered",
    S.READ: "read",
    S.FAILED: "failed",
    S.SKIPPED: "skipped",
    S.UNKNOWN: "unknown",
}
COUNTERS = ("queued", "sent", "delivered", "read", "failed", "skipped", "unknown")


def can_transition(old: MessageStatus, new: MessageStatus) -> bool:
    return new in TRANSITIONS[old]


def counter_delta(old: MessageStatus | None, new: MessageStatus) -> dict[str, int]:
    """How campaign counters move when a message goes from `old` (None: newly created) to `new`."""
    if old is not None and COUNTER_OF[old] == COUNTER_OF[new]:
        return {}
    delta = {COUNTER_OF[new]: 1}
    if old is None:
        delta["total"] = 1
    else:
        delta[COUNTER_OF[old]] = -1
    return delta


def receipt_target(current: MessageStatus, receipt: MessageStatus) -> MessageStatus | None:
    """The status a receipt moves a message to, or None when it would not move it forward."""
    if current not in RECEIPT_RANK or receipt not in RECEIPT_RANK:
        return None
    return receipt if RECEIPT_RANK[receipt] > RECEIPT_RANK[current] else None


def dispatched_listing(run: int, seq: int, page: int) -> str:
    """Where a page of a dispatch window is listed among its campaign's messages: by run, window and page
    (a window done again after a crash has the same seq and reads the same pages, so lists the same ids
    in the same place)."""
    return f"{run:04d}#{seq:08d}#{page:03d}"


def message_id_for(campaign_id: str, contact_id: str, run: int = 0) -> str:
    """Deterministic id: dispatching the same (campaign, run, contact) twice yields the same message."""
    digest = hashlib.sha256(f"{campaign_id}:{run}:{contact_id}".encode()).hexdigest()
    return f"m_{digest[:24]}"


def retry_delay_seconds(attempts: int, rng: random.Random, base: float = 2.0, cap: float = 900.0) -> int:
    """Exponential backoff with jitter: 2 s, 4 s, 8 s ... (attempts counts failures so far, from 1)."""
    raw = base ** max(1, attempts)
    return max(1, min(int(cap), round(raw * rng.uniform(0.8, 1.25))))


class StatusChange(BaseModel):
    status: MessageStatus
    at: datetime
    detail: str | None = None


class Message(BaseModel):
    """One WhatsApp message to one recipient, from one sender."""

    id: str
    account_id: str
    sender_id: str
    phone: str
    body: str
    media_url: str | None = None  # an image/document/video sent with the body as its caption
    status: MessageStatus = S.QUEUED
    version: int = 0
    campaign_id: str | None = None
    contact_id: str | None = None
    run: int = 0
    attempts: int = 0
    driver: str | None = None
    fallback_used: bool = False
    provider_message_id: str | None = None
    last_error: str | None = None
    history: list[StatusChange] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    send_at: datetime | None = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    #: Set just before the driver is called. A dead worker's claim without it never reached WhatsApp.
    driver_called_at: datetime | None = None
    #: When its recipient first answered it (a reply linked to it: services/replies.py).
    replied_at: datetime | None = None
    #: Its creation is counted from the table's stream (every message written since that began; one written
    #: before was counted by its own transaction). Stored, never shown.
    counted_on_insert: bool = Field(default=False, exclude=True)


def is_unproven(message: Message) -> bool:
    """The driver may have reached WhatsApp and no outcome says whether it did: a receipt from its
    recipient proves the send."""
    return message.status in MAYBE_SENT and message.driver_called_at is not None
