"""Integration tests: real adapters against a moto server, resources provisioned from template.yaml."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from local.inprocess import Roots, build_roots, provision
from local.lambda_runtime import load_module
from local.moto import MotoServer
from local.stack import free_port
from local.template import ROOT
from tests.integration.services import Services

EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with MotoServer(free_port()) as server:
        yield server.endpoint


@pytest.fixture
def roots(moto_endpoint: str) -> Roots:
    """Fresh tables and queues for each test (a stack name of its own), and each deployable's root built
    from the environment the template gives it."""
    template = provision(moto_endpoint, f"it-{uuid.uuid4().hex[:10]}")
    return build_roots(template, tuning={"WACAST_SEND_WAIT_SECONDS": "0"})


@pytest.fixture
def services(roots: Roots) -> Services:
    return Services(roots)


def function_module(name: str) -> Any:
    """A function's app module, loaded from its CodeUri as the local stack loads it."""
    return load_module(ROOT / f"functions/{name}", "app", f"wacast_fn_{name.capitalize()}Function")


@pytest.fixture
def client(roots: Roots) -> Iterator[TestClient]:
    """The API in-process (the same app Mangum wraps), bound to this test's api root."""
    module = function_module("api")
    from routes.deps import get_services

    module.app.dependency_overrides[get_services] = lambda: roots.api
    yield TestClient(module.app)
    module.app.dependency_overrides.clear()


@pytest.fixture(autouse=True)
def _consumers_use_this_stack(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dispatcher, events, dlq and files handlers, invoked in-process, use this test's roots."""
    if "roots" not in request.fixturenames:
        return
    roots: Roots = request.getfixturevalue("roots")
    consumers = (("dispatcher", roots.dispatcher), ("events", roots.events), ("dlq", roots.dlq), ("files", roots.files))
    for name, root in consumers:
        monkeypatch.setattr(function_module(name), "get_services", lambda root=root: root)


def sqs_event(fixture: str, *bodies: dict[str, Any], source_queue: str | None = None) -> dict[str, Any]:
    """An events/ fixture with its record bodies (and source queue) replaced."""
    event = json.loads((EVENTS / fixture).read_text())
    template = event["Records"][0]
    records = []
    for i, body in enumerate(bodies):
        text = json.dumps(body)
        md5 = hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - SQS's own checksum
        record = {**template, "messageId": f"msg-{i}", "body": text, "md5OfBody": md5}
        if source_queue:
            record["eventSourceARN"] = template["eventSourceARN"].rsplit(":", 1)[0] + ":" + source_queue
        records.append(record)
    event["Records"] = records
    return event
