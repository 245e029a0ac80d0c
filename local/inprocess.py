"""Every deployable's root in this one process, each built from its own environment as template.yaml
gives it: for integration tests and benchmarks that drive the services directly against moto.

There is no IAM guard here (one process cannot hold five roles); the local stack and the e2e tests
run each deployable in a process of its own, under its role.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any

import boto3

from local.deployables import LOCAL_ENV, Deployable, deployables
from local.lambda_runtime import load_handler, services_of
from local.streams import StreamPoller
from local.template import LocalTemplate
from wacast.bootstrap import (
    ApiServices,
    CountersServices,
    DispatcherServices,
    DlqServices,
    EventsServices,
    FilesServices,
    SessionHostServices,
    WebhooksServices,
    build_api,
    build_counters,
    build_dispatcher,
    build_dlq,
    build_events,
    build_files,
    build_session_host,
    build_webhooks,
)
from wacast.settings import (
    ApiSettings,
    CountersSettings,
    DispatcherSettings,
    DlqSettings,
    EventsSettings,
    FilesSettings,
    SessionHostSettings,
    WebhooksSettings,
)

REGION = "us-east-1"
CLIENTS = ("sqs", "dynamodb", "scheduler", "secretsmanager", "sts", "cloudwatch", "s3")


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
    files: FilesServices
    webhooks: WebhooksServices
    #: The stream mappings played in this process (`settle_counters`, `settle_webhook_events`), by function.
    streams: dict[str, StreamPoller] = field(default_factory=dict)

    def environment(self, name: str) -> dict[str, str]:
        return self.deployables[name].process_environment(REGION, os.environ.get("AWS_ENDPOINT_URL"), {})

    def settle_counters(self, rounds: int = 50) -> int:
        """Apply every message status change in the table's stream to the counters, as the counters
        function does (its handler, its filter, a batch per shard); returns how many were delivered."""
        return self._settle_stream("CountersFunction", self.counters, rounds)

    def settle_webhook_events(self, rounds: int = 50) -> int:
        """Turn the table's changes into webhook jobs, as the webhooks function's stream mapping does (its
        handler, its filters); returns how many records were delivered to it."""
        return self._settle_stream("WebhooksFunction", self.webhooks, rounds)

    def _settle_stream(self, function: str, root: Any, rounds: int) -> int:
        """Play `function`'s stream mapping in this process, with `root` as its services, until the stream
        has nothing more for it (at most `rounds` polls)."""
        poller = self.streams.get(function)
        if poller is None:
            mapping = next(m for m in self.deployables[function].mappings if m.kind != "sqs")
            spec = self.template.functions()[function]
            handler = load_handler(spec.code_dir, spec.handler, function)
            module = sys.modules[f"wacast_fn_{function}"]

            def invoke(event: Any, context: Any) -> Any:
                with services_of(module, root):
                    return handler(event, context)

            poller = self.streams[function] = StreamPoller(
                boto3.client("dynamodbstreams", region_name=REGION),
                mapping.queue_arn,
                invoke,
                function,
                batch_size=mapping.batch_size,
                batching_window=0,
                filters=mapping.filters,
                timeout_seconds=60,
                region=REGION,
            )
        total = 0
        for _ in range(rounds):  # bounded
            delivered = poller.poll_once()
            total += delivered
            if not delivered:
                return total
        return total


def build_roots(template: LocalTemplate, tuning: dict[str, str] | None = None, **per_root: Any) -> Roots:
    """Build each root from its resource's environment (plus optional `tuning`, and the local stack's
    overrides for the api's default driver and the host's session store)."""
    found = deployables(template)
    endpoint = os.environ.get("AWS_ENDPOINT_URL")

    def env(name: str, overrides: dict[str, str] | None = None) -> dict[str, str]:
        return {**found[name].process_environment(REGION, endpoint, overrides or {}), **(tuning or {})}

    webhooks = {"WACAST_WEBHOOK_ALLOW_HTTP": "true", "WACAST_WEBHOOK_ALLOW_LOOPBACK": "true"}  # as local/stack.py
    api_env = env("ApiFunction", {"WACAST_DEFAULT_DRIVER": "simulated", **webhooks})
    return Roots(
        template=template,
        deployables=found,
        api=build_api(ApiSettings.load(api_env), **per_root),
        dispatcher=build_dispatcher(DispatcherSettings.load(env("DispatcherFunction")), **per_root),
        events=build_events(EventsSettings.load(env("EventsFunction")), **per_root),
        dlq=build_dlq(DlqSettings.load(env("DlqFunction")), **per_root),
        host=build_session_host(SessionHostSettings.load(env("SessionHost")), **per_root),
        counters=build_counters(CountersSettings.load(env("CountersFunction")), **per_root),
        files=build_files(FilesSettings.load(env("FilesFunction")), **per_root),
        webhooks=build_webhooks(WebhooksSettings.load(env("WebhooksFunction", webhooks)), **per_root),
    )
