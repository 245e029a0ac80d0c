"""The HTTP API: one FastAPI app, served by Mangum on Lambda and by uvicorn in the local stack."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from fastapi import FastAPI
from mangum import Mangum

from routes import (
    account,
    admin,
    apikeys,
    auth,
    campaigns,
    contact_files,
    contact_imports,
    contacts,
    conversations,
    exports,
    health,
    messages,
    optouts,
    senders,
    templates,
    users,
    webhooks,
)
from routes.errors import install_error_handlers
from wacast.observability import logger, metrics, tracer


def create_app() -> FastAPI:
    api = FastAPI(
        title="wacast",
        version="0.1.0",
        description="WhatsApp campaigns: paced, retried, never sent twice, tracked to read.",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    install_error_handlers(api)
    # /api/contacts/import, /export and /opt-out come before /api/contacts/{contact_id}.
    routers = (
        health,
        auth,
        users,
        apikeys,
        account,
        messages,
        contact_files,
        contact_imports,
        exports,
        optouts,
        contacts,
        templates,
        campaigns,
        senders,
        conversations,
        webhooks,
    )
    for module in (*routers, admin):
        api.include_router(module.router)
    return api


app = create_app()
_mangum = Mangum(app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response: dict[str, Any] = _mangum(event, context)
    return response
