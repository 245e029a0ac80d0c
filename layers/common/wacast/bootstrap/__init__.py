"""The composition roots: the only place that picks concrete adapters.

One build function per deployable, each building only what that deployable uses, from its own
settings (`wacast.settings`): `build_api`, `build_dispatcher`, `build_events`, `build_dlq` and
`build_session_host`. Only the api reads the JWT signing secret. Each entrypoint caches its root
(cold start); tests build roots against moto from the environment template.yaml gives each resource.
"""

from wacast.bootstrap.api import ApiServices, build_api, build_registration
from wacast.bootstrap.consumers import (
    DispatcherServices,
    DlqServices,
    EventsServices,
    build_dispatcher,
    build_dlq,
    build_events,
)
from wacast.bootstrap.host import SessionHostServices, build_session_host

__all__ = [
    "ApiServices",
    "DispatcherServices",
    "DlqServices",
    "EventsServices",
    "SessionHostServices",
    "build_api",
    "build_registration",
    "build_dispatcher",
    "build_dlq",
    "build_events",
    "build_session_host",
]
