"""A webhook receiver on loopback that answers on a schedule (fail, stall, succeed...), and a pump that plays
the webhooks function's two event-source mappings (the table's stream, then the webhooks queue) in-process."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3

from local.inprocess import REGION, Roots
from local.lambda_runtime import load_handler, services_of
from local.pollers import SqsPoller
from local.template import ROOT

#: What the receiver does with a request: "ok" (200), "fail" (500), "stall" (answers after the sender's
#: timeout), or any status code as a string ("410").
Plan = Callable[[str, int], str]  # (path, the how-many-th request of this event id to that path) -> action


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    action: str

    @property
    def event(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class Receiver:
    plan: Plan
    stall_seconds: float = 2.5
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                event_id = self.headers.get("Wacast-Event-Id", "")
                with receiver._lock:
                    nth = 1 + sum(
                        1 for s in receiver.seen if s.path == self.path and s.headers.get("Wacast-Event-Id") == event_id
                    )
                    action = receiver.plan(self.path, nth)
                    receiver.seen.append(Seen(self.path, dict(self.headers), body, time.monotonic(), action))
                if action == "stall":
                    time.sleep(receiver.stall_seconds)
                code = {"ok": 200, "fail": 500, "stall": 200}.get(action) or int(action)
                try:
                    self.send_response(code)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # a stalled answer: the sender gave up waiting, as planned

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def requests(self, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if path is None or s.path == path]


class WebhookPump:
    """The webhooks function's mappings, run when the test says: stream records to jobs, jobs to requests."""

    def __init__(self, roots: Roots) -> None:
        self.roots = roots
        deployable = roots.deployables["WebhooksFunction"]
        mapping = next(m for m in deployable.mappings if m.kind == "sqs")
        handler = load_handler(ROOT / "functions/webhooks", "app.handler", "WebhooksFunction")
        module = sys.modules["wacast_fn_WebhooksFunction"]

        def invoke(event: Any, context: Any) -> Any:
            with services_of(module, roots.webhooks):
                return handler(event, context)

        self.poller = SqsPoller(
            boto3.client("sqs", region_name=REGION),
            mapping.queue_url,
            mapping.queue_arn,
            invoke,
            "WebhooksFunction",
            batch_size=mapping.batch_size,
            batching_window=0,
            report_failures=mapping.report_failures,
            timeout_seconds=60,
            region=REGION,
            wait_seconds=0,
        )

    def once(self) -> int:
        self.roots.settle_webhook_events()
        messages = self.poller._receive()
        if messages:
            self.poller.invoke(messages)
        return len(messages)

    def until(self, done: Callable[[], bool], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():
                return
            if not self.once():
                time.sleep(0.2)
        raise AssertionError("the webhooks did not get there in time")
