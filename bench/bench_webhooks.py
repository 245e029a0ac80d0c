"""Webhook deliveries per second, and the AWS requests each event costs, through the real webhooks function.

Against a moto server and a receiver on 127.0.0.1 (answers 200, or 500 to every first try in the second
run): message status changes are written to the table, the webhooks function's stream mapping turns them
into jobs (WebhookFanout), and its SQS mapping delivers them (WebhookDelivery), both played in this process
as Lambda plays them (one function instance; Lambda runs several when the queue is deep). The SQS requests
count the mapping's own (ReceiveMessage, DeleteMessageBatch: billed like any) and the function's
(SendMessageBatch, ChangeMessageVisibilityBatch). Deliveries/s is bounded by the receiver's and moto's
speed here, and by the PARALLEL_REQUESTS of a batch: the figure to compare between changes, not a promise.

Run: .venv/bin/python bench/bench_webhooks.py [events]   (not part of bench/run.py)
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3

from bench.harness import save
from local.inprocess import REGION, build_roots, provision
from local.lambda_runtime import load_handler, services_of
from local.moto import MotoServer
from local.pollers import SqsPoller
from local.stack import free_port
from local.template import ROOT
from wacast.adapters.aws import client
from wacast.adapters.dynamo.table import TableModel
from wacast.domain.accounts import Principal, Role
from wacast.domain.messages import Message, MessageStatus, StatusChange
from wacast.domain.webhooks import EventType

TUNING = {
    "WACAST_WEBHOOK_BACKOFF_BASE_SECONDS": "1",
    "WACAST_WEBHOOK_BACKOFF_FACTOR": "1",
    "WACAST_WEBHOOK_ENDPOINT_CACHE_SECONDS": "30",
}


class Receiver:
    def __init__(self, fail_first: bool) -> None:
        self.seen: Counter[str] = Counter()
        self.ok = 0
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    key = self.headers.get("Wacast-Event-Id", "")
                    receiver.seen[key] += 1
                    fail = fail_first and receiver.seen[key] == 1
                    receiver.ok += 0 if fail else 1
                self.send_response(500 if fail else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def counting(calls: Counter[str], *clients: Any) -> None:
    def count(model: Any, **_: Any) -> None:
        calls[f"{model.service_model.service_name}:{model.name}"] += 1

    for c in clients:
        c.meta.events.register("before-call", count)


def run(endpoint: str, events: int, fail_first: bool) -> dict[str, Any]:
    roots = build_roots(provision(endpoint, f"bench-wh-{uuid.uuid4().hex[:8]}"), tuning=TUNING)
    receiver = Receiver(fail_first)
    try:
        session = roots.api.auth.register(f"{uuid.uuid4().hex[:8]}@example.com", "a-long-password", "Bench")
        principal = Principal(account_id=session.account.id, user_id=session.user.id, role=Role.OWNER)
        url = f"http://127.0.0.1:{receiver.server.server_port}/hook"
        roots.api.webhooks.create(principal, url, [EventType.MESSAGE_STATUS])
        # message status changes in the table: QUEUED -> SENDING, one event each
        messages = roots.dispatcher.dispatch.messages
        now = datetime.now(UTC)
        for i in range(events):
            m = Message(
                id=f"m_bench{i:019d}",
                account_id=principal.account_id,
                sender_id=session.account.default_sender_id or "s",
                phone=f"+9198{i:08d}",
                body="hi",
                created_at=now,
                updated_at=now,
                history=[StatusChange(status=MessageStatus.QUEUED, at=now)],
            )
            messages.create(m)
            messages.transition(m, MessageStatus.SENDING, now, changes={"lease_owner": "bench"})

        calls: Counter[str] = Counter()
        poll_sqs = boto3.client("sqs", region_name=REGION)
        table_client = TableModel._get_connection().connection.client  # the one PynamoDB uses
        counting(calls, client("sqs", REGION), table_client, poll_sqs)
        deployable = roots.deployables["WebhooksFunction"]
        mapping = next(m for m in deployable.mappings if m.kind == "sqs")
        handler = load_handler(ROOT / "functions/webhooks", "app.handler", "WebhooksFunction")
        module = sys.modules["wacast_fn_WebhooksFunction"]

        def invoke(event: Any, context: Any) -> Any:
            with services_of(module, roots.webhooks):
                return handler(event, context)

        poller = SqsPoller(
            poll_sqs,
            mapping.queue_url,
            mapping.queue_arn,
            invoke,
            "WebhooksFunction",
            batch_size=mapping.batch_size,
            batching_window=0,
            report_failures=True,
            timeout_seconds=60,
            region=REGION,
            wait_seconds=0,
        )
        started = time.monotonic()
        fanned = roots.settle_webhook_events(rounds=200)
        fanout_seconds = time.monotonic() - started
        fanout_calls = Counter(calls)
        first = time.monotonic()
        deadline = first + 120 + events / 5
        while receiver.ok < events and time.monotonic() < deadline:  # bounded
            got = poller._receive()
            if got:
                poller.invoke(got)
            else:
                time.sleep(0.05)
        took = time.monotonic() - first
        delivery_calls = calls - fanout_calls
        sqs = lambda counter: sum(v for k, v in counter.items() if k.startswith("sqs:"))  # noqa: E731
        ddb = lambda counter: sum(v for k, v in counter.items() if k.startswith("dynamodb:"))  # noqa: E731
        return {
            "events": events,
            "delivered": receiver.ok,
            "requests": sum(receiver.seen.values()),
            "stream_records": fanned,
            "fanout_seconds": round(fanout_seconds, 2),
            "delivery_seconds": round(took, 2),
            "deliveries_per_second": round(receiver.ok / took, 1) if took else None,
            "sqs_requests_per_event": round((sqs(fanout_calls) + sqs(delivery_calls)) / events, 3),
            "sqs_fanout_per_event": round(sqs(fanout_calls) / events, 3),
            "sqs_delivery_per_event": round(sqs(delivery_calls) / events, 3),
            "dynamodb_requests_per_event": round((ddb(fanout_calls) + ddb(delivery_calls)) / events, 3),
            "calls": dict(sorted(calls.items())),
        }
    finally:
        receiver.close()


def main() -> None:
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # the figures, not one EMF line per delivery
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    server = MotoServer(free_port()).start()
    try:
        figures = {
            "all_succeed": run(server.endpoint, events, fail_first=False),
            "first_try_fails": run(server.endpoint, events, fail_first=True),
        }
    finally:
        server.stop()
    save("webhooks", figures)
    print(f"{'run':<16} {'events':>6} {'delivered':>9} {'req':>5} {'deliv/s':>8} {'SQS/event':>9} {'DDB/event':>9}")  # noqa: T201
    for name, f in figures.items():
        print(  # noqa: T201
            f"{name:<16} {f['events']:>6} {f['delivered']:>9} {f['requests']:>5} {f['deliveries_per_second']:>8}"
            f" {f['sqs_requests_per_event']:>9} {f['dynamodb_requests_per_event']:>9}"
        )
    print(json.dumps({k: f["calls"] for k, f in figures.items()}, indent=1))  # noqa: T201


if __name__ == "__main__":
    main()
