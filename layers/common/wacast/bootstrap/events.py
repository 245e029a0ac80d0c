"""The events function's root: receipts, incoming messages and sender state from the session host. It reads
no secret."""

from __future__ import annotations

from dataclasses import dataclass

from wacast.adapters.clock import SystemClock
from wacast.adapters.dynamo.accounts import DynamoAccountRepository
from wacast.adapters.dynamo.campaigns import DynamoCampaignStates
from wacast.adapters.dynamo.contacts import DynamoContactRepository
from wacast.adapters.dynamo.conversations import DynamoConversationRepository
from wacast.adapters.dynamo.messages import DynamoMessageRepository
from wacast.adapters.dynamo.optouts import DynamoOptOutRepository
from wacast.bootstrap.shared import bind
from wacast.ports import Clock
from wacast.services.events import EventsService
from wacast.services.optouts import OptOutService
from wacast.services.replies import ReplyService
from wacast.settings import EventsSettings


@dataclass
class EventsServices:
    """Receipts, incoming messages and sender state from the session host."""

    settings: EventsSettings
    events: EventsService


def build_events(settings: EventsSettings, *, clock: Clock | None = None) -> EventsServices:
    bind(settings)
    accounts = DynamoAccountRepository()
    opt_outs = OptOutService(DynamoOptOutRepository(), accounts, clock or SystemClock())
    replies = ReplyService(DynamoConversationRepository(), DynamoContactRepository())
    events = EventsService(DynamoMessageRepository(), opt_outs, accounts, DynamoCampaignStates(), replies)
    return EventsServices(settings, events)
