"""A campaign's ban risk before it starts: the share of identical bodies (the identical-text rule) and a
safety score from 0 to 100 with the reasons that lower it. Pure code.

The score starts at 100 and loses points for: fast or regular pacing, no pauses, no sending window, no
daily cap or warm-up; identical bodies; few opted-in contacts; a new sender; a sender that is cooling down
or was paused lately. A contact counts as opted in when its `opted_in` attribute is yes/true/1 or it has
the tag `opted-in`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from wacast.domain.contacts import Contact
from wacast.domain.governor import Cooling
from wacast.domain.pacing import PacingPolicy, PresetGaps, gap_bounds_ms

OPTED_IN_VALUES = frozenset({"yes", "true", "1", "y"})
OPTED_IN_TAG = "opted-in"
RECENT_PAUSE = timedelta(days=7)


class IdenticalBodyRule(BaseModel):
    """When identical texts to many people call for a warning (at creation) or a refusal (at start)."""

    warn_share: float = Field(default=0.5, gt=0, le=1)
    refuse_share: float = Field(default=0.9, gt=0, le=1)
    #: Smaller audiences are not judged (a text to a handful of people is no broadcast).
    min_audience: int = Field(default=20, ge=1)
    #: How many recipients' bodies are rendered to estimate the share.
    sample: int = Field(default=500, ge=10, le=5000)

    def applies(self, audience_size: int) -> bool:
        return audience_size >= self.min_audience


def identical_share(bodies: Sequence[str]) -> float:
    """The share of recipients who would get the most common text (0 for none)."""
    if not bodies:
        return 0.0
    return Counter(bodies).most_common(1)[0][1] / len(bodies)


def is_opted_in(contact: Contact) -> bool:
    value = (contact.attributes.get("opted_in") or "").strip().lower()
    return value in OPTED_IN_VALUES or OPTED_IN_TAG in contact.tags


class Finding(BaseModel):
    factor: str
    penalty: int
    message: str


class SafetyInputs(BaseModel):
    """What the score weighs; the service gathers it."""

    policy: PacingPolicy
    presets: PresetGaps = Field(default_factory=PresetGaps)
    audience_size: int
    sampled: int
    identical_share: float
    opted_in_share: float
    sender_created: datetime
    sender_cooling: Cooling | None = None
    now: datetime


class SafetyReport(BaseModel):
    score: int = Field(ge=0, le=100)
    grade: Literal["good", "fair", "risky"]
    reasons: list[Finding]
    identical_share: float
    opted_in_share: float
    sampled: int


def safety_report(x: SafetyInputs, rule: IdenticalBodyRule) -> SafetyReport:
    findings = [*_pacing(x.policy, x.presets), *_content(x, rule), *_sender(x)]
    score = max(0, 100 - sum(f.penalty for f in findings))
    grade: Literal["good", "fair", "risky"] = "good" if score >= 80 else "fair" if score >= 50 else "risky"
    return SafetyReport(
        score=score,
        grade=grade,
        reasons=sorted(findings, key=lambda f: -f.penalty),
        identical_share=round(x.identical_share, 3),
        opted_in_share=round(x.opted_in_share, 3),
        sampled=x.sampled,
    )


def _pacing(policy: PacingPolicy, presets: PresetGaps) -> list[Finding]:
    low, high = gap_bounds_ms(policy, presets)
    out: list[Finding] = []
    if low < 10_000:
        out.append(Finding(factor="pacing", penalty=25, message=f"{low / 1000:g} s between sends: safe is 30-60 s"))
    elif low < 30_000:
        out.append(Finding(factor="pacing", penalty=10, message=f"{low / 1000:g} s between sends: safe is 30-60 s"))
    if high - low < low * 0.2:
        out.append(
            Finding(factor="pacing", penalty=10, message="the gaps barely vary: a regular rhythm looks automated")
        )
    if policy.pause_every is None:
        out.append(Finding(factor="pacing", penalty=10, message="no pause every few dozen messages"))
    if policy.window is None:
        out.append(Finding(factor="pacing", penalty=5, message="no sending window: messages may go out at night"))
    if policy.daily_cap is None and policy.warmup is None:
        out.append(Finding(factor="pacing", penalty=10, message="no daily cap and no warm-up ramp"))
    return out


def _content(x: SafetyInputs, rule: IdenticalBodyRule) -> list[Finding]:
    out: list[Finding] = []
    share = x.identical_share
    if rule.applies(x.audience_size) and share > rule.warn_share:
        penalty = 40 if share > rule.refuse_share else 30
        message = f"{share:.0%} of the recipients get the same text: add {{{{variables}}}} or {{Hi|Hello}} variants"
        out.append(Finding(factor="identical_bodies", penalty=penalty, message=message))
    elif share > 0.2 and rule.applies(x.audience_size):
        out.append(
            Finding(factor="identical_bodies", penalty=10, message=f"{share:.0%} of the recipients get the same text")
        )
    if x.opted_in_share < 0.5:
        out.append(
            Finding(factor="opt_in", penalty=15, message=f"only {x.opted_in_share:.0%} of the audience opted in")
        )
    elif x.opted_in_share < 0.9:
        out.append(Finding(factor="opt_in", penalty=5, message=f"{x.opted_in_share:.0%} of the audience opted in"))
    return out


def _sender(x: SafetyInputs) -> list[Finding]:
    out: list[Finding] = []
    age = (x.now - x.sender_created).days
    if age < 7:
        out.append(Finding(factor="sender_age", penalty=15, message=f"the number was added {age} day(s) ago"))
    elif age < 30:
        out.append(Finding(factor="sender_age", penalty=5, message=f"the number was added {age} days ago"))
    cooling = x.sender_cooling
    if cooling is not None and cooling.in_force(x.now):
        out.append(Finding(factor="sender_paused", penalty=40, message=f"the sender is cooling down: {cooling.detail}"))
    elif cooling is not None and x.now - cooling.since < RECENT_PAUSE:
        message = f"the sender was paused on {cooling.since.date().isoformat()}: {cooling.detail}"
        out.append(Finding(factor="sender_paused", penalty=20, message=message))
    return out
