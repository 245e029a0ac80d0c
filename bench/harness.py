"""What the benches share: the local stack on the bench's moto server, an HTTP user of it, the meter's
files, and where each bench leaves its figures for RESULTS.md (bench/run.py).

Every wait is bounded in time and every loop in count; everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from local.moto import MotoServer
from local.stack import LocalStack, StackConfig, free_port
from local.template import ROOT

#: Where each bench writes its figures (JSON), for bench/run.py to put in RESULTS.md.
OUT = ROOT / ".local-state" / "bench"
NO_GAP = {"preset": "custom", "min_gap_ms": 0, "max_gap_ms": 0}
PROBE = {"x-bench-probe": "1"}  # the bench looking (local/meter.py keeps its calls apart)


class BenchMotoServer(MotoServer):
    """moto with the local stack's patches plus the bench's own (bench/moto_server.py)."""

    def start(self, timeout: float = 30.0) -> BenchMotoServer:
        env = {**os.environ, "MOTO_CALL_RESET_API": "false"}
        command = [sys.executable, "-m", "bench.moto_server", "-H", self.host, "-p", str(self.port)]
        self._process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"bench moto server exited with {self._process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1):  # noqa: S310 - loopback
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"bench moto server did not start on {self.endpoint}")


@contextmanager
def bench_stack(name: str, host_args: list[str], *, meter: bool) -> Iterator[LocalStack]:
    """The local stack (each deployable in its own process, under its role) on the bench's moto."""
    state = ROOT / ".local-state" / name
    for stale in state.glob("meter-*.json"):
        stale.unlink()
    config = StackConfig(
        moto_port=free_port(),
        api_port=free_port(),
        stack_name=name,
        state=state,
        host_args=host_args,
        meter=meter,
    )
    stack = LocalStack(config)
    stack.moto = BenchMotoServer(config.moto_port)
    with stack:
        yield stack
        denied = stack.denied()
        if denied:
            raise RuntimeError(f"a deployable was refused an AWS call: {denied[:3]}")


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


class User:
    """A user of the API over HTTP: registers, sets the sender's pacing to zero, imports, runs campaigns."""

    def __init__(self, api_url: str) -> None:
        self.http = httpx.Client(base_url=api_url, timeout=60)
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        session = self.ok(self.http.post("/api/auth/register", json={"email": email, "password": "a-long-password"}))
        self.headers = {"Authorization": f"Bearer {session['token']}"}
        self.sender_id = str(session["account"]["default_sender_id"])
        self.ok(self.http.patch(f"/api/senders/{self.sender_id}", json={"pacing": NO_GAP}, headers=self.headers))

    @staticmethod
    def ok(response: httpx.Response) -> Any:
        if response.status_code >= 300:
            raise RuntimeError(
                f"{response.request.method} {response.request.url} -> {response.status_code}: {response.text[:500]}"
            )
        return response.json()

    def import_contacts(self, phones: list[str], tag: str) -> list[str]:
        rows = "".join(f"{p},Person {i},{tag}\n" for i, p in enumerate(phones))
        files = {"file": ("contacts.csv", f"phone,name,tags\n{rows}".encode(), "text/csv")}
        report = self.ok(self.http.post("/api/contacts/import", files=files, headers=self.headers))
        assert report["imported"] == len(phones), report
        ids: list[str] = []
        cursor = None
        for _ in range(1000):  # bounded paging
            params: dict[str, str | int] = {"tag": tag, "limit": 100, **({"cursor": cursor} if cursor else {})}
            page = self.ok(self.http.get("/api/contacts", params=params, headers={**self.headers, **PROBE}))
            ids += [c["id"] for c in page["items"]]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        return ids

    def campaign(self, name: str, audience: dict[str, Any]) -> str:
        draft = {"name": name, "body": "Hi {{name}}, our store opens at 10!", "audience": audience, "pacing": NO_GAP}
        campaign = self.ok(self.http.post("/api/campaigns", json=draft, headers=self.headers))
        return str(campaign["id"])

    def start(self, campaign_id: str) -> None:
        self.ok(self.http.post(f"/api/campaigns/{campaign_id}/start", headers=self.headers))

    def stats(self, campaign_id: str) -> dict[str, Any]:
        stats: dict[str, Any] = self.ok(
            self.http.get(f"/api/campaigns/{campaign_id}/stats", headers={**self.headers, **PROBE})
        )
        return stats

    def run_to_read(self, campaign_id: str, contacts: int, timeout: float) -> dict[str, Any]:
        """Start the campaign and wait until every message is READ (bounded)."""
        self.start(campaign_id)

        def all_read() -> dict[str, Any] | None:
            stats = self.stats(campaign_id)
            return stats if stats["counters"].get("read", 0) >= contacts else None

        result: dict[str, Any] = wait_for(all_read, timeout, f"{contacts} messages to reach READ", every=1.0)
        return result


# -- the meter's files -----------------------------------------------------------------------------------

Rows = dict[tuple[str, ...], dict[str, float]]


def read_meters(state: Path) -> dict[str, Rows]:
    out: dict[str, Rows] = {}
    for path in sorted(state.glob("meter-*.json")):
        body = json.loads(path.read_text())
        out[body["deployable"]] = {tuple(r.pop("key")): r for r in body["rows"]}
    return out


def meters_after(state: Path, moment: float, timeout: float = 10.0) -> dict[str, Rows]:
    """The meters once every file was written after `moment` (they are written every half second)."""

    def fresh() -> dict[str, Rows] | None:
        files = list(state.glob("meter-*.json"))
        if files and all(json.loads(p.read_text())["written_at"] > moment for p in files):
            return read_meters(state)
        return None

    result: dict[str, Rows] = wait_for(fresh, timeout, "the meters to be written", every=0.2)
    return result


def difference(after: dict[str, Rows], before: dict[str, Rows]) -> dict[str, Rows]:
    out: dict[str, Rows] = {}
    for deployable, rows in after.items():
        earlier = before.get(deployable, {})
        diff: Rows = {}
        for key, fields in rows.items():
            base = earlier.get(key, {})
            changed = {f: v - base.get(f, 0.0) for f, v in fields.items() if f != "bytes_max"}
            if key[0] == "sizes":
                changed["bytes_max"] = fields.get("bytes_max", 0.0)
            if any(changed.values()):
                diff[key] = defaultdict(float, changed)
        out[deployable] = diff
    return out


def save(name: str, figures: dict[str, Any]) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(figures, indent=1, default=str))
    return path
