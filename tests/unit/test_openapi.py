"""The committed openapi.json is the API the app serves: regenerate it with `make openapi`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.openapi import OPENAPI_FILE, current, render


@pytest.fixture(scope="module")
def served() -> dict[str, Any]:
    """Built before the per-test no-network guard: importing the app creates the X-Ray emitter's UDP
    socket (it sends nothing here: tracing is disabled)."""
    return current()


def test_the_committed_openapi_matches_the_app(served: dict[str, Any]) -> None:
    assert OPENAPI_FILE.read_text() == render(served), "openapi.json is out of date: run `make openapi`, commit it"


def test_every_error_response_has_the_one_error_shape(served: dict[str, Any]) -> None:
    checked = 0
    for path, operations in served["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path, status)
                    checked += 1
    assert checked > 50 and json.loads(OPENAPI_FILE.read_text())["info"]["title"] == "wacast"
