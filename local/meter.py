"""Meters every AWS call a deployable of the local stack makes, for `make bench` (off unless
`StackConfig(meter=True)`): per operation, target (table entity or queue) and call site, with DynamoDB's
write and read units (local/dynamo_units.py), SQS's billed requests, and each Lambda invocation's duration.

Installed like the IAM guard (local/iam.py): a `before-parameter-build` and an `after-call` handler in
botocore's BUILTIN_HANDLERS, so every session of the process (boto3's, PynamoDB's) is metered. Requests
are never changed. To size a write, the meter reads the items it touches just before the call and, for
an update, just after, with its own client (made before any hook exists: neither guarded nor metered).
That reading is taken out of the Lambda durations it happens in. Counts go to
`<state>/meter-<Deployable>.json` every half second and at exit.
"""

from __future__ import annotations

import atexit
import contextvars
import json
import math
import os
import re
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from local import dynamo_units as units
from local.dynamo_units import Write, item_size, kind_of, read_units

#: Calls made while serving a request with this header go to the "probe" bucket (the bench looking).
PROBE_HEADER = b"x-bench-probe"
bucket: contextvars.ContextVar[str] = contextvars.ContextVar("meter_bucket", default="run")
#: Seconds the meter itself spent inside the current invocation (taken out of its billed duration).
overhead: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("meter_overhead", default=None)
_ROOT = str(Path(__file__).resolve().parents[1])
_PRODUCT = ("/layers/", "/functions/", "/session_host/")
_ACTIVE: Meter | None = None


def meter_spec(template: Any, state: Path, name: str) -> dict[str, Any]:
    """What a deployable's meter needs: its file, its memory size, and each table's keys and GSIs."""
    tables = {}
    for logical_id, resource in template.resources.items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        props = resource["Properties"]
        indexes = {
            gsi["IndexName"]: {
                "keys": [k["AttributeName"] for k in gsi["KeySchema"]],
                "projection": gsi["Projection"].get("ProjectionType", "ALL"),
                "include": gsi["Projection"].get("NonKeyAttributes", []),
            }
            for gsi in props.get("GlobalSecondaryIndexes", [])
        }
        keys = [k["AttributeName"] for k in props["KeySchema"]]
        tables[template.physical_ref(logical_id)] = {"keys": keys, "indexes": indexes}
    memory = template.resources.get(name, {}).get("Properties", {}).get("MemorySize")
    return {"file": str(state / f"meter-{name}.json"), "deployable": name, "memory_mb": memory, "tables": tables}


