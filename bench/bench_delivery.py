"""A campaign message from creation to READ through the whole local stack: what each deployable asks of
AWS per message, priced; and how fast a message goes from enqueue to SENT.

1. Cost (a metered stack, local/meter.py): register over HTTP, set the sender's pacing to zero, import
   the contacts, warm every function with a 2-contact campaign, then run a campaign of N contacts by tag,
   and one of the same N by contact ids, each from creation to every message READ (simulated driver:
   no latency, delivered and read receipts 0.2-0.5 s after the send). Every AWS call of every process is
   counted between just before the campaign is created and the moment its last message is READ and the
   events queue is empty; divided by N; priced with bench/prices.json. The naive baseline (today's
   design, bench/baseline.json) is priced the same way, and the ratio printed.
2. Latency (a stack without the meter, whose item reads would slow the path): messages enqueued with
   POST /api/messages/queue, one at a time (isolated) and then a burst; enqueue->SENT is the message's
   own history (SENT at) minus its creation, both stamped by the product.

Run: .venv/bin/python bench/bench_delivery.py [contacts] [--save-baseline]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from bench.costs import (
    BASELINE,
    PerMessage,
    all_calls,
    biggest,
    cost_lines,
    fixed_monthly,
    item_sizes,
    load_prices,
    per_message,
)
from bench.harness import PROBE, User, bench_stack, difference, meters_after, read_meters, save, wait_for
from local.__main__ import simulated_host
from local.stack import LocalStack
from session_host.drivers.simulated import SimulatedConfig
from wacast.observability import logger

SIMULATED = SimulatedConfig(latency_ms=(0, 0), delivered_after_s=(0.2, 0.5), read_after_s=(0.2, 0.5))
FUNCTIONS = ("ApiFunction", "DispatcherFunction", "EventsFunction", "DlqFunction")
LOGGED = (*FUNCTIONS, "SessionHost")
CAMPAIGN_TIMEOUT = 300.0


def queue_names(stack: LocalStack) -> dict[str, str]:
    """Physical queue name -> short name (OutboxQueue -> outbox, OutboxDLQ -> outbox-dlq)."""
    assert stack.template is not None
    out = {}
    for logical_id, resource in stack.template.resources.items():
        if resource["Type"] == "AWS::SQS::Queue":
            short = logical_id.removesuffix("Queue").replace("DLQ", "-dlq").lower()
            out[stack.template.queue_url(logical_id).rsplit("/", 1)[-1]] = short
    return out


def memory_sizes(stack: LocalStack) -> dict[str, int]:
    assert stack.template is not None
    return {f: int(stack.template.resources[f]["Properties"]["MemorySize"]) for f in FUNCTIONS}


def log_sizes(stack: LocalStack) -> dict[str, int]:
    return {name: stack.log(name).stat().st_size if stack.log(name).exists() else 0 for name in LOGGED}


def events_drained(stack: LocalStack) -> bool:
    assert stack.template is not None
    sqs = stack.client("sqs")
    for logical_id in ("EventsQueue", "OutboxQueue", "CampaignsQueue"):
        attrs = sqs.get_queue_attributes(QueueUrl=stack.template.queue_url(logical_id), AttributeNames=["All"])
        counts = attrs["Attributes"]
        if any(int(counts[k]) for k in counts if k.startswith("ApproximateNumberOfMessages")):
            return False
    return True


def measured_campaign(stack: LocalStack, user: User, name: str, audience: dict[str, Any], n: int) -> dict[str, Any]:
    """One campaign from creation to every message READ, with every AWS call counted."""
    before = meters_after(stack.state, time.time())
    logs_before = log_sizes(stack)
    started = time.monotonic()
    campaign_id = user.campaign(name, audience)
    stats = user.run_to_read(campaign_id, n, CAMPAIGN_TIMEOUT)
    elapsed = time.monotonic() - started
    wait_for(lambda: events_drained(stack), 60, "the queues to drain", every=0.5)
    time.sleep(1.5)  # the last receipts' invocations end and the host's deletes land
    diff = difference(meters_after(stack.state, time.time()), before)
    logs = {k: v - logs_before.get(k, 0) for k, v in log_sizes(stack).items()}
    memory = memory_sizes(stack)
    prices = load_prices()
    queues = queue_names(stack)
    pm = per_message(diff, n, queues, memory, logs)
    return {
        "audience": name,
        "messages": n,
        "seconds": elapsed,
        "status": stats["status"],
        "counters": stats["counters"],
        "per_message": pm.as_dict(),
        "cost": cost_lines(pm, prices),
        "biggest": biggest(diff, n, memory, prices, queues),
        "calls": all_calls(diff, n, queues),
        "item_sizes": item_sizes(diff),
        "probe_calls": sum(f["calls"] for rows in diff.values() for k, f in rows.items() if k[0] == "probe"),
    }


def cost_runs(contacts: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The two campaigns' figures, and the host's fixed monthly cost (its PutMetricData rate measured)."""
    with bench_stack("wacast-bench-cost", simulated_host(SIMULATED), meter=True) as stack:
        up = time.monotonic()
        user = User(stack.api_url)
        ids = user.import_contacts([f"+9198{i:08d}" for i in range(contacts)], "bench")
        user.import_contacts(["+919700000001", "+919700000002"], "warm")
        user.run_to_read(user.campaign("warm-up", {"tags": ["warm"]}), 2, 60)  # every function's cold start
        wait_for(lambda: events_drained(stack), 30, "the warm-up to drain")
        by_tag = measured_campaign(stack, user, "tag", {"tags": ["bench"]}, contacts)
        by_ids = measured_campaign(stack, user, "contact ids", {"contact_ids": ids}, contacts)
        host = read_meters(stack.state).get("SessionHost", {})
        puts = sum(f["calls"] for k, f in host.items() if k[1:3] == ("cloudwatch", "PutMetricData"))
        minutes = (time.monotonic() - up) / 60
        fixed = fixed_monthly(stack.template, load_prices(), puts / minutes)
        fixed.update(put_metric_data_calls=puts, host_minutes=minutes)
        return [by_tag, by_ids], fixed


