"""The neonize driver with the real neonize library and no route to WhatsApp (a proxy on loopback):
connecting fails fast and cleanly, a black-holed connection is given up after the bound, and
get_me() is never called before a connection (it would crash the process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run_probe(mode: str) -> tuple[dict[str, Any], float]:
    import time

    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers/common'}:{ROOT}", "POWERTOOLS_LOG_LEVEL": "WARNING"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.neonize_probe", mode],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, f"the process died (rc {done.returncode}): {done.stderr[-2000:]}"
    line = [x for x in done.stdout.splitlines() if x.startswith("{")][-1]
    return json.loads(line), elapsed


def test_connecting_without_a_route_fails_fast_and_cleanly() -> None:
    result, elapsed = run_probe("refused")
    assert result["start_returned_after"] < 1.0  # start() never blocks the caller
    (state, error, at) = result["states"][0]
    assert state == "disconnected" and error.startswith("connect_failed:") and "127.0.0.1" in error
    assert at < 5.0 and elapsed < 30
    assert result["connected"] is False
    assert result["send"][0] == "transient"  # nothing can have been sent
    assert result["get_me_calls"] == 0


def test_a_black_holed_connection_is_given_up_after_the_bound() -> None:
    result, _ = run_probe("blackhole")
    (state, error, at) = result["states"][0]
    assert state == "disconnected" and error == "connect_timeout: no answer from WhatsApp within 2s"
    assert 1.9 <= at < 6.0  # the bound, not neonize's own 60 s deadline
    assert result["send"][0] == "transient" and result["get_me_calls"] == 0
