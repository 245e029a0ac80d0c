"""Memory per WhatsApp session in the session host, opened the way the host opens them:
- simulated: SimulatedDriver.start per sender;
- neonize: the host's NeonizeDriver.start per sender, with the real neonize client on its own SQLite store,
  connecting through a proxy on 127.0.0.1 that accepts and never answers (tests/integration/
  neonize_probe.py's black hole): the Go client is built, its store open and its dial in flight, as a
  session is before WhatsApp answers. With no network this is the closest to a live session; a linked
  one also holds its keys, contacts and sync state, so it is a floor, not a ceiling.

Each kind runs in a fresh process: its resident set (VmRSS) after the imports, after the first session
(which loads neonize's Go library) and after all of them; a session costs (all - first) / (n - 1). The
Python objects of a simulated session are also counted exactly, with tracemalloc, in a third process: a
few hundred bytes fall inside pages the process already holds, so VmRSS alone cannot see them.

Run: .venv/bin/python bench/bench_sessions.py
"""

from __future__ import annotations

import gc
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import save
from local.template import ROOT

COUNTS = {"simulated": 1000, "neonize": 20}


def rss_mb() -> float:
    gc.collect()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no /proc/self/status")


class _Events:
    """Driver callbacks nobody listens to."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args: None


def _sender(i: int) -> Any:
    from wacast.domain.senders import Sender

    return Sender(id=f"s{i}", account_id="a", phone=f"+9198{i:08d}", created_at=datetime.now(UTC))


def _simulated() -> Callable[[int], None]:
    from session_host.drivers.simulated import SimulatedConfig, SimulatedDriver
    from session_host.timers import ThreadTimers
    from wacast.adapters.clock import SystemClock

    driver = SimulatedDriver(_Events(), SystemClock(), ThreadTimers(), SimulatedConfig())  # type: ignore[arg-type]
    return lambda i: driver.start(_sender(i))


def _neonize(n: int, dialing: list[socket.socket]) -> Callable[[int], None]:
    """Opens neonize sessions that dial a proxy on 127.0.0.1 which accepts and never answers."""
    from session_host.drivers.neonize_client import RealNeonizeFactory
    from session_host.drivers.neonize_driver import NeonizeConfig, NeonizeDriver
    from session_host.timers import ThreadTimers
    from wacast.adapters.clock import SystemClock

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(n + 8)

    def black_hole() -> None:
        for _ in range(n + 8):
            dialing.append(listener.accept()[0])  # accepted, never answered

    threading.Thread(target=black_hole, daemon=True).start()
    proxy = f"http://127.0.0.1:{listener.getsockname()[1]}"
    config = NeonizeConfig(store_root=tempfile.mkdtemp(prefix="wacast-neonize-"), proxy=proxy, connect_timeout=120)
    driver = NeonizeDriver(_Events(), SystemClock(), ThreadTimers(), RealNeonizeFactory(), config)  # type: ignore[arg-type]

    def open_one(i: int) -> None:
        driver.start(_sender(i))
        deadline = time.monotonic() + 20
        while len(dialing) < i + 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)

    return open_one


def sessions(kind: str, n: int, traced: bool = False) -> dict[str, Any]:
    dialing: list[socket.socket] = []
    open_one = _simulated() if kind == "simulated" else _neonize(n, dialing)
    if traced:
        tracemalloc.start()
    base = rss_mb()
    open_one(0)
    first, first_traced = rss_mb(), tracemalloc.get_traced_memory()[0]
    for i in range(1, n):
        open_one(i)
    last, last_traced = rss_mb(), tracemalloc.get_traced_memory()[0]
    return {
        "kind": kind,
        "sessions": n,
        "dialing": len(dialing) if kind == "neonize" else None,
        "rss_before_mb": base,
        "first_session_mb": first - base,
        "per_session_kb": 1024 * (last - first) / (n - 1),
        "python_objects_per_session_kb": (last_traced - first_traced) / (n - 1) / 1024 if traced else None,
        "rss_after_mb": last,
    }


def in_process(*args: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.bench_sessions", *args]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> dict[str, Any]:
    results = {kind: in_process(kind, str(n)) for kind, n in COUNTS.items()}
    traced = in_process("simulated", str(COUNTS["simulated"]), "traced")
    results["simulated"]["python_objects_per_session_kb"] = traced["python_objects_per_session_kb"]
    for kind, r in results.items():
        objects = r["python_objects_per_session_kb"]
        print(f"{kind:<10} {r['per_session_kb']:8.1f} KB RSS per session over {r['sessions']}"
              + (f" ({objects:.2f} KB of Python objects)" if objects is not None else "")
              + f"; the first: {r['first_session_mb']:.1f} MB; process {r['rss_after_mb']:.0f} MB")  # fmt: skip
    save("sessions", results)
    return results


if __name__ == "__main__":
    if len(sys.argv) >= 3:
        result = sessions(sys.argv[1], int(sys.argv[2]), traced=sys.argv[3:] == ["traced"])
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
        import os

        os._exit(0)  # neonize's Go runtime may hold threads: nothing is left to clean up
    main()
