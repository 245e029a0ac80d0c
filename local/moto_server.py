"""`python -m local.moto_server`: moto's server, with one performance fix for a long local run and
the SQS message move tasks (DLQ redrive) moto lacks (see `local.moto_sqs_move`).

moto's TransactWriteItems deep-copies every table it touches before each transaction (to roll back
on failure), so a transaction costs time proportional to the table's size: a 1,000-message campaign
slows to a crawl. This entrypoint keeps moto's own transaction code and semantics, but takes the
rollback snapshot of the touched *items* instead of whole tables.
"""

from __future__ import annotations

import copy
import sys
from typing import Any

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.server import main as moto_main

from local import moto_sqs_move


class _CopyButNotTables:
    """Stands in for the `copy` module inside moto.dynamodb.models: tables are not copied."""

    @staticmethod
    def deepcopy(obj: Any, memo: dict[int, Any] | None = None) -> Any:
        return obj if isinstance(obj, Table) else copy.deepcopy(obj, memo)


_original_transact = DynamoDBBackend.transact_write_items


def _key_of(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def _transact_with_item_snapshots(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    snapshots = []
    for item in transact_items:
        op_type, op = next(iter(item.items()))
        if op.get("TableName") not in self.tables or op_type not in ("Put", "Update", "Delete", "ConditionCheck"):
            continue
        key = _key_of(self, op_type, op)
        current = self.get_item(op["TableName"], key)
        snapshots.append((op["TableName"], key, current.to_json()["Attributes"] if current else None))
    try:
        _original_transact(self, transact_items)
    except Exception:
        for table_name, key, before in reversed(snapshots):  # roll back, item by item
            if before is None:
                if self.get_item(table_name, key) is not None:
                    self.delete_item(table_name, key)
            else:
                self.put_item(table_name, before)
        raise


def patch() -> None:
    dynamodb_models.copy = _CopyButNotTables  # type: ignore[assignment]
    DynamoDBBackend.transact_write_items = _transact_with_item_snapshots  # type: ignore[method-assign]
    moto_sqs_move.patch()


if __name__ == "__main__":
    patch()
    sys.exit(moto_main(sys.argv[1:]))
