"""The local stack, start to stop: moto, the template's resources, pollers, API, session host."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import uvicorn

from local.lambda_runtime import load_handler, load_module
from local.moto import MotoServer
from local.pollers import SqsPoller
from local.scheduler import SchedulerEmulator
from local.template import LocalTemplate

REGION = "us-east-1"
CLIENTS = ("sqs", "dynamodb", "scheduler", "secretsmanager")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


@dataclass
class StackConfig:
    moto_port: int = 4566
    api_port: int = 3000
    stack_name: str = "wacast-local"
    #: Extra environment (pacing presets, send wait...) applied over the template's.
    env: dict[str, str] = field(default_factory=dict)
    #: The session host's drivers, or None for no host (e.g. when a test runs its own).
    host_factory: Callable[[Any], Any] | None = None
    poll_wait_seconds: int = 1


LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "WACAST_DEFAULT_DRIVER": "simulated",
    "WACAST_HOST_ID": "host-local",
    "WACAST_OPERATOR_ACCOUNTS": "*",
}


def provision(endpoint: str, stack_name: str, extra_env: dict[str, str] | None = None) -> LocalTemplate:
    """Create the template's resources in the moto server at `endpoint`, and point this process at
    them: the functions' environment (as the template resolves it) becomes os.environ."""
    os.environ.update({**LOCAL_ENV, "AWS_ENDPOINT_URL": endpoint})
    clients = {s: boto3.client(s, region_name=REGION, endpoint_url=endpoint) for s in CLIENTS}
    template = LocalTemplate(clients, stack_name, REGION)
    template.provision()
    for spec in template.functions().values():
        os.environ.update(spec.environment)
    os.environ.update(LOCAL_ENV)
    os.environ.update(extra_env or {})
    reset_caches()
    return template


def reset_caches() -> None:
    """Forget settings and services built from a previous environment."""
    from wacast.bootstrap import get_services
    from wacast.settings import get_settings

    get_settings.cache_clear()
    get_services.cache_clear()


class LocalStack:
    """Everything `make run` starts, in one process."""

    def __init__(self, config: StackConfig | None = None) -> None:
        self.config = config or StackConfig()
        self.endpoint = f"http://127.0.0.1:{self.config.moto_port}"
        self.api_url = f"http://127.0.0.1:{self.config.api_port}"
        self.moto = MotoServer(self.config.moto_port)
        self.pollers: list[SqsPoller] = []
        self.api_server: uvicorn.Server | None = None
        self.host: Any = None
        self.template: LocalTemplate | None = None
        self.scheduler: SchedulerEmulator | None = None
        self._threads: list[threading.Thread] = []

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint)

    def start(self) -> LocalStack:
        self.moto.start()
        self.template = provision(self.endpoint, self.config.stack_name, self.config.env)
        functions = self.template.functions()
        self._start_pollers(self.template.clients["sqs"], functions)
        self.scheduler = SchedulerEmulator(
            self.template.clients["scheduler"],
            self.template.clients["sqs"],
            self.template.physical_ref("ScheduleGroup"),
        )
        self.scheduler.start()
        self._start_api(functions["ApiFunction"])
        if self.config.host_factory is not None:
            from wacast.bootstrap import get_services

            self.host = self.config.host_factory(get_services())
            self.host.start()
        return self

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.host is not None:
            self.host.stop()
        for poller in self.pollers:
            poller.stop()
        if self.api_server is not None:
            self.api_server.should_exit = True
        for thread in self._threads:
            thread.join(timeout=10)
        self.moto.stop()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- internals ------------------------------------------------------------------------------

    def _start_pollers(self, sqs: Any, functions: dict[str, Any]) -> None:
        assert self.template is not None
        for mapping in self.template.event_source_mappings():
            spec = functions[mapping.function_id]
            poller = SqsPoller(
                sqs,
                self.template.queue_url(mapping.queue_id),
                self.template.queue_arn(mapping.queue_id),
                load_handler(spec.code_dir, spec.handler, mapping.function_id),
                mapping.function_id,
                batch_size=mapping.batch_size,
                batching_window=mapping.batching_window,
                report_failures=mapping.report_batch_item_failures,
                timeout_seconds=spec.timeout,
                region=REGION,
                wait_seconds=self.config.poll_wait_seconds,
            )
            poller.start()
            self.pollers.append(poller)

    def _start_api(self, spec: Any) -> None:
        module = load_module(spec.code_dir, spec.handler.rpartition(".")[0], "wacast_fn_ApiFunction")
        config = uvicorn.Config(module.app, host="127.0.0.1", port=self.config.api_port, log_level="warning")
        self.api_server = uvicorn.Server(config)
        thread = threading.Thread(target=self.api_server.run, name="api", daemon=True)
        thread.start()
        self._threads.append(thread)
        wait_for_port(self.config.api_port)