# -- latency --------------------------------------------------------------------------------------------


def _seconds_to_sent(job: dict[str, Any]) -> float | None:
    sent = next((h["at"] for h in job["history"] if h["status"] == "SENT"), None)
    if sent is None:
        return None
    return (datetime.fromisoformat(sent) - datetime.fromisoformat(job["createdAt"])).total_seconds()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def latency_runs(isolated: int = 50, burst: int = 200) -> dict[str, Any]:
    with bench_stack("wacast-bench-latency", simulated_host(SIMULATED), meter=False) as stack:
        user = User(stack.api_url)
        http, headers = user.http, {**user.headers, **PROBE}

        def enqueue(i: int) -> str:
            body = {"phone": f"+9197{i:08d}", "message": f"bench {i}"}
            return str(user.ok(http.post("/api/messages/queue", json=body, headers=user.headers))["jobId"])

        def job(job_id: str) -> dict[str, Any]:
            result: dict[str, Any] = user.ok(http.get(f"/api/messages/queue/job/{job_id}", headers=headers))
            return result

        def sent(job_id: str) -> dict[str, Any] | None:
            j = job(job_id)
            return j if _seconds_to_sent(j) is not None else None

        first = enqueue(0)
        wait_for(lambda: sent(first), 30, "the first message to be SENT")  # the host's lane is open
        alone = []
        for i in range(1, isolated + 1):
            job_id = enqueue(i)
            alone.append(_seconds_to_sent(wait_for(lambda: sent(job_id), 10, "SENT", every=0.02)))  # noqa: B023
        with ThreadPoolExecutor(max_workers=8) as pool:
            started = time.monotonic()
            ids = list(pool.map(enqueue, range(1000, 1000 + burst)))
            enqueued_in = time.monotonic() - started

        def all_sent() -> list[dict[str, Any]] | None:
            stats = user.ok(http.get("/api/messages/queue/stats", headers=headers))["account"]
            done = sum(stats.get(s, 0) for s in ("sent", "delivered", "read"))
            return [job(j) for j in ids] if done >= isolated + 1 + burst else None

        jobs = wait_for(all_sent, 120, f"{burst} messages to be SENT", every=1.0)
        times = [t for t in (_seconds_to_sent(j) for j in jobs) if t is not None]
        first_queued = min(datetime.fromisoformat(j["createdAt"]) for j in jobs)
        last_sent = max(datetime.fromisoformat(h["at"]) for j in jobs for h in j["history"] if h["status"] == "SENT")
        isolated_times = [t for t in alone if t is not None]
        return {
            "isolated": {
                "n": len(isolated_times),
                "p50_ms": 1000 * statistics.median(isolated_times),
                "p99_ms": 1000 * _percentile(isolated_times, 99),
            },
            "burst": {
                "n": len(times),
                "enqueued_in_s": enqueued_in,
                "p50_ms": 1000 * statistics.median(times),
                "p99_ms": 1000 * _percentile(times, 99),
                "sent_per_s": len(times) / (last_sent - first_queued).total_seconds(),
            },
        }


