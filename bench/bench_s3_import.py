"""Contact imports through S3 (issue 13): a file uploaded with its presigned PUT to moto, imported by the files
function's root in a process of its own (as Lambda runs it, with the template's environment). Prints rows per
second, the import process's peak RSS (flat: the file is streamed, the rows are written a chunk at a time),
and the DynamoDB write units per contact (metered as `make bench` meters them, on a smaller file: they do not
depend on its length). Not part of bench/run.py.

Run: .venv/bin/python bench/bench_s3_import.py [rows, default 100000] [metered rows, default 5000]
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "layers/common"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

RSS_LIMIT_MB = 150


def csv_file(rows: int) -> bytes:
    lines = "".join(f"98{i:08d},Person {i},vip;new,Pune,yes\n" for i in range(rows))
    return ("phone,name,tags,city,opt in\n" + lines).encode()


def peak_rss_kb() -> int:
    """This process's peak RSS (VmHWM). Not ru_maxrss: Linux carries that over an exec from the parent that
    spawned the process (the bench itself, with the file in memory)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(spec_path: str) -> None:
    """The files function's process: build its root, then run the queued import job to completion."""
    spec = json.loads(Path(spec_path).read_text())
    meter = None
    if spec.get("meter"):
        from local.meter import Meter

        meter = Meter(spec["meter"])
        meter.install()
    from wacast.bootstrap.files import build_files
    from wacast.domain.file_jobs import ImportFileJob
    from wacast.settings import FilesSettings

    services = build_files(FilesSettings.load())
    from wacast.adapters.aws import client
    from wacast.adapters.sqs import SqsQueue

    queue = SqsQueue(services.settings.files_queue_url, client("sqs", services.settings.region))
    baseline_kb = peak_rss_kb()
    started, runs = time.perf_counter(), 0
    for _ in range(1000):  # bounded: one run per message (a continuation is a new message)
        messages = queue.receive(max_messages=1, wait_seconds=1)
        if not messages:
            break
        services.imports.run(ImportFileJob.model_validate(messages[0].body), time_left=lambda: 900.0)
        queue.delete(messages[0])
        runs += 1
    seconds = time.perf_counter() - started
    if meter is not None:
        meter.flush()
    peak_kb = peak_rss_kb()
    out = {"seconds": seconds, "runs": runs, "baseline_mb": baseline_kb / 1024, "peak_mb": peak_kb / 1024}
    Path(spec["out"]).write_text(json.dumps(out))


def import_once(endpoint: str, rows: int, state: Path, *, metered: bool) -> dict[str, Any]:
    import httpx

    from local.deployables import deployables
    from local.inprocess import REGION, provision
    from local.meter import meter_spec
    from wacast.bootstrap.api import build_api
    from wacast.settings import ApiSettings

    template = provision(endpoint, f"bench-{uuid.uuid4().hex[:6]}")
    found = deployables(template)
    api_env = found["ApiFunction"].process_environment(REGION, endpoint, {"WACAST_DEFAULT_DRIVER": "simulated"})
    api = build_api(ApiSettings.load(api_env))
    session = api.auth.register(f"bench-{uuid.uuid4().hex[:6]}@example.com", "a-long-password", "Bench")
    principal = api.auth.authenticate(session.token)
    data = csv_file(rows)
    job, upload = api.imports.create(principal, "bench.csv", len(data))
    put = httpx.put(upload.url, content=data, headers=upload.headers, timeout=120)
    put.raise_for_status()
    api.imports.start(principal, job.id)

    spec: dict[str, Any] = {"out": str(state / f"out-{job.id}.json")}
    if metered:
        spec["meter"] = meter_spec(template, state, "FilesFunction")
    spec_path = state / f"spec-{job.id}.json"
    spec_path.write_text(json.dumps(spec))
    env = found["FilesFunction"].process_environment(REGION, endpoint, {})
    env.update({k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ})
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "layers/common")])
    env["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    subprocess.run([sys.executable, __file__, "--child", str(spec_path)], env=env, check=True, timeout=1800)
    result: dict[str, Any] = json.loads(Path(spec["out"]).read_text())
    done = api.imports.get(principal, job.id)
    result.update(status=done.status.value, imported=done.counts.imported, rows=done.counts.rows, size=len(data))
    if metered:
        metering = json.loads(Path(spec["meter"]["file"]).read_text())
        writes = [r for r in metering["rows"] if r["key"][1] == "dynamodb" and "wu" in r]
        result["write_units"] = sum(r["wu"] + r.get("wu_gsi", 0) for r in writes)
        result["write_calls"] = sum(r["calls"] for r in writes)
        result["calls"] = sum(r["calls"] for r in metering["rows"] if r["key"][0] == "run")
    return result


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        child(argv[1])
        return
    from local.moto import MotoServer
    from local.stack import free_port

    rows = int(argv[0]) if argv else 100_000
    metered_rows = int(argv[1]) if len(argv) > 1 else 5_000
    with MotoServer(free_port()) as moto, tempfile.TemporaryDirectory() as tmp:
        big = import_once(moto.endpoint, rows, Path(tmp), metered=False)
        small = import_once(moto.endpoint, metered_rows, Path(tmp), metered=True)
    rate = big["rows"] / big["seconds"]
    per_contact = small["write_units"] / max(1, small["imported"])
    print(f"{'import through S3 (moto)':<44}{'value':>14}")
    print(f"{'rows in the file':<44}{big['rows']:>14,}")
    print(f"{'file size (MB)':<44}{big['size'] / 1e6:>14.1f}")
    print(f"{'status':<44}{big['status']:>14}")
    print(f"{'runs (a continuation is a run)':<44}{big['runs']:>14}")
    print(f"{'seconds (check + write)':<44}{big['seconds']:>14.1f}")
    print(f"{'rows per second':<44}{rate:>14,.0f}")
    print(f"{'import process RSS after its root (MB)':<44}{big['baseline_mb']:>14.1f}")
    print(f"{'import process peak RSS (MB)':<44}{big['peak_mb']:>14.1f}")
    metered_label = f"write units per contact ({small['imported']:,} metered)"
    print(f"{metered_label:<44}{per_contact:>14.2f}")
    print(f"{'DynamoDB write calls per 1,000 contacts':<44}{1000 * small['write_calls'] / small['imported']:>14.1f}")
    print(f"{'AWS calls per 1,000 contacts':<44}{1000 * small['calls'] / small['imported']:>14.1f}")
    if big["status"] != "completed" or big["imported"] != rows or big["peak_mb"] > RSS_LIMIT_MB:
        print(f"FAILED: the import must complete all {rows} rows within {RSS_LIMIT_MB} MB", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
