"""`make bench`: every bench, one after the other (each in a process of its own, bounded in time), then
bench/RESULTS.md with the date, the machine and every figure (bench/report.py).

Run: .venv/bin/python bench/run.py            (--render: write RESULTS.md again from the last run's figures)
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.bench_delivery import git_state
from bench.harness import OUT
from bench.report import render
from local.template import ROOT

RESULTS = Path(__file__).with_name("RESULTS.md")
#: (script, its own time limit in seconds): together well under make bench's 10 minutes on 2 cores
BENCHES = (
    ("bench/self_check.py", 60),
    ("bench/bench_delivery.py", 300),
    ("bench/bench_dispatcher.py", 330),
    ("bench/bench_cold_start.py", 180),
    ("bench/bench_sessions.py", 60),
    ("bench/bench_contact_import.py", 120),
)


def machine() -> dict[str, Any]:
    date = subprocess.run(["date", "-u"], capture_output=True, text=True, check=False).stdout.strip()
    return {
        "date": date,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "moto": importlib.metadata.version("moto"),
        **git_state(),
    }


def write_results() -> None:
    run = json.loads((OUT / "run.json").read_text())
    figures = {p.stem: json.loads(p.read_text()) for p in OUT.glob("*.json") if p.stem != "run"}
    RESULTS.write_text(render(run["about"], figures, run["outputs"], run["durations"], run["failed"]))


def main() -> int:
    if sys.argv[1:] == ["--render"]:
        write_results()
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    for stale in OUT.glob("*.json"):
        stale.unlink()
    about = machine()
    outputs, durations, failed = {}, {}, []
    started = time.monotonic()
    for script, limit in BENCHES:
        print(f"== {script}", flush=True)
        began = time.monotonic()
        try:
            done = subprocess.run(
                [sys.executable, script], cwd=ROOT, capture_output=True, text=True, timeout=limit, check=False
            )
            output, ok = done.stdout, done.returncode == 0
            if not ok:
                output += done.stderr[-4000:]
        except subprocess.TimeoutExpired as exc:
            partial = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
            output, ok = f"{partial}\ntimed out after {limit} s", False
        durations[script] = time.monotonic() - began
        outputs[script] = output
        print(output, flush=True)
        if not ok:
            failed.append(script)
    about["seconds"] = time.monotonic() - started
    run = {"about": about, "outputs": outputs, "durations": durations, "failed": failed}
    (OUT / "run.json").write_text(json.dumps(run, indent=1))
    write_results()
    print(f"wrote {RESULTS.relative_to(ROOT)} in {about['seconds']:.0f} s" + (f"; FAILED: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
