"""The whole local stack (moto, resources from template.yaml, pollers, API, session host), driven over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from local.__main__ import host_factory
from local.stack import LocalStack, StackConfig, free_port
from session_host.drivers.simulated import SimulatedConfig


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    config = StackConfig(
        moto_port=free_port(),
        api_port=free_port(),
        stack_name="wacast-e2e",
        host_factory=host_factory(
            SimulatedConfig(delivered_after_s=(0.2, 0.5), read_after_s=(0.2, 0.5)),
            # stand-ins for the real drivers: a primary failing 5% of sends, a fallback failing 10%
            neonize=SimulatedConfig(seed=11, latency_ms=(1, 5), transient_rate=0.05, read_rate=0.0),
            webjs=SimulatedConfig(seed=12, latency_ms=(1, 5), transient_rate=0.10, read_rate=0.0),
        ),
        env={"DELAY_FAST": "200", "DELAY_BALANCED": "300", "DELAY_SAFE": "500"},
    )
    with LocalStack(config) as running:
        yield running


@pytest.fixture
def api(stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        yield client
