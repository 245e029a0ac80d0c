"""The dlq function's root: settles what the outbox and campaigns DLQs hold. It reads no secret."""

from __future__ import annotations

from dataclasses import dataclass

from wacast.adapters.clock import SystemClock
from wacast.adapters.dynamo.campaigns import DynamoCampaignStates
from wacast.adapters.dynamo.messages import DynamoMessageRepository
from wacast.bootstrap.shared import bind
from wacast.ports import Clock
from wacast.services.deadletters import DeadLetterService
from wacast.settings import DlqSettings


@dataclass
class DlqServices:
    """Settles what the outbox and campaigns DLQs hold."""

    settings: DlqSettings
    deadletters: DeadLetterService


def build_dlq(settings: DlqSettings, *, clock: Clock | None = None) -> DlqServices:
    bind(settings)
    deadletters = DeadLetterService(DynamoMessageRepository(), DynamoCampaignStates(), clock or SystemClock())
    return DlqServices(settings, deadletters)
