"""The HTTP API: one FastAPI app, served by Mangum on Lambda and by uvicorn in the local stack.

A request uses the routes of one router; building the routes of all of them (FastAPI makes a validator for
every parameter, body and response of every route) was a third of the cold start. So each router is
built when the first request under its path prefixes arrives (`ROUTERS`), into a slot the app holds for
it in the order below: the app matches routes exactly as if every router had been included at start.
The OpenAPI document and `app.routes` load them all. What every route uses (FastAPI, the services' root
and the AWS clients' library, `routes.deps`) is imported here, at init, not at the first request.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from fastapi import APIRouter, FastAPI
from mangum import Mangum
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

import routes.deps  # noqa: F401 - the services' root: every route but /health and /docs needs it
from routes.errors import install_error_handlers
from wacast.observability import logger, metrics, tracer

#: Each router module of `routes`, in the order the app matches them, and the path prefixes its routes
#: live under (a router is built when a request's path holds one; a route outside them fails the build).
#: /api/contacts/import, /export and /opt-out come before /api/contacts/{contact_id}.
ROUTERS: dict[str, tuple[str, ...]] = {
    "health": ("/health",),
    "auth": ("/api/auth",),
    "users": ("/api/auth/users",),
    "apikeys": ("/api/auth/api-keys",),
    "account": ("/api/account",),
    "messages": ("/api/messages",),
    "contact_files": ("/api/contacts",),
    "contact_imports": ("/api/contacts/imports",),
    "exports": ("/api/contacts/exports", "/api/campaigns/"),
    "optouts": ("/api/contacts",),
    "contacts": ("/api/contacts",),
    "templates": ("/api/templates",),
    "campaigns": ("/api/campaigns",),
    "senders": ("/api/senders",),
    "conversations": ("/api/conversations",),
    "webhooks": ("/api/webhooks",),
    "admin": ("/api/admin",),
}


class Api(FastAPI):
    """The app, with its routers built on demand into slots kept in `ROUTERS`' order."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._slots: dict[str, APIRouter] = {}
        self._built: set[str] = set()
        self._lock = threading.Lock()
        for name in ROUTERS:
            self._slots[name] = APIRouter()
            self.include_router(self._slots[name])

    def build_routers(self, names: Iterable[str]) -> None:
        """Build the named routers (once each), into their slots."""
        wanted = [name for name in names if name not in self._built]
        if not wanted:
            return
        with self._lock:
            for name in ROUTERS:
                if name in wanted and name not in self._built:
                    router: APIRouter = importlib.import_module(f"routes.{name}").router
                    outside = [
                        path
                        for path in (str(getattr(route, "path", "")) for route in router.routes)
                        if not path.startswith(ROUTERS[name])
                    ]
                    if outside:
                        raise RuntimeError(f"routes.{name} has routes outside {ROUTERS[name]}: {outside}")
                    self._slots[name].include_router(router)
                    self._built.add(name)

    def build_routers_for(self, path: str) -> None:
        """Build every router a request to `path` could reach (with or without a trailing slash)."""
        path += "/"
        self.build_routers(name for name, prefixes in ROUTERS.items() if any(p in path for p in prefixes))

    @property
    def routes(self) -> list[BaseRoute]:
        if hasattr(self, "_slots"):  # FastAPI's own __init__ may ask before the slots exist
            self.build_routers(ROUTERS)
        return super().routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            self.build_routers_for(str(scope.get("path", "")))
        await super().__call__(scope, receive, send)


def create_app() -> Api:
    api = Api(
        title="wacast",
        version="0.1.0",
        description="WhatsApp campaigns: paced, retried, never sent twice, tracked to read.",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    install_error_handlers(api)
    return api


app = create_app()
_mangum = Mangum(app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response: dict[str, Any] = _mangum(event, context)
    return response
