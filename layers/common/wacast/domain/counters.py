"""How a message's creation and status changes move its campaign's counters (or its account's direct counters).

A message is counted once when it is created (total and its first bucket), and every later status change
moves the counters by `moves_of` one bucket to another (a send counts its driver). All of it comes from
the table's stream, a batch at a time, applied by the counters function (services/counters.py): the
creation from the item's INSERT record (the stream has one only for a real creation, so a re-dispatched
message that was already there is never counted twice), the changes from its MODIFY records. A message's
own write never touches a counter item.

The stream orders the records of one item, not of two: another message's settle may be counted before
this one's creation. So the creation of a message the dispatcher wrote (run > 0) also counts in
`inserted`, which a run's completion compares with the number the dispatcher recorded (`dispatched`,
adapters/dynamo/campaigns.py): a run is not over while a message of it may still be uncounted.
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
    """One status change of one message (or its creation: `old` None), as the table's stream reports it."""

    sequence: int
    key: CounterKey
    old: MessageStatus | None  # None: the message was created
    new: MessageStatus
    driver: str | None = None
    fallback_used: bool = False
    #: The message got its first reply in this change (its `replied_at` was set): counted in `replied`.
    first_reply: bool = False
    #: A creation (`old` None) of a message the dispatcher wrote for a campaign run: counted in `inserted`.
    dispatched: bool = False


def moves_of(change: StatusChange) -> dict[str, int]:
    """Counter moves of one status change, plus the per-driver and fallback counts of a send."""
    delta = counter_delta(change.old, change.new)
    if change.old is None and change.dispatched:
        delta["inserted"] = 1
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
