"""schemathesis against the API's own OpenAPI document, in-process (ASGI) and against moto: requests
generated for every operation, signed in, never get a server error, and every error has the one shape."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from local.lambda_runtime import load_module
from local.template import ROOT
from tests.integration.api_helpers import register

APP = load_module(ROOT / "functions/api", "app", "wacast_fn_ApiFunction").app
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture
def signed_in(client: TestClient) -> dict[str, str]:
    """An account with a contact and a template, and its owner's Authorization header (`client` binds
    the app to this test's api root)."""
    headers = register(client, "fuzz@example.com")
    client.post("/api/contacts", json={"phone": "9876543210", "name": "Asha", "tags": ["vip"]}, headers=headers)
    client.post("/api/templates", json={"name": "T", "body": "Hi {{name|there}}"}, headers=headers)
    return headers


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_request_gets_a_server_error(case: Any, signed_in: dict[str, str]) -> None:
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in ("authorization", "x-api-key")}
    response = case.call(headers=signed_in)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text}"
    if response.status_code >= 400:
        error = response.json()["error"]
        assert {"code", "message", "details"} <= set(error), response.text
