"""The whole local stack driven over HTTP: moto, resources from template.yaml, and each deployable (api,
dispatcher, events, dlq, session host) in a process of its own, with its own environment and role."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from local.__main__ import simulated_host
from local.stack import LocalStack, StackConfig, free_port
from local.template import ROOT
from session_host.drivers.simulated import SimulatedConfig

STATE = ROOT / ".local-state" / "wacast-e2e"


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    ledger = STATE / "simulated-sends.jsonl"
    config = StackConfig(
        moto_port=free_port(),
        api_port=free_port(),
        stack_name="wacast-e2e",
        state=STATE,
        host_args=simulated_host(
            SimulatedConfig(delivered_after_s=(0.2, 0.5), read_after_s=(0.2, 0.5), ledger=ledger),
            # stand-ins for the real drivers: a primary failing 5% of sends, a fallback failing 10%
            neonize=SimulatedConfig(seed=11, latency_ms=(1, 5), transient_rate=0.05, read_rate=0.0, ledger=ledger),
            webjs=SimulatedConfig(seed=12, latency_ms=(1, 5), transient_rate=0.10, read_rate=0.0, ledger=ledger),
        ),
        tuning={"DELAY_FAST": "200", "DELAY_BALANCED": "300", "DELAY_SAFE": "500"},
    )
    with LocalStack(config) as running:
        yield running
        # every deployable ran under its own role: nothing it did was refused
        assert running.denied() == [], running.denied()


@pytest.fixture
def api(stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        yield client
