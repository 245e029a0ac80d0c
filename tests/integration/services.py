"""One provisioned stack's five composition roots, seen as a whole by the integration tests.

Each root is built from the environment template.yaml gives its own resource (local/inprocess.py);
this only names, for tests that cross deployables, which root each piece comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local.inprocess import Roots
from wacast.adapters.aws import client
from wacast.adapters.dynamo.contacts import DynamoContactRepository
from wacast.adapters.dynamo.login_attempts import DynamoLoginAttempts
from wacast.adapters.sqs import SqsQueue


@dataclass
class Queues:
    campaigns: SqsQueue
    outbox: SqsQueue
    events: SqsQueue
    control: SqsQueue
    dlqs: dict[str, SqsQueue]


class Repos:
    def __init__(self, roots: Roots) -> None:
        host = roots.host
        self.optouts = host.optouts
        self.pacing_guard = host.pacing_guard
        self.campaign_states = host.campaign_states
        self.contacts = DynamoContactRepository()
        s = roots.api.settings
        self.login_attempts = DynamoLoginAttempts(s.login_max_failures, s.login_window_seconds)


class Services:
    """The api's services, the dispatcher, the events and dlq functions, and the host's repositories."""

    def __init__(self, roots: Roots) -> None:
        self.roots = roots
        api = roots.api
        self.settings = api.settings
        self.clock = api.clock
        for name in (
            "auth",
            "api_keys",
            "account",
            "messaging",
            "contacts",
            "opt_outs",
            "templates",
            "campaigns",
            "schedules",
            "stats",
            "operations",
        ):
            setattr(self, name, getattr(api, name))
        self.dispatcher = roots.dispatcher
        self.dispatch = roots.dispatcher.dispatch
        self.events = roots.events.events
        self.deadletters = roots.dlq.deadletters
        self.host = roots.host
        self.messages = roots.host.messages
        self.senders = roots.host.senders
        self.publisher = roots.host.publisher
        self.repos = Repos(roots)
        s, sqs = api.settings, client("sqs", api.settings.region)
        self.queues = Queues(
            campaigns=SqsQueue(s.campaigns_queue_url, sqs),
            outbox=SqsQueue(s.outbox_queue_url, sqs),
            events=SqsQueue(s.events_queue_url, sqs),
            control=SqsQueue(s.control_queue_url, sqs),
            dlqs={
                "campaigns": SqsQueue(s.campaigns_dlq_url, sqs),
                "outbox": SqsQueue(s.outbox_dlq_url, sqs),
                "events": SqsQueue(s.events_dlq_url, sqs),
                "control": SqsQueue(s.control_dlq_url, sqs),
            },
        )

    def __getattr__(self, name: str) -> Any:  # for mypy: the api's services are set in __init__
        raise AttributeError(name)
