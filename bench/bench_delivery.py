"""Delivery path: throughput of the session host, and AWS requests (so cost) per 1,000 messages.

Runs in-process against moto with the simulated driver (no latency, no pacing gap), so it measures
our own overhead: the conditional writes of the state machine, the pacing guard and SQS traffic.
Prints a table. Run: .venv/bin/python bench/bench_delivery.py [messages]
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections import Counter
from typing import Any

from local.inprocess import build_roots, provision
from local.moto import MotoServer
from local.stack import free_port
from session_host.__main__ import simulated_drivers
from session_host.drivers.simulated import SimulatedConfig
from session_host.host import SessionHost
from wacast.adapters.aws import client
from wacast.adapters.dynamo.table import TableModel
from wacast.domain.accounts import Principal, Role
from wacast.domain.messages import PENDING
from wacast.domain.pacing import PacingPolicy, PacingPreset
from wacast.observability import logger

# us-east-1 list prices (on-demand), USD: what the request counts below are multiplied by
PRICE_WRITE_UNIT = 0.625 / 1e6  # DynamoDB write request unit
PRICE_READ_UNIT = 0.125 / 1e6  # DynamoDB read request unit (strongly consistent read = 1 unit)
PRICE_SQS_REQUEST = 0.40 / 1e6


def count_calls(counter: Counter[str], botocore_client: Any) -> None:
    """Count the AWS calls made by the host's threads (not the benchmark's own polling)."""

    def hook(model: Any, params: dict[str, Any], **_: Any) -> None:
        if threading.current_thread() is threading.main_thread():
            return
        name = model.name
        counter[name] += 1
        if name == "TransactWriteItems":
            counter["TransactWriteItems.items"] += len(params.get("TransactItems", []))

    botocore_client.meta.events.register("before-call.*.*", hook)


def main(count: int = 300) -> None:
    logger.setLevel("ERROR")
    moto = MotoServer(free_port()).start()
    roots = build_roots(provision(moto.endpoint, f"bench-{uuid.uuid4().hex[:6]}"))
    services, host_services = roots.api, roots.host
    session = services.auth.register("bench@example.com", "a-long-password", "Bench")
    owner = Principal(account_id=session.account.id, user_id=session.user.id, role=Role.OWNER)
    sender = host_services.senders.get(owner.account_id, session.account.default_sender_id or "")
    assert sender is not None
    no_gap = PacingPolicy(preset=PacingPreset.CUSTOM, min_gap_ms=0)
    host_services.senders.save_config(sender.model_copy(update={"pacing": no_gap}))

    calls: Counter[str] = Counter()
    s = services.settings
    count_calls(calls, client("sqs", s.region))
    models: list[type[TableModel]] = [TableModel]
    while models:  # every model class has its own connection
        model = models.pop()
        count_calls(calls, model._get_connection().connection.client)
        models.extend(model.__subclasses__())

    messages = [services.messaging.send_direct(owner, f"+9198{i:08d}", "bench") for i in range(count)]
    calls.clear()  # measure the host's side only: claim, send, record
    sim = SimulatedConfig(latency_ms=(0, 0), delivered_after_s=(3600, 3600), read_after_s=(1, 1))
    host = SessionHost(host_services, simulated_drivers(sim), wait_seconds=1)
    started = time.perf_counter()
    host.start()
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        pending = [m for m in messages if (cur := host_services.messages.get(m.id)) is None or cur.status in PENDING]
        if not pending:
            break
        time.sleep(0.5)
    elapsed = time.perf_counter() - started
    host.stop()
    moto.stop()

    reads = calls["GetItem"] + calls["Query"]
    writes = calls["UpdateItem"] + calls["PutItem"] + 2 * calls["TransactWriteItems.items"]
    sqs = sum(
        v
        for k, v in calls.items()
        if k in ("ReceiveMessage", "DeleteMessage", "SendMessageBatch", "ChangeMessageVisibility", "SendMessage")
    )
    per_k = 1000 / count
    cost = (reads * PRICE_READ_UNIT + writes * PRICE_WRITE_UNIT + sqs * PRICE_SQS_REQUEST) * per_k
    rows = [
        ("messages", f"{count}"),
        ("wall time", f"{elapsed:.1f} s"),
        ("throughput (one sender, moto)", f"{count / elapsed:.1f} msg/s"),
        ("our overhead per send (one sender)", f"{1000 * elapsed / count:.0f} ms"),
        ("DynamoDB reads / message", f"{reads / count:.2f}"),
        ("DynamoDB write units / message", f"{writes / count:.2f}"),
        ("SQS requests / message", f"{sqs / count:.2f}"),
        ("host-side AWS cost / 1,000 messages", f"${cost:.5f}"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"{'delivery path':<{width}}  value")
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print("calls:", dict(sorted(calls.items())))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