class Meter:
    """Counts one process's AWS calls: rows keyed by (bucket, service, operation, target, call site)."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        import botocore.session

        self.path = Path(spec["file"])
        self.deployable = spec["deployable"]
        self.memory_mb = spec.get("memory_mb")
        self.tables: dict[str, Any] = spec.get("tables", {})
        self.rows: dict[tuple[str, ...], dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.lock = threading.Lock()
        self._session = botocore.session.Session()  # before any hook is installed: never guarded nor metered
        self._ddb: Any = None

    def install(self) -> None:
        global _ACTIVE
        from botocore import handlers

        handlers.BUILTIN_HANDLERS.append(("before-parameter-build", self._before))
        handlers.BUILTIN_HANDLERS.append(("after-call", self._after))
        _ACTIVE = self
        threading.Thread(target=self._flush_loop, name="meter-flush", daemon=True).start()
        atexit.register(self.flush)

    @property
    def ddb(self) -> Any:
        if self._ddb is None:
            self._ddb = self._session.create_client("dynamodb", region_name=os.environ.get("AWS_REGION"))
        return self._ddb

    def _flush_loop(self) -> None:
        while True:
            time.sleep(0.5)
            self.flush()

    def flush(self) -> None:
        with self.lock:
            rows = [{"key": list(k), **v} for k, v in self.rows.items()]
        body = {"deployable": self.deployable, "memory_mb": self.memory_mb, "written_at": time.time(), "rows": rows}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(body))
        os.replace(tmp, self.path)

    def add(self, service: str, operation: str, target: str, site: str, **fields: float) -> None:
        with self.lock:
            row = self.rows[(bucket.get(), service, operation, target, site)]
            row["calls"] += 1
            for name, value in fields.items():
                row[name] += value

    def _size(self, kind: str, size: int) -> None:
        with self.lock:
            row = self.rows[("sizes", "dynamodb", "item", kind, "")]
            row["calls"] += 1
            row["bytes"] += size
            row["bytes_max"] = max(row["bytes_max"], size)

    # -- botocore hooks ----------------------------------------------------------------------------

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        started = time.perf_counter()
        state: dict[str, Any] = {"params": params}
        context["wacast_meter"] = state
        if model.service_model.service_name == "dynamodb" and model.name in units.WRITES:
            try:
                writes = units.WRITES[model.name](params, self._keys)
                state["before"] = self._fetch([(w.table, w.key) for w in writes])
                state["writes"] = writes
            except Exception as exc:  # never break the call being metered
                sys.stderr.write(f"meter: could not read the items before {model.name}: {exc}\n")
        _charge(started)

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], http_response: Any, **_: Any) -> None:
        started = time.perf_counter()
        service, operation = model.service_model.service_name, model.name
        state = context.get("wacast_meter", {})
        params = state.get("params", {})
        failed = http_response.status_code >= 300
        try:
            site = _site()
            if service == "dynamodb" and "writes" in state:
                self._write(operation, state["writes"], state["before"], failed, site)
            elif service == "dynamodb" and operation in units.READS:
                self._read(operation, params, parsed, failed, site)
            elif service == "sqs":
                self._sqs(operation, params, parsed, failed, site)
            else:
                self.add(service, operation, "", site, failed=int(failed))
        except Exception as exc:
            sys.stderr.write(f"meter: could not meter {service}:{operation}: {exc}\n")
        _charge(started)

    # -- DynamoDB ----------------------------------------------------------------------------------

    def _keys(self, table: str) -> list[str]:
        return list(self.tables.get(table, {}).get("keys", ["pk", "sk"]))

    def _fetch(self, keys: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any] | None]:
        """The items at `keys` now, strongly consistent, with the meter's own client."""
        if not keys:
            return []
        if len(keys) == 1:
            table, key = keys[0]
            item: dict[str, Any] | None = self.ddb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
            return [item]
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(keys), 100):
            request: dict[str, Any] = {}
            for table, key in keys[start : start + 100]:
                entry = request.setdefault(table, {"Keys": [], "ConsistentRead": True})
                if key not in entry["Keys"]:
                    entry["Keys"].append(key)
            for _ in range(10):  # bounded: moto answers everything at once
                response = self.ddb.batch_get_item(RequestItems=request)
                for table, items in response.get("Responses", {}).items():
                    for it in items:
                        found[_key_id(table, {k: it[k] for k in self._keys(table)})] = it
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
        return [found.get(_key_id(table, key)) for table, key in keys]

    def _write(self, operation: str, writes: list[Write], before: list[Any], failed: bool, site: str) -> None:
        after: list[Any] = [None] * len(writes)
        if not failed:
            updated = [i for i, w in enumerate(writes) if w.action == "Update"]
            fetched = self._fetch([(writes[i].table, writes[i].key) for i in updated])
            for i, item in zip(updated, fetched, strict=True):
                after[i] = item
            for i, w in enumerate(writes):
                after[i] = w.item if w.action == "Put" else before[i] if w.action == "ConditionCheck" else after[i]
                if w.action != "Delete" and after[i] is not None:
                    self._size(kind_of(after[i]), item_size(after[i]))
        table_units, index_units = units.write_cost(operation, writes, before, after, failed, self.tables)
        kinds = "+".join(sorted({kind_of(b or w.item, w.key) for w, b in zip(writes, before, strict=True)}))
        self.add("dynamodb", operation, kinds, site, items=len(writes), wu=table_units, wu_gsi=index_units,
                 failed=int(failed))  # fmt: skip

    def _read(self, operation: str, params: dict[str, Any], parsed: dict[str, Any], failed: bool, site: str) -> None:
        ru, kinds, items = (0.0, set[str](), 0) if failed else self._read_units(operation, params, parsed)
        self.add("dynamodb", operation, "+".join(sorted(kinds)) or "-", site, items=items, ru=ru, failed=int(failed))

    def _read_units(
        self, operation: str, params: dict[str, Any], parsed: dict[str, Any]
    ) -> tuple[float, set[str], int]:
        """(read units, item kinds, items) of a read that succeeded, as DynamoDB bills it."""
        ru, kinds, items = 0.0, set(), 0
        if operation == "GetItem":
            item = parsed.get("Item")
            if item is not None and units.projected(params):
                item = self._fetch([(params["TableName"], params["Key"])])[0]
            ru, items = read_units(item_size(item), bool(params.get("ConsistentRead"))), int(item is not None)
            kinds.add(kind_of(item, params["Key"]))
        elif operation in ("BatchGetItem", "TransactGetItems"):
            if operation == "BatchGetItem":
                asked = params["RequestItems"].items()
                gets = [(t, k, bool(r.get("ConsistentRead"))) for t, r in asked for k in r["Keys"]]
            else:
                gets = [(g["Get"]["TableName"], g["Get"]["Key"], True) for g in params["TransactItems"]]
            factor = 2 if operation == "TransactGetItems" else 1
            for (_, key, consistent), item in zip(gets, self._fetch([(t, k) for t, k, _ in gets]), strict=True):
                ru += factor * read_units(item_size(item), consistent)
                items += int(item is not None)
                kinds.add(kind_of(item, key))
        else:  # Query, Scan: every item evaluated, before any filter, whole items
            evaluated = parsed.get("Items", [])
            if units.projected(params) or params.get("FilterExpression") or params.get("Select") == "COUNT":
                evaluated = self._unfiltered(operation, params)
            consistent = bool(params.get("ConsistentRead")) and not params.get("IndexName")
            ru, items = read_units(sum(item_size(i) for i in evaluated), consistent), len(evaluated)
            kinds.update(kind_of(i) for i in evaluated)
        return ru, kinds, items

    def _unfiltered(self, operation: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The items a Query or Scan evaluated: the same request without its filter and projection."""
        keep = {k: v for k, v in params.items() if k not in units.UNFILTERED_DROP}
        used = set(re.findall(r"[#:][A-Za-z0-9_]+", params.get("KeyConditionExpression", "")))
        for name in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
            if name in keep:
                keep[name] = {k: v for k, v in keep[name].items() if k in used}
                if not keep[name]:
                    del keep[name]
        items: list[dict[str, Any]] = getattr(self.ddb, operation.lower())(**keep).get("Items", [])
        return items

    # -- SQS ---------------------------------------------------------------------------------------

    def _sqs(self, operation: str, params: dict[str, Any], parsed: dict[str, Any], failed: bool, site: str) -> None:
        queue = str(params.get("QueueUrl", "")).rstrip("/").rsplit("/", 1)[-1]
        if operation == "SendMessage":
            payload, messages = _payload(params), 1
        elif operation == "SendMessageBatch":
            payload, messages = sum(_payload(e) for e in params["Entries"]), len(params["Entries"])
        elif operation == "ReceiveMessage":
            received = parsed.get("Messages", [])
            payload, messages = sum(_payload(m) for m in received), len(received)
            if not received:
                operation = "ReceiveMessage(empty)"
        else:
            payload, messages = 0, len(params.get("Entries", [])) or int("ReceiptHandle" in params)
        billable = max(1, math.ceil(payload / (64 * 1024)))  # SQS bills each started 64 KB chunk as a request
        self.add("sqs", operation, queue, site, billable=billable, messages=messages, bytes=payload, failed=int(failed))


def _charge(started: float) -> None:
    spent = overhead.get()
    if spent is not None:
        spent[0] += time.perf_counter() - started


def _key_id(table: str, key: Mapping[str, Any]) -> str:
    return table + json.dumps(key, sort_keys=True, default=str)


def _payload(message: Mapping[str, Any]) -> int:
    size = len(str(message.get("MessageBody", message.get("Body", ""))).encode())
    for name, attr in (message.get("MessageAttributes") or {}).items():
        size += len(name.encode()) + len(attr.get("DataType", "").encode())
        size += len(str(attr.get("StringValue", attr.get("BinaryValue", ""))).encode())
    return size


def _site() -> str:
    """Where the call comes from: the innermost product function (usually an adapter) and the first
    product function above it outside the adapters (the service or host code that asked for it)."""
    frame: Any = sys._getframe(3)
    inner = outer = local = None
    for _ in range(100):
        if frame is None:
            break
        path = frame.f_code.co_filename
        if path.startswith(_ROOT) and "/.venv/" not in path and not path.endswith("meter.py"):
            name = f"{Path(path).stem}.{frame.f_code.co_qualname.split('.<locals>')[0]}"  # not its comprehensions
            if any(p in path for p in _PRODUCT):
                if inner is None:
                    inner = name
                elif "/adapters/" not in path:
                    outer = name
                    break
            elif local is None:
                local = name
        frame = frame.f_back
    if inner is None:
        return local or "?"
    return f"{outer} > {inner}" if outer else inner


# -- the local stack's side --------------------------------------------------------------------------


def prepare(spec: Mapping[str, Any]) -> Meter | None:
    """The process's meter when its launch spec has one (make it before the IAM guard is installed, so its
    own client is neither guarded nor metered; `install()` it after)."""
    return Meter(spec["meter"]) if spec.get("meter") else None


def timed(handler: Callable[[Any, Any], Any], function: str) -> Callable[[Any, Any], Any]:
    """The handler, each invocation timed as Lambda bills it (when the process is metered)."""
    meter = _ACTIVE
    if meter is None:
        return handler

    def metered(event: Any, context: Any) -> Any:
        spent = [0.0]
        token = overhead.set(spent)
        started = time.perf_counter()
        try:
            return handler(event, context)
        finally:
            seconds = time.perf_counter() - started - spent[0]
            overhead.reset(token)
            records = len(event.get("Records", []))
            meter.add("lambda", "Invoke", function, "", ms=math.ceil(seconds * 1000), records=records)

    return metered


def asgi(app: Any) -> Any:
    """The API's ASGI app, each HTTP request timed as one Lambda invocation (when the process is metered).
    A request with the `x-bench-probe` header is the bench looking, not the product working: its calls go
    to the "probe" bucket."""
    meter = _ACTIVE
    if meter is None:
        return app

    async def metered(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        probe = any(name == PROBE_HEADER for name, _ in scope.get("headers", []))
        tokens = bucket.set("probe" if probe else "run"), overhead.set(spent := [0.0])
        started = time.perf_counter()
        try:
            await app(scope, receive, send)
        finally:
            seconds = time.perf_counter() - started - spent[0]
            route = re.sub(r"/[^/]*\d[^/]*", "/{id}", scope.get("path", ""))
            meter.add("lambda", "Invoke", meter.deployable, f"{scope.get('method')} {route}",
                      ms=math.ceil(seconds * 1000), records=1)  # fmt: skip
            bucket.reset(tokens[0])
            overhead.reset(tokens[1])

    return metered
