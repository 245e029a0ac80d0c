"""The composition roots: the only place that picks concrete adapters.

One build function per deployable, each building only what that deployable uses, from its own
settings (`wacast.settings`): `build_api`, `build_dispatcher`, `build_events`, `build_dlq`, `build_counters`,
`build_files` and `build_session_host` (and `build_webhooks`). Only the api reads the JWT signing secret. Each
entrypoint caches its root (cold start); tests build roots against moto from the environment template.yaml gives
each resource.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wacast.bootstrap.api import ApiServices, build_api, build_registration
    from wacast.bootstrap.counters import CountersServices, build_counters
    from wacast.bootstrap.dispatcher import DispatcherServices, build_dispatcher
    from wacast.bootstrap.dlq import DlqServices, build_dlq
    from wacast.bootstrap.events import EventsServices, build_events
    from wacast.bootstrap.files import FilesServices, build_files
    from wacast.bootstrap.host import SessionHostServices, build_session_host
    from wacast.bootstrap.webhooks import WebhooksServices, build_webhooks

#: Each name and the root module that defines it. A root is imported when one of its names is first
#: read, so a deployable loads its own root and none of the others' adapters and services (cold start).
#: The entrypoints import their root module directly (`wacast.bootstrap.dispatcher`...).
_ROOTS = {
    "ApiServices": "api",
    "build_api": "api",
    "build_registration": "api",
    "CountersServices": "counters",
    "build_counters": "counters",
    "DispatcherServices": "dispatcher",
    "build_dispatcher": "dispatcher",
    "DlqServices": "dlq",
    "build_dlq": "dlq",
    "EventsServices": "events",
    "build_events": "events",
    "FilesServices": "files",
    "build_files": "files",
    "SessionHostServices": "host",
    "build_session_host": "host",
    "WebhooksServices": "webhooks",
    "build_webhooks": "webhooks",
}


def __getattr__(name: str) -> Any:
    root = _ROOTS.get(name)
    if root is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{root}"), name)


__all__ = [
    "ApiServices",
    "CountersServices",
    "build_counters",
    "DispatcherServices",
    "DlqServices",
    "EventsServices",
    "FilesServices",
    "SessionHostServices",
    "build_api",
    "build_registration",
    "build_dispatcher",
    "build_dlq",
    "build_events",
    "build_files",
    "build_session_host",
    "WebhooksServices",
    "build_webhooks",
]
