"""`python -m bench.moto_server`: the local stack's moto server (local/moto_server.py and its patches), plus
two patches for the bench only, so that the bench measures the product and not the emulator. Neither
changes what moto answers; both change how long it takes.

- SQS: moto's SendMessage reads `queue.attributes` (for ContentBasedDeduplication) once or twice per
  message, and that property recounts the whole queue three times (ApproximateNumberOfMessages,
  ...Delayed, ...NotVisible are list comprehensions over every message). A large unconsumed outbox (a
  dispatcher fan-out) makes every send O(queue) and the fan-out quadratic: 10,000 contacts took 796 s.
  Here the three counts are 0 while moto sends a message; GetQueueAttributes still counts them.
- DynamoDB: moto's Query lists and sorts every item of the table (`all_items()`), then filters the key
  condition, on every page: a page of a 100,000-contact tag costs O(table log table). Here a Query of
  the table (not of an index) in key order hands moto's own query code only the partition's items from
  the first key the condition and the ExclusiveStartKey allow, one more than the Limit (so moto still
  decides the page and its LastEvaluatedKey), found by bisection in a sorted key list kept per partition.
- DynamoDB: moto 5.2 writes every response through its generic shape serializer, about 0.8 ms per item
  returned (a BatchGetItem of 100 contacts: 65 ms). Responses of the reads that return items are written
  with json.dumps instead: the same JSON, since moto's result already is DynamoDB's wire format.
- DynamoDB: moto parses a condition expression two or three times per item written (a third of a
  transaction's time). Parsed expressions are kept (by expression, names and values) and reused.
"""

from __future__ import annotations

import bisect
import functools
import json
import sys
import threading
from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.dynamodb import comparisons
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import table as table_module
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.server import main as moto_main
from moto.sqs.models import Queue, SQSBackend

from local import moto_server

COUNTS = (
    "approximate_number_of_messages",
    "approximate_number_of_messages_delayed",
    "approximate_number_of_messages_not_visible",
)
_sending = threading.local()


def _skipped_while_sending(count: property) -> property:
    def get(queue: Queue) -> int:
        return 0 if getattr(_sending, "depth", 0) else int(count.fget(queue))  # type: ignore[misc]

    return property(get)


