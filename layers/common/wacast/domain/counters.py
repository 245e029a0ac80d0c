"""How a message's status changes move its campaign's counters (or its account's direct counters).

A message is counted once when it is created (in the creating write's own transaction: total and its
first bucket); every later status change moves the counters by `moves_of` one bucket to another, and a
send counts its driver. Those later moves are applied from the table's stream, a batch at a time, by
the counters function (services/counters.py), never inside the message's own write.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from wacast.domain.campaigns import DRIVERS
from wacast.domain.messages import MessageStatus, counter_delta


@dataclass(frozen=True)
class CounterKey:
    """Whose counters: a campaign's, or (campaign None) the account's direct messages'."""

    account_id: str
    campaign_id: str | None


@dataclass(frozen=True)
class StatusChange:
    """One status change of one message, as the table's stream reports it."""

    sequence: int
    key: CounterKey
    old: MessageStatus
    new: MessageStatus
    driver: str | None = None
    fallback_used: bool = False
    #: The message got its first reply in this change (its `replied_at` was set): counted in `replied`.
    first_reply: bool = False


def moves_of(change: StatusChange) -> dict[str, int]:
    """Counter moves of one status change, plus the per-driver and fallback counts of a send."""
    delta = counter_delta(change.old, change.new)
    if change.first_reply:
        delta["replied"] = 1
    if change.new is MessageStatus.SENT and change.old is not MessageStatus.SENT and change.driver in DRIVERS:
        delta[f"via_{change.driver}"] = 1
        if change.fallback_used:
            delta["fallback"] = 1
    return delta


def aggregate(changes: Iterable[StatusChange]) -> dict[CounterKey, dict[str, int]]:
    """The net moves per counter key (zero moves dropped): one counter write per key for a whole batch."""
    totals: dict[CounterKey, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for change in changes:
        for name, amount in moves_of(change).items():
            totals[change.key][name] += amount
    return {key: {n: a for n, a in moves.items() if a} for key, moves in totals.items() if any(moves.values())}
