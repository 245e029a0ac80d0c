"""What DynamoDB bills for a call, computed from the items (local/meter.py uses it for `make bench`).

moto reports ConsumedCapacity only when a request asks for it (wacast's never do), and then as constants
whatever the item size (GetItem 0.5, UpdateItem 0.5, PutItem and Query 1.0, BatchWriteItem 1.0 per
table, TransactWriteItems nothing), so the units are computed here, with DynamoDB's rules:
- item size (CapacityUnitCalculations.html): attribute names + values; strings in UTF-8, numbers 1 byte
  per 2 significant digits + 1, binary its raw bytes, null and booleans 1, lists and maps 3 bytes + 1
  per element, sets the sum of their elements;
- writes (read-write-operations.html): 1 unit per started KB of the larger of the item before and after
  (a delete: the item before); a write whose condition fails costs as much (at least 1) and changes no
  index; inside TransactWriteItems every item, ConditionCheck included, costs twice;
- GSIs (GSI.html#GSI.Writes): an entry that appears costs its size (projection ALL: the whole item), one
  that goes away its old size, a changed index key a delete and a put, a changed entry the larger of its
  sizes, an unchanged one nothing; index upkeep is not doubled by a transaction (it is not transactional);
- reads: 1 unit per started 4 KB of the whole item (asking for fewer attributes does not make it
  cheaper), half when eventually consistent (always on a GSI), twice in TransactGetItems, and at least
  one even when the item does not exist; BatchGetItem rounds each item; Query and Scan add the sizes of
  every item they evaluated (before any filter) and round once per page.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

KB = 1024


def _number_size(text: str) -> int:
    digits = re.sub(r"[^0-9]", "", re.split("[eE]", text)[0]).strip("0")
    return max(1, math.ceil(len(digits) / 2)) + 1


def value_size(value: Mapping[str, Any]) -> int:
    ((kind, v),) = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        return _number_size(v)
    if kind == "B":
        return len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in v)
    if kind == "NS":
        return sum(_number_size(n) for n in v)
    if kind == "BS":
        return sum(len(b) for b in v)
    if kind == "L":
        return 3 + sum(value_size(e) + 1 for e in v)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(e) + 1 for k, e in v.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: Mapping[str, Any] | None) -> int:
    return sum(len(k.encode()) + value_size(v) for k, v in (item or {}).items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / KB))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / (4 * KB)))
    return float(units) if consistent else units / 2


def _entry(item: Mapping[str, Any] | None, table: Mapping[str, Any], index: Mapping[str, Any]) -> Any:
    """The item's entry in a GSI (None when a key attribute is missing: the item is not in the index)."""
    if item is None or any(k not in item for k in index["keys"]):
        return None
    if index["projection"] == "ALL":
        return item
    names = {*table["keys"], *index["keys"], *index["include"]}
    return {k: v for k, v in item.items() if k in names}


def gsi_units(before: Any, after: Any, table: Mapping[str, Any]) -> int:
    units = 0
    for index in table["indexes"].values():
        old, new = _entry(before, table, index), _entry(after, table, index)
        if old is None and new is None or old == new:
            continue
        if old is None or new is None:
            units += write_units(item_size(old if new is None else new))
        elif any(old[k] != new[k] for k in index["keys"]):
            units += write_units(item_size(old)) + write_units(item_size(new))
        else:
            units += write_units(max(item_size(old), item_size(new)))
    return units


def kind_of(item: Mapping[str, Any] | None, key: Mapping[str, Any] | None = None) -> str:
    """The entity an item is (CAMPAIGN, MSG, CONTACT...): its sort key's prefix."""
    source = item or key or {}
    sk = next((v.get("S", "") for k, v in source.items() if k == "sk"), "")
    pk = next((v.get("S", "") for k, v in source.items() if k == "pk"), "")
    value = sk or pk
    return value.split("#", 1)[0] if value else "?"


class Write:
    __slots__ = ("action", "table", "key", "item")

    def __init__(self, action: str, table: str, key: dict[str, Any], item: dict[str, Any] | None = None) -> None:
        self.action, self.table, self.key, self.item = action, table, key, item


KeysOf = Callable[[str], list[str]]


def _put(table: str, item: dict[str, Any], keys: KeysOf) -> Write:
    return Write("Put", table, {k: item[k] for k in keys(table) if k in item}, item)


def _batch_writes(params: dict[str, Any], keys: KeysOf) -> list[Write]:
    out = []
    for table, requests in params["RequestItems"].items():
        for r in requests:
            if "PutRequest" in r:
                out.append(_put(table, r["PutRequest"]["Item"], keys))
            else:
                out.append(Write("Delete", table, r["DeleteRequest"]["Key"]))
    return out


def _transact_writes(params: dict[str, Any], keys: KeysOf) -> list[Write]:
    out = []
    for entry in params["TransactItems"]:
        ((action, body),) = entry.items()
        if action == "Put":
            out.append(_put(body["TableName"], body["Item"], keys))
        else:
            out.append(Write(action, body["TableName"], body["Key"]))
    return out


WRITES: dict[str, Callable[[dict[str, Any], KeysOf], list[Write]]] = {
    "PutItem": lambda p, keys: [_put(p["TableName"], p["Item"], keys)],
    "UpdateItem": lambda p, keys: [Write("Update", p["TableName"], p["Key"])],
    "DeleteItem": lambda p, keys: [Write("Delete", p["TableName"], p["Key"])],
    "BatchWriteItem": _batch_writes,
    "TransactWriteItems": _transact_writes,
}
READS = ("GetItem", "BatchGetItem", "TransactGetItems", "Query", "Scan")
UNFILTERED_DROP = ("FilterExpression", "ProjectionExpression", "AttributesToGet", "Select", "QueryFilter", "ScanFilter")


def projected(params: Mapping[str, Any]) -> bool:
    return bool(params.get("ProjectionExpression") or params.get("AttributesToGet"))


def write_cost(
    operation: str, writes: list[Write], before: list[Any], after: list[Any], failed: bool, tables: Mapping[str, Any]
) -> tuple[int, int]:
    """(table units, GSI units) of a write call, from its items before and after."""
    factor = 2 if operation == "TransactWriteItems" else 1
    table_units = index_units = 0
    for w, old, new in zip(writes, before, after, strict=True):
        if failed or w.action == "ConditionCheck":
            table_units += factor * write_units(max(item_size(old), item_size(w.item)))
            continue
        table_units += factor * write_units(max(item_size(old), item_size(new)))
        index_units += gsi_units(old, new, tables.get(w.table, {"indexes": {}}))
    return table_units, index_units
