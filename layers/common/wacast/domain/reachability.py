"""Is a phone on WhatsApp? The answers of the drivers' lookups, cached per phone with an expiry, and how often
a sender may ask (a stream of lookups is itself a signal WhatsApp watches). Pure code: `now` is passed in.

A recipient who is not on WhatsApp is SKIPPED before any send ("not on WhatsApp"): it is no attempt, and no
message goes to a number that cannot get it (many sends to numbers that do not have you, whatsmeow's
ban code 101).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

from pydantic import BaseModel, Field


class LookupPolicy(BaseModel):
    found_ttl_seconds: float = Field(default=7 * 86400.0, gt=0)
    missing_ttl_seconds: float = Field(default=86400.0, gt=0)
    #: A sender asks at most once per this many seconds (beyond it, the send path's own check applies).
    min_interval_seconds: float = Field(default=2.0, ge=0)
    max_entries: int = Field(default=200_000, ge=1)


class ReachabilityCache:
    """Lookup answers per phone, and the last lookup per sender."""

    def __init__(self, policy: LookupPolicy) -> None:
        self.policy = policy
        self._answers: OrderedDict[str, tuple[bool, datetime]] = OrderedDict()  # phone -> (found, expires)
        self._asked: dict[str, datetime] = {}  # sender id -> last lookup

    def known(self, phone: str, now: datetime) -> bool | None:
        """The cached answer for `phone` (None: unknown or expired)."""
        answer = self._answers.get(phone)
        if answer is None or answer[1] <= now:
            return None
        return answer[0]

    def remember(self, phone: str, found: bool, now: datetime) -> None:
        ttl = self.policy.found_ttl_seconds if found else self.policy.missing_ttl_seconds
        self._answers[phone] = (found, now + timedelta(seconds=ttl))
        self._answers.move_to_end(phone)
        while len(self._answers) > self.policy.max_entries:
            self._answers.popitem(last=False)

    def may_ask(self, sender_id: str, now: datetime) -> bool:
        """True (and the lookup counted) when the sender may look a number up now."""
        last = self._asked.get(sender_id)
        if last is not None and (now - last).total_seconds() < self.policy.min_interval_seconds:
            return False
        self._asked[sender_id] = now
        return True