# -- report ---------------------------------------------------------------------------------------------


def print_cost(run: dict[str, Any], baseline: dict[str, Any] | None) -> None:
    pm = PerMessage.from_dict(run["per_message"])
    total = sum(run["cost"].values())
    print(f"\n== audience by {run['audience']}: {run['messages']} messages to READ in {run['seconds']:.0f} s")
    print(f"  write units / message   {pm.all_write_units:8.2f}  ({pm.gsi_write_units:.2f} of them GSI upkeep)")
    print(f"  read units / message    {pm.read_units:8.2f}")
    sqs = ", ".join(f"{q} {v:.2f}" for q, v in pm.sqs.items())
    print(f"  SQS requests / message  {pm.sqs_requests:8.2f}  ({sqs}; empty receives apart)")
    print(f"  Lambda GB-s / message   {pm.lambda_gb_seconds:8.4f}  invocations {sum(pm.invocations.values()):.2f}")
    for line, usd in run["cost"].items():
        print(f"    {line:<26} ${usd:9.2f} / 1M messages")
    print(f"  AWS cost / 1M messages  ${total:8.2f}")
    if baseline is not None:
        base = sum(cost_lines(PerMessage.from_dict(baseline), load_prices()).values())
        print(f"  naive baseline          ${base:8.2f}  ({base / total:.2f}x this run)")
    for deployable, rows in run["biggest"].items():
        if rows:
            print(f"  {deployable}: " + "; ".join(f"{r['call']} {r['usd_per_million']:.2f}$" for r in rows[:3]))


def git_state() -> dict[str, str]:
    """The commit measured, and whether the product code differs from it (BENCH_COMMIT names the commit of
    a tree that is not a git checkout, e.g. a `git archive` of it)."""
    if os.environ.get("BENCH_COMMIT"):
        return {"commit": os.environ["BENCH_COMMIT"], "product_code": "as committed (git archive)"}
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "layers", "functions", "session_host", "template.yaml"],
        capture_output=True,
        text=True,
        check=False,
    )
    changed = "with uncommitted changes" if dirty.stdout.strip() else "as committed"
    return {"commit": head.stdout.strip(), "product_code": changed}


def main(argv: list[str]) -> None:
    logger.setLevel("ERROR")
    contacts = int(next((a for a in argv if a.isdigit()), "200"))
    baselines = load_baseline()
    runs, fixed = cost_runs(contacts)
    for run in runs:
        print_cost(run, baselines.get(run["audience"]))
    print(
        f"\n== always on: the session host's Fargate task ${fixed['fargate_usd']:.2f} a month; PutMetricData "
        f"{fixed['put_metric_data_per_minute']:.1f} a minute, ${fixed['put_metric_data_usd']:.2f} a month"
    )
    latency = latency_runs()
    print(f"\n== enqueue -> SENT at zero pacing: isolated p50 {latency['isolated']['p50_ms']:.0f} ms, "
          f"p99 {latency['isolated']['p99_ms']:.0f} ms; burst of {latency['burst']['n']}: "
          f"p50 {latency['burst']['p50_ms']:.0f} ms, p99 {latency['burst']['p99_ms']:.0f} ms, "
          f"{latency['burst']['sent_per_s']:.1f} sent/s")  # fmt: skip
    if "--save-baseline" in argv:
        save_baseline(runs)
    save("delivery", {"runs": runs, "fixed": fixed, "latency": latency, "baseline": baselines, "git": git_state()})


def load_baseline() -> dict[str, Any]:
    if not BASELINE.exists():
        return {}
    data: dict[str, Any] = json.loads(BASELINE.read_text())
    return dict(data["per_message"])


def save_baseline(runs: list[dict[str, Any]]) -> None:
    body = {
        "about": "The naive baseline: today's design measured by bench/bench_delivery.py --save-baseline",
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        **git_state(),
        "per_message": {run["audience"]: run["per_message"] for run in runs},
    }
    BASELINE.write_text(json.dumps(body, indent=1) + "\n")
    print(f"baseline saved to {BASELINE}")


if __name__ == "__main__":
    main(sys.argv[1:])
