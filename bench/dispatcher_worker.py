"""`python -m bench.dispatcher_worker SPEC.json`: the dispatcher function alone in a fresh process, as a
warm Lambda container runs it, against the bench's moto: its real handler, called with a real SQS event
for each job of the campaigns queue (batch size 1, as the template says) until no job is left.

At each checkpoint (contacts dispatched so far, counted as the outbox messages it sent) it records how
long the handler has worked and the process's peak resident set. Prints one JSON line.
The environment is DispatcherFunction's (template.yaml), set by bench/bench_dispatcher.py.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any


def peak_rss_mb() -> float:
    """This process's peak resident set since it was exec'd (VmHWM). Not getrusage's ru_maxrss: on Linux
    that keeps the peak of the image before the exec, i.e. the parent's RSS when it forked this process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class OutboxCount:
    """Counts the messages the process sends to the outbox (a botocore hook, like local/meter.py)."""

    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url
        self.sent = 0

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if params.get("QueueUrl") == self.queue_url:
            self.sent += (
                len(params["Entries"]) if model.name == "SendMessageBatch" else int(model.name == "SendMessage")
            )

    def install(self) -> None:
        from botocore import handlers

        handlers.BUILTIN_HANDLERS.append(("before-parameter-build.sqs", self))


def main(spec: dict[str, Any]) -> dict[str, Any]:
    outbox = OutboxCount(spec["outbox_url"])
    outbox.install()
    import boto3

    from local.lambda_runtime import LambdaContext, load_handler
    from local.pollers import sqs_event

    started = time.perf_counter()
    handler = load_handler(Path(spec["code_dir"]), spec["handler"], "DispatcherFunction")
    imported, rss_imported = time.perf_counter() - started, peak_rss_mb()
    sqs: Any = boto3.client("sqs", region_name=spec["region"])
    checkpoints, points = list(spec["checkpoints"]), []
    jobs, busy, idle, failures = 0, 0.0, 0, 0
    deadline = time.monotonic() + spec["max_seconds"]
    while time.monotonic() < deadline and idle < 2 and jobs < spec["max_jobs"]:
        got: list[dict[str, Any]] = sqs.receive_message(
            QueueUrl=spec["queue_url"], MaxNumberOfMessages=1, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"]
        ).get("Messages", [])
        if not got:
            idle += 1
            continue
        idle = 0
        context = LambdaContext("DispatcherFunction", spec["timeout"], spec["region"], spec["account_id"])
        began = time.perf_counter()
        response = handler(sqs_event(got, spec["queue_arn"], spec["region"]), context) or {}
        busy += time.perf_counter() - began
        jobs += 1
        if response.get("batchItemFailures"):
            failures += 1
        else:
            sqs.delete_message(QueueUrl=spec["queue_url"], ReceiptHandle=got[0]["ReceiptHandle"])
        while checkpoints and outbox.sent >= checkpoints[0]:
            checkpoints.pop(0)
            points.append(
                {"contacts": outbox.sent, "jobs": jobs, "handler_seconds": busy, "peak_rss_mb": peak_rss_mb()}
            )
    return {
        "checkpoints": points,
        "jobs": jobs,
        "failed_jobs": failures,
        "dispatched": outbox.sent,
        "handler_seconds": busy,
        "cpu_seconds": cpu_seconds(),
        "import_seconds": imported,
        "rss_after_import_mb": rss_imported,
        "peak_rss_mb": peak_rss_mb(),
        "timed_out": time.monotonic() >= deadline,
    }


if __name__ == "__main__":
    result = main(json.loads(Path(sys.argv[1]).read_text()))
    sys.stdout.write(json.dumps(result) + "\n")
