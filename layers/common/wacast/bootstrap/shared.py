"""Pieces every root uses: the table binding, the pacing presets, a clock."""

from __future__ import annotations

from wacast.adapters.dynamo.table import bind_table
from wacast.domain.pacing import PresetGaps
from wacast.observability import logger
from wacast.settings import DeployableSettings, PacingPresets


def bind(settings: DeployableSettings) -> None:
    """Point the DynamoDB models at the deployable's table (once per process), and name the stage on
    every log line (dev and prod logs can meet in one place)."""
    bind_table(settings.table_name, settings.region)
    logger.append_keys(stage=settings.stage)


def presets_of(settings: PacingPresets) -> PresetGaps:
    return PresetGaps(
        fast_ms=settings.delay_fast_ms, balanced_ms=settings.delay_balanced_ms, safe_ms=settings.delay_safe_ms
    )
