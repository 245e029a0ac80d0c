"""Integration tests: real adapters against a moto server, resources provisioned from template.yaml."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from local.lambda_runtime import load_module
from local.moto import MotoServer
from local.stack import free_port, provision
from local.template import ROOT
from wacast.bootstrap import Services, get_services

EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with MotoServer(free_port()) as server:
        yield server.endpoint


@pytest.fixture
def services(moto_endpoint: str) -> Services:
    """Fresh tables and queues for each test (a stack name of its own), and services bound to them."""
    provision(
        moto_endpoint,
        f"it-{uuid.uuid4().hex[:10]}",
        {"WACAST_SEND_WAIT_SECONDS": "0", "WACAST_DEFAULT_DRIVER": "simulated"},
    )
    return get_services()


@pytest.fixture
def client(services: Services) -> TestClient:
    """The API in-process (the same app Mangum wraps), bound to this test's tables and queues."""
    app = load_module(ROOT / "functions/api", "app", "wacast_fn_ApiFunction").app
    return TestClient(app)


def sqs_event(fixture: str, *bodies: dict[str, Any], source_queue: str | None = None) -> dict[str, Any]:
    """An events/ fixture with its record bodies (and source queue) replaced."""
    event = json.loads((EVENTS / fixture).read_text())
    template = event["Records"][0]
    records = []
    for i, body in enumerate(bodies):
        record = {**template, "messageId": f"msg-{i}", "body": json.dumps(body)}
        if source_queue:
            record["eventSourceARN"] = template["eventSourceARN"].rsplit(":", 1)[0] + ":" + source_queue
        records.append(record)
    event["Records"] = records
    return event
