"""The api builds each router when the first request under its path prefixes arrives (functions/api/app.py):
a request builds only the routers it could reach, and the app matches and documents its routes in the
same order whatever order they were built in."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from local.lambda_runtime import load_module
from local.openapi import OPENAPI_FILE, render
from local.template import ROOT
from wacast.domain.errors import Unauthorized


@pytest.fixture(scope="module")
def module() -> Any:
    """Loaded before the per-test no-network guard (importing the app creates the X-Ray emitter's socket)."""
    return load_module(ROOT / "functions/api", "app", "wacast_fn_ApiFunction")


class _NoServices:
    def __getattr__(self, name: str) -> Any:
        raise Unauthorized("no services in this test")


def test_a_request_builds_only_the_routers_under_its_path(module: Any) -> None:
    from routes.deps import get_services

    app = module.create_app()
    app.dependency_overrides[get_services] = _NoServices
    client = TestClient(app)
    # given a fresh app / when /health is asked / then only the health router is built
    assert client.get("/health").json() == {"status": "ok", "service": "wacast"}
    assert app._built == {"health"}
    # when a contact is asked / then the routers under /api/contacts are built, and the route answers
    assert client.get("/api/contacts/c1", headers={"X-Api-Key": "wck_x"}).status_code == 401
    assert app._built == {"health", "contact_files", "optouts", "contacts"}
    # when a path no router holds is asked / then nothing more is built, and it is not found
    assert client.get("/api/nothing-here").status_code == 404
    assert app._built == {"health", "contact_files", "optouts", "contacts"}


def test_the_routes_keep_their_order_whatever_order_they_are_built_in(module: Any) -> None:
    app = module.create_app()
    for name in reversed(list(module.ROUTERS)):
        app.build_routers([name])
    assert render(app.openapi()) == OPENAPI_FILE.read_text()


def test_every_route_lives_under_its_routers_prefixes(module: Any) -> None:
    app = module.create_app()
    app.build_routers(module.ROUTERS)  # raises when a router has a route outside its prefixes
    assert app._built == set(module.ROUTERS)
