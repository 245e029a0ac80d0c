"""The counters function: applies a batch of message creations and status changes from the table's stream
to the counters, exactly once, then completes the campaigns whose runs are over (their last message
settled, and every message their dispatcher wrote counted: wacast/domain/counters.py).

Exactly once: a retried batch starts with the same stream record, so the ledger entry of that first
record says up to which sequence number the batch was applied; a retry applies only what comes after
it (a retry may carry more records than the first attempt), and the counter moves and the ledger entry
are written in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from wacast.domain.counters import StatusChange, aggregate
from wacast.observability import logger
from wacast.ports import CampaignStates, Clock, CounterLedger

#: A transaction holds 100 items: the ledger entry and at most this many counter items.
TARGETS_PER_WRITE = 99


class CountersService:
    def __init__(self, ledger: CounterLedger, campaigns: CampaignStates, clock: Clock) -> None:
        self.ledger = ledger
        self.campaigns = campaigns
        self.clock = clock

    def apply(self, batch_id: str, changes: Sequence[StatusChange]) -> int:
        """Apply the changes of one stream batch (identified by its first record) not applied yet.
        Returns how many changes were applied now."""
        done = self.ledger.applied_through(batch_id)
        fresh = sorted((c for c in changes if c.sequence > done), key=lambda c: c.sequence)
        applied = 0
        while fresh:
            chunk = _chunk(fresh)
            through = chunk[-1].sequence
            self.ledger.apply(batch_id, done, through, aggregate(chunk))  # raises StaleState when raced
            done, applied, fresh = through, applied + len(chunk), fresh[len(chunk) :]
        for key in {c.key for c in changes if c.key.campaign_id is not None}:
            assert key.campaign_id is not None
            self.campaigns.complete_if_done(key.account_id, key.campaign_id, self.clock.now())
        if applied:
            logger.info("counters moved", batch=batch_id, changes=applied)
        return applied


def _chunk(changes: list[StatusChange]) -> list[StatusChange]:
    """The longest prefix of `changes` whose counter keys fit one transaction."""
    keys: set[object] = set()
    for i, change in enumerate(changes):
        keys.add(change.key)
        if len(keys) > TARGETS_PER_WRITE:
            return changes[:i]
    return changes
