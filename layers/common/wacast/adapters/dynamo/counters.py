"""Counter moves from the table's stream, exactly once: pk COUNTED#{first record of the batch}, sk LEDGER
holds the last sequence number of that batch already applied (TTL: a day after the stream forgets it).

The moves and the ledger entry are one transaction. A campaign's moves require its item to exist (a
deleted campaign's moves are dropped, never a stub item made); the account's direct counters item is
made by its first move.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from wacast.adapters.dynamo.campaigns import COUNTER_ATTRIBUTES, CampaignCountersModel, campaign_key
from wacast.adapters.dynamo.messages import MessageModel, direct_counters_key
from wacast.adapters.dynamo.table import TableModel, reason_codes, unavailable_on_failure
from wacast.domain.counters import CounterKey
from wacast.domain.errors import StaleState, Unavailable

LEDGER_TTL_SECONDS = 2 * 24 * 3600  # a stream keeps records 24 h: a retry never comes later than that
CONFLICT_RETRIES = 5


class LedgerModel(TableModel):
    through = UnicodeAttribute()  # a stream sequence number: digits, longer than a DynamoDB number holds


def ledger_key(batch_id: str) -> tuple[str, str]:
    return f"COUNTED#{batch_id}", "LEDGER"


class DynamoCounterLedger:
    """Applies counter moves with the ledger entry of their stream batch, in one transaction."""

    @unavailable_on_failure("read the counters ledger")
    def applied_through(self, batch_id: str) -> int:
        try:
            return int(LedgerModel.get(*ledger_key(batch_id), consistent_read=True).through)
        except LedgerModel.DoesNotExist:
            return 0

    def apply(self, batch_id: str, expected: int, through: int, moves: Mapping[CounterKey, Mapping[str, int]]) -> None:
        targets = dict(moves)
        for attempt in range(CONFLICT_RETRIES):
            keys = list(targets)
            try:
                self._write(batch_id, expected, through, keys, targets)
                return
            except TransactWriteError as exc:
                codes = reason_codes(exc)
                if codes and codes[0] == "ConditionalCheckFailed":
                    raise StaleState("another attempt applied this stream batch", details={"batch": batch_id}) from exc
                missing = [k for k, code in zip(keys, codes[1:], strict=False) if code == "ConditionalCheckFailed"]
                if missing:  # campaigns deleted meanwhile: their moves go nowhere
                    targets = {k: v for k, v in targets.items() if k not in missing}
                    continue
                if "TransactionConflict" in codes and attempt + 1 < CONFLICT_RETRIES:
                    time.sleep(0.05 * (attempt + 1))
                    continue
                raise Unavailable("could not move the counters") from exc
        raise Unavailable("could not move the counters: kept conflicting")

    @staticmethod
    def _write(
        batch_id: str,
        expected: int,
        through: int,
        keys: list[CounterKey],
        moves: Mapping[CounterKey, Mapping[str, int]],
    ) -> None:
        ledger = LedgerModel(*ledger_key(batch_id))
        condition = LedgerModel.pk.does_not_exist() if expected == 0 else LedgerModel.through == str(expected)
        with TransactWrite(connection=MessageModel._get_connection().connection) as tx:
            tx.update(
                ledger,
                actions=[
                    LedgerModel.through.set(str(through)),
                    LedgerModel.expires_at.set(int(time.time()) + LEDGER_TTL_SECONDS),
                ],
                condition=condition,
            )
            for key in keys:
                actions: list[Action] = [COUNTER_ATTRIBUTES[name].add(amount) for name, amount in moves[key].items()]
                if key.campaign_id is None:
                    tx.update(CampaignCountersModel(*direct_counters_key(key.account_id)), actions=actions)
                else:
                    item = CampaignCountersModel(*campaign_key(key.account_id, key.campaign_id))
                    tx.update(item, actions=actions, condition=CampaignCountersModel.pk.exists())
