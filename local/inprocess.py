"""Every deployable's root in this one process, each built from its own environment as template.yaml
gives it: for integration tests and benchmarks that drive the services directly against moto.

There is no IAM guard here (one process cannot hold five roles); the local stack and the e2e tests
run each deployable in a process of its own, under its role.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

import boto3

from local.deployables import LOCAL_ENV, Deployable, deployables
from local.lambda_runtime import load_handler, services_of
from local.streams import StreamPoller
from local.template import ROOT, LocalTemplate
from wacast.bootstrap import (
    ApiServices,
    CountersServices,
    DispatcherServices,
    DlqServices,
    EventsServices,
    SessionHostServices,
    build_api,
    build_counters,
    build_dispatcher,
    build_dlq,
    build_events,
    build_session_host,
)
from wacast.settings import (
    ApiSettings,
    CountersSettings,
    DispatcherSettings,
    DlqSettings,
    EventsSettings,
    SessionHostSettings,
)

REGION = "us-east-1"
CLIENTS = ("sqs", "dynamodb", "scheduler", "secretsmanager", "sts", "cloudwatch")


def provision(endpoint: str, stack_name: str) -> LocalTemplate:
    """Create the template's resources in the moto server at `endpoint`. Points this process's AWS clients
    at it (AWS_ENDPOINT_URL), as the local stack does for each deployable's process."""
    os.environ.update({**LOCAL_ENV, "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION})
    clients = {s: boto3.client(s, region_name=REGION) for s in CLIENTS}
    template = LocalTemplate(clients, stack_name, REGION)
    template.provision()
    return template


@dataclass
class Roots:
    """The five composition roots of one provisioned stack."""

    template: LocalTemplate
    deployables: dict[str, Deployable]
    api: ApiServices
    dispatcher: DispatcherServices
    events: EventsServices
    dlq: DlqServices
    host: SessionHostServices
    counters: CountersServices
    #: The counters function's stream mapping, played in this process by `settle_counters`.
    stream: StreamPoller | None = None

    def environment(self, name: str) -> dict[str, str]:
        return self.deployables[name].process_environment(REGION, os.environ.get("AWS_ENDPOINT_URL"), {})

    def settle_counters(self, rounds: int = 50) -> int:
        """Apply every message status change in the table's stream to the counters, as the counters
        function does (its handler, its filter, a batch per shard); returns how many were delivered."""
        if self.stream is None:
            mapping = self.deployables["CountersFunction"].mappings[0]
            handler = load_handler(ROOT / "functions/counters", "app.handler", "CountersFunction")
            self.stream = StreamPoller(
                boto3.client("dynamodbstreams", region_name=REGION),
                mapping.queue_arn,
                lambda event, context: _with_root(self.counters, handler, event, context),
                "CountersFunction",
                batch_size=mapping.batch_size,
                batching_window=0,
                filters=mapping.filters,
                timeout_seconds=60,
                region=REGION,
            )
        total = 0
        for _ in range(rounds):  # bounded
            delivered = self.stream.poll_once()
            total += delivered
            if not delivered:
                return total
        return total


def _with_root(root: CountersServices, handler: Any, event: Any, context: Any) -> Any:
    """The counters handler, using this stack's root."""
    with services_of(sys.modules["wacast_fn_CountersFunction"], root):
        return handler(event, context)


def build_roots(template: LocalTemplate, tuning: dict[str, str] | None = None, **per_root: Any) -> Roots:
    """Build each root from its resource's environment (plus optional `tuning`, and the local stack's
    overrides for the api's default driver and the host's session store)."""
    found = deployables(template)
    endpoint = os.environ.get("AWS_ENDPOINT_URL")

    def env(name: str, overrides: dict[str, str] | None = None) -> dict[str, str]:
        return {**found[name].process_environment(REGION, endpoint, overrides or {}), **(tuning or {})}

    api_env = env("ApiFunction", {"WACAST_DEFAULT_DRIVER": "simulated"})
    return Roots(
        template=template,
        deployables=found,
        api=build_api(ApiSettings.load(api_env), **per_root),
        dispatcher=build_dispatcher(DispatcherSettings.load(env("DispatcherFunction")), **per_root),
        events=build_events(EventsSettings.load(env("EventsFunction")), **per_root),
        dlq=build_dlq(DlqSettings.load(env("DlqFunction")), **per_root),
        host=build_session_host(SessionHostSettings.load(env("SessionHost")), **per_root),
        counters=build_counters(CountersSettings.load(env("CountersFunction")), **per_root),
    )
