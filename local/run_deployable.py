"""`python -m local.run_deployable [--cold-start] SPEC.json`: one deployable of the local stack, in a
process of its own (`--cold-start`: only build its composition root, as its first invocation would, and
exit 0, or 1 with the reason: a missing variable, or a call its role may not make).

The local stack starts one of these per deployable with exactly that resource's environment (the
process's os.environ, set by the parent) and a launch spec. It installs the role's IAM guard before
any AWS client exists, then runs the deployable as AWS would:
- the api: its FastAPI app (the one Mangum wraps on Lambda) on uvicorn;
- an SQS consumer: pollers playing its event-source mappings, calling its real handler;
- the session host: `python -m session_host`'s own main(), with the given arguments.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any

from local import meter
from local.iam import Account, RoleGuard
from session_host.stopping import wait_for_stop_signal


def install_guard(spec: dict[str, Any]) -> RoleGuard:
    account = Account(spec["account"]["region"], spec["account"]["account_id"])
    journal = Path(spec["journal"]) if spec.get("journal") else None
    guard = RoleGuard(spec["role"], spec["policies"], account, journal)
    guard.install()
    return guard


def run_api(spec: dict[str, Any]) -> None:
    import uvicorn

    from local.lambda_runtime import load_module

    function = spec["function"]
    module = load_module(
        Path(function["code_dir"]), function["handler"].rpartition(".")[0], f"wacast_fn_{spec['name']}"
    )
    uvicorn.run(meter.asgi(module.app), host="127.0.0.1", port=int(spec["api_port"]), log_level="warning")


def one_at_a_time(handler: Any) -> Any:
    """Lambda runs one invocation at a time in an execution environment: a function with several event
    sources (the dlq function has two) must not run two batches at once here either (they share the
    module's globals: the metrics buffer, the logger's keys)."""
    lock = threading.Lock()

    def invoke(event: Any, context: Any) -> Any:
        with lock:
            return handler(event, context)

    return invoke


def run_consumer(spec: dict[str, Any]) -> None:
    import boto3

    from local.lambda_runtime import load_handler
    from local.pollers import SqsPoller
    from local.streams import StreamPoller

    function = spec["function"]
    handler = one_at_a_time(
        meter.timed(load_handler(Path(function["code_dir"]), function["handler"], spec["name"]), spec["name"])
    )
    region = spec["account"]["region"]
    sqs = boto3.client("sqs", region_name=region)  # under the function's role, as Lambda's pollers are
    streams = boto3.client("dynamodbstreams", region_name=region)
    pollers: list[SqsPoller | StreamPoller] = [
        StreamPoller(
            streams,
            m["queue_arn"],
            handler,
            spec["name"],
            batch_size=m["batch_size"],
            batching_window=m["batching_window"],
            filters=tuple(m["filters"]),
            timeout_seconds=int(function["timeout"]),
            region=region,
        )
        for m in spec["mappings"]
        if m.get("kind") == "dynamodb"
    ]
    pollers += [
        SqsPoller(
            sqs,
            m["queue_url"],
            m["queue_arn"],
            handler,
            spec["name"],
            batch_size=m["batch_size"],
            batching_window=m["batching_window"],
            report_failures=m["report_failures"],
            timeout_seconds=int(function["timeout"]),
            region=region,
            wait_seconds=int(spec.get("poll_wait_seconds", 1)),
        )
        for m in spec["mappings"]
        if m.get("kind", "sqs") == "sqs"
    ]
    for poller in pollers:
        poller.start()
    wait_for_stop_signal()
    for poller in pollers:
        poller.stop()


def run_host(spec: dict[str, Any]) -> None:
    from session_host.__main__ import main

    main(list(spec.get("host_args", [])))


def cold_start(spec: dict[str, Any]) -> None:
    """Build the deployable's root from this process's environment, under its role."""
    from local.lambda_runtime import load_module

    if spec["kind"] == "host":
        from wacast.bootstrap import build_session_host
        from wacast.settings import SessionHostSettings

        build_session_host(SessionHostSettings.load())
        return
    function = spec["function"]
    module = load_module(
        Path(function["code_dir"]), function["handler"].rpartition(".")[0], f"wacast_fn_{spec['name']}"
    )
    if spec["kind"] == "api":
        from routes.deps import get_services  # type: ignore[import-not-found]

        get_services()
    else:
        module.get_services()


def main(argv: list[str]) -> None:
    check = argv[0] == "--cold-start"
    spec = json.loads(Path(argv[-1]).read_text())
    metering = meter.prepare(spec)  # `make bench` only (StackConfig.meter): counts every AWS call
    install_guard(spec)
    if metering is not None:
        metering.install()
    if not check:
        {"api": run_api, "consumer": run_consumer, "host": run_host}[spec["kind"]](spec)
        return
    try:
        cold_start(spec)
    except Exception as exc:  # the reason, for whoever started this check
        sys.stderr.write(f"{spec['name']} cannot start: {exc}\n")
        sys.exit(1)
    sys.stdout.write(f"{spec['name']} started\n")


if __name__ == "__main__":
    main(sys.argv[1:])
