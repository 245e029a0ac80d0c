"""The counters function's root: message status changes from the table's stream, applied to the counters.
It reads no secret."""

from __future__ import annotations

from dataclasses import dataclass

from wacast.adapters.clock import SystemClock
from wacast.adapters.dynamo.campaigns import DynamoCampaignStates
from wacast.adapters.dynamo.counters import DynamoCounterLedger
from wacast.bootstrap.shared import bind
from wacast.ports import Clock
from wacast.services.counters import CountersService
from wacast.settings import CountersSettings


@dataclass
class CountersServices:
    """Applies message status changes from the table's stream to the counters."""

    settings: CountersSettings
    counters: CountersService


def build_counters(settings: CountersSettings, *, clock: Clock | None = None) -> CountersServices:
    bind(settings)
    return CountersServices(
        settings, CountersService(DynamoCounterLedger(), DynamoCampaignStates(), clock or SystemClock())
    )