def _sending_call(method: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        _sending.depth = getattr(_sending, "depth", 0) + 1
        try:
            return method(*args, **kwargs)
        finally:
            _sending.depth -= 1

    return call


def patch_sqs_send() -> None:
    for name in COUNTS:
        setattr(Queue, name, _skipped_while_sending(getattr(Queue, name)))
    SQSBackend.send_message = _sending_call(SQSBackend.send_message)  # type: ignore[method-assign]
    SQSBackend.send_message_batch = _sending_call(SQSBackend.send_message_batch)  # type: ignore[method-assign]


# -- DynamoDB Query on a partition ----------------------------------------------------------------------

_narrowed = threading.local()  # the items moto's query code sees, per table, while a patched query runs
_partition_versions: dict[tuple[int, Any], int] = {}
_sorted_keys: dict[tuple[int, Any], tuple[int, list[Any], list[Any]]] = {}
_lock = threading.Lock()
FORWARD = ("BEGINS_WITH", "EQ", "GE", "GT", "BETWEEN", "LE", "LT", None)


def _bump(table: Table, hash_key: Any, before: int) -> None:
    if len(table.items.get(hash_key, ())) != before:
        with _lock:
            slot = (id(table), hash_key)
            _partition_versions[slot] = _partition_versions.get(slot, 0) + 1


def _keys_in_order(table: Table, hash_key: Any, partition: dict[Any, Any]) -> tuple[list[Any], list[Any]]:
    slot = (id(table), hash_key)
    version = _partition_versions.get(slot, 0)
    cached = _sorted_keys.get(slot)
    if cached is None or cached[0] != version:
        keys = sorted(partition, key=lambda k: k.cast_value)
        cached = (version, keys, [k.cast_value for k in keys])
        _sorted_keys[slot] = cached
    return cached[1], cached[2]


def _in_range(value: Any, comparison: str | None, bounds: list[Any]) -> tuple[bool, bool]:
    """(matches, past the end) for a key in ascending order."""
    if comparison is None:
        return True, False
    if comparison == "BEGINS_WITH":
        matches = isinstance(value, str) and value.startswith(bounds[0])
        return matches, not matches and value > bounds[0]
    upper = bounds[-1]
    if comparison in ("EQ", "LE", "BETWEEN"):
        return (value >= bounds[0] if comparison != "LE" else True) and value <= upper, value > upper
    if comparison == "LT":
        return value < upper, value >= upper
    return (value > bounds[0]) if comparison == "GT" else (value >= bounds[0]), False


def _narrow(table: Table, hash_key: Any, comparison: str | None, objs: list[Any], limit: Any, start: Any) -> list[Any]:
    partition = table.items.get(hash_key) or {}
    keys, values = _keys_in_order(table, hash_key, partition)
    bounds = [o.cast_value for o in objs]
    first = 0
    if comparison in ("BEGINS_WITH", "EQ", "GE", "GT", "BETWEEN"):
        first = bisect.bisect_left(values, bounds[0])
    if start:
        first = max(first, bisect.bisect_right(values, DynamoType(start[table.range_key_attr]).cast_value))
    out = []
    for key, value in zip(keys[first:], values[first:], strict=True):
        matches, past = _in_range(value, comparison, bounds)
        if past:  # moto sees one key beyond the range, as in the whole partition, for its LastEvaluatedKey
            if key in partition:
                out.append(partition[key])
            break
        if matches and key in partition:
            out.append(partition[key])
            if limit is not None and len(out) > int(limit):
                break
    return out


def patch_partition_queries() -> None:
    original_query, original_all_items = Table.query, Table.all_items
    original_put, original_delete = Table.put_item, Table.delete_item

    def all_items(self: Table) -> Any:
        override = getattr(_narrowed, "items", {}).get(id(self))
        return override if override is not None else original_all_items(self)

    def query(self: Table, hash_key: Any, range_comparison: Any, range_objs: Any, limit: Any, *args: Any,
              **kwargs: Any) -> Any:  # fmt: skip
        exclusive_start_key, scan_index_forward = args[0], args[1]
        index_name = kwargs.get("index_name", args[3] if len(args) > 3 else None)
        simple = set(kwargs) <= {"hash_key_conditions", "range_key_conditions"}
        if index_name or hash_key is None or self.range_key_attr is None or not scan_index_forward or not simple:
            return original_query(self, hash_key, range_comparison, range_objs, limit, *args, **kwargs)
        if range_comparison not in FORWARD:
            return original_query(self, hash_key, range_comparison, range_objs, limit, *args, **kwargs)
        items = _narrow(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key)
        overrides = getattr(_narrowed, "items", None)
        if overrides is None:
            overrides = _narrowed.items = {}
        overrides[id(self)] = items
        try:
            return original_query(self, hash_key, range_comparison, range_objs, limit, *args, **kwargs)
        finally:
            overrides.pop(id(self), None)

    def put_item(self: Table, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        hash_key = DynamoType(item_attrs[self.hash_key_attr]) if self.hash_key_attr in item_attrs else None
        before = len(self.items.get(hash_key, ())) if hash_key is not None else 0
        try:
            return original_put(self, item_attrs, *args, **kwargs)
        finally:
            if hash_key is not None:
                _bump(self, hash_key, before)

    def delete_item(self: Table, hash_key: Any, range_key: Any) -> Any:
        before = len(self.items.get(hash_key, ()))
        try:
            return original_delete(self, hash_key, range_key)
        finally:
            _bump(self, hash_key, before)

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    Table.put_item = put_item  # type: ignore[method-assign]
    Table.delete_item = delete_item  # type: ignore[method-assign]


# -- DynamoDB responses with items ------------------------------------------------------------------------

READS_WITH_ITEMS = ("get_item", "batch_get_item", "query", "scan", "transact_get_items")


def _as_json(method: Callable[[DynamoHandler], Any]) -> Callable[[DynamoHandler], Any]:
    def call(handler: DynamoHandler) -> Any:
        result = method(handler)
        if isinstance(result, ActionResult) and isinstance(result.result, dict):
            try:
                return json.dumps(result.result)
            except (TypeError, ValueError):
                return result  # not plain JSON (binary values...): moto's serializer knows how
        return result

    return call


def patch_item_responses() -> None:
    for name in READS_WITH_ITEMS:
        setattr(DynamoHandler, name, _as_json(getattr(DynamoHandler, name)))


# -- DynamoDB condition expressions ---------------------------------------------------------------------


def patch_expression_cache(size: int = 4096) -> None:
    parse = comparisons.get_filter_expression

    @functools.lru_cache(maxsize=size)
    def parsed(expr: str | None, names: str, values: str) -> Any:
        return parse(expr, json.loads(names), json.loads(values))

    def get_filter_expression(expr: str | None, names: Any, values: Any) -> Any:
        try:
            key = (json.dumps(names, sort_keys=True), json.dumps(values, sort_keys=True))
        except (TypeError, ValueError):
            return parse(expr, names, values)
        return parsed(expr, *key)

    for module in (comparisons, dynamodb_models, table_module):
        module.get_filter_expression = get_filter_expression  # type: ignore[attr-defined]


def patch() -> None:
    """The local stack's patches and the bench's own."""
    moto_server.patch()
    patch_sqs_send()
    patch_partition_queries()
    patch_item_responses()
    patch_expression_cache()


if __name__ == "__main__":
    patch()
    moto_main(sys.argv[1:])
