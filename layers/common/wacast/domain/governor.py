"""The account-safety governor: the signs that WhatsApp is about to ban a sender, and the cool-down that
follows them. Pure code: every decision takes `now`.

A sender cools down (`Cooling`) when
- a driver reports a temporary ban (whatsmeow's codes 101-106, with an expiry) or a logout WhatsApp forced;
- its failures rise: over the last `failure_window_seconds`, at least `failure_min_sends` driver calls
  and a share of `failure_share` or more of them failed;
- its sent messages get no delivery receipt (a sign of being silently blocked): of the last
  `receipt_sample` sends whose receipt window (`receipt_timeout_seconds`) has passed, at least
  `receipt_min_sends` were judged and a share of `missing_receipt_share` or more got none.
While a cooling is in force nothing is sent from the sender (its sends are deferred, its campaigns pause);
it ends at `until` (None: when a user resumes the sender).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

#: whatsmeow's temporary-ban codes, as a person should read them.
BAN_CODES: dict[int, str] = {
    101: "too many messages to people who do not have this number in their contacts",
    102: "blocked by too many users",
    103: "too many groups created",
    104: "the same message sent to too many people",
    106: "too many messages to a broadcast list",
}
#: neonize's TemporaryBan.Code enum (1..5) -> whatsmeow's codes.
NEONIZE_BAN_CODES: dict[int, int] = {1: 101, 2: 102, 3: 103, 4: 104, 5: 106}
#: A deferral waits at most this long (the SQS DelaySeconds maximum); a longer cooling defers again.
MAX_DEFER_SECONDS = 900


class CoolingReason(StrEnum):
    TEMPORARY_BAN = "temporary_ban"
    LOGGED_OUT = "logged_out"
    FAILURES = "failures"
    MISSING_RECEIPTS = "missing_receipts"


class Cooling(BaseModel):
    """Why a sender stopped sending, since when and until when (None: until a user resumes it)."""

    reason: CoolingReason
    detail: str
    code: int | None = None
    since: datetime
    until: datetime | None = None
    #: Set when it ended ("expiry" or "user"); an ended cooling stays on the sender as its last pause.
    ended_by: str | None = None

    def in_force(self, now: datetime) -> bool:
        return self.ended_by is None and (self.until is None or now < self.until)

    def ended(self, by: str, now: datetime) -> Cooling:
        """This cooling, over at `now` (or at its expiry, if that came first)."""
        until = now if self.until is None else min(self.until, now)
        return self.model_copy(update={"ended_by": by, "until": until})

    def defer_seconds(self, now: datetime) -> int:
        """How long a send that meets this cooling waits before it is looked at again."""
        if self.until is None:
            return MAX_DEFER_SECONDS
        return max(1, min(MAX_DEFER_SECONDS, int((self.until - now).total_seconds()) + 1))

    @property
    def summary(self) -> str:
        """What a user reads on a paused campaign."""
        until = f" until {self.until.isoformat()}" if self.until else " until the sender is resumed"
        return f"sender cooling down ({self.reason.value}: {self.detail}){until}"


class AccountSignal(BaseModel):
    """What a driver reports about the WhatsApp account itself (not about one message)."""

    kind: Literal["temporary_ban", "logged_out"]
    driver: str
    code: int | None = None
    expires_in_seconds: float | None = Field(default=None, ge=0)
    detail: str = ""


class GovernorThresholds(BaseModel):
    """The governor's thresholds (the session host's settings, WACAST_GOVERNOR_*)."""

    failure_window_seconds: float = Field(default=600.0, gt=0)
    failure_min_sends: int = Field(default=10, ge=1)
    failure_share: float = Field(default=0.5, gt=0, le=1)
    failure_cooldown_seconds: float = Field(default=3600.0, gt=0)
    receipt_timeout_seconds: float = Field(default=900.0, gt=0)
    receipt_sample: int = Field(default=50, ge=1)
    receipt_min_sends: int = Field(default=20, ge=1)
    missing_receipt_share: float = Field(default=0.8, gt=0, le=1)
    receipt_cooldown_seconds: float = Field(default=21600.0, gt=0)
    #: A ban whose expiry is unknown (or zero) cools the sender at least this long.
    ban_min_cooldown_seconds: float = Field(default=3600.0, gt=0)


def cooling_for(signal: AccountSignal, now: datetime, thresholds: GovernorThresholds) -> Cooling:
    """The cooling an account signal calls for: a ban until its expiry (at least the minimum), a forced
    logout until a user resumes the sender (it must be linked again anyway)."""
    if signal.kind == "logged_out":
        detail = signal.detail or "WhatsApp logged the session out"
        return Cooling(reason=CoolingReason.LOGGED_OUT, detail=f"{signal.driver}: {detail}", since=now)
    seconds = max(signal.expires_in_seconds or 0.0, thresholds.ban_min_cooldown_seconds)
    meaning = BAN_CODES.get(signal.code or 0, signal.detail or "reason not given")
    return Cooling(
        reason=CoolingReason.TEMPORARY_BAN,
        detail=f"{signal.driver}: code {signal.code}: {meaning}" if signal.code else f"{signal.driver}: {meaning}",
        code=signal.code,
        since=now,
        until=now + timedelta(seconds=seconds),
    )


class SenderWatch:
    """The recent signals of one sender: driver outcomes, and the sends still waiting for a receipt."""

    MAX_AWAITING = 10_000  # bounds memory: older sends are judged at once

    def __init__(self, thresholds: GovernorThresholds) -> None:
        self.t = thresholds
        self._calls: deque[tuple[datetime, bool]] = deque()  # (when, failed)
        self._awaiting: OrderedDict[str, datetime] = OrderedDict()  # provider id -> sent at, oldest first
        self._judged: deque[bool] = deque(maxlen=thresholds.receipt_sample)  # True: no receipt came

    def record_call(self, now: datetime, *, failed: bool, provider_id: str | None = None) -> Cooling | None:
        """One driver call's outcome (a deferral is not a call). Returns a cooling when failures rose."""
        self._calls.append((now, failed))
        if provider_id is not None:
            self._awaiting[provider_id] = now
            while len(self._awaiting) > self.MAX_AWAITING:
                self._awaiting.popitem(last=False)
                self._judged.append(True)
        return self._failures(now)

    def record_receipt(self, provider_id: str) -> None:
        """A delivery (or read) receipt arrived for a send: it is no longer missing."""
        if self._awaiting.pop(provider_id, None) is not None:
            self._judged.append(False)

    def check(self, now: datetime) -> Cooling | None:
        """Judge the sends whose receipt window passed; a cooling when too many got no receipt."""
        limit = now - timedelta(seconds=self.t.receipt_timeout_seconds)
        while self._awaiting:
            provider_id, sent_at = next(iter(self._awaiting.items()))
            if sent_at > limit:
                break
            del self._awaiting[provider_id]
            self._judged.append(True)
        judged = len(self._judged)
        missing = sum(self._judged)
        if judged < self.t.receipt_min_sends or missing < judged * self.t.missing_receipt_share:
            return None
        return Cooling(
            reason=CoolingReason.MISSING_RECEIPTS,
            detail=f"{missing} of the last {judged} sent messages got no delivery receipt within "
            f"{int(self.t.receipt_timeout_seconds)} s",
            since=now,
            until=now + timedelta(seconds=self.t.receipt_cooldown_seconds),
        )

    def reset(self) -> None:
        """Forget everything (a cooling started: the sender starts afresh after it)."""
        self._calls.clear()
        self._awaiting.clear()
        self._judged.clear()

    def _failures(self, now: datetime) -> Cooling | None:
        start = now - timedelta(seconds=self.t.failure_window_seconds)
        while self._calls and self._calls[0][0] < start:
            self._calls.popleft()
        calls = len(self._calls)
        failed = sum(1 for _, f in self._calls if f)
        if calls < self.t.failure_min_sends or failed < calls * self.t.failure_share:
            return None
        return Cooling(
            reason=CoolingReason.FAILURES,
            detail=f"{failed} of the last {calls} sends failed within {int(self.t.failure_window_seconds)} s",
            since=now,
            until=now + timedelta(seconds=self.t.failure_cooldown_seconds),
        )
