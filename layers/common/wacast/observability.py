"""One neutral place for the Powertools logger, metrics and tracer used by every deployable."""

from __future__ import annotations

import os
import threading
from typing import Protocol

from aws_lambda_powertools import Logger, Metrics, Tracer

NAMESPACE = "Wacast"

logger = Logger(service="wacast")
metrics = Metrics(namespace=NAMESPACE, service="wacast")
tracer = Tracer(service="wacast")

# Metric names: the dashboard in template.yaml shows exactly these (a test checks it).
MESSAGES_SENT = "MessagesSent"
FALLBACK_USED = "FallbackUsed"
MESSAGES_FAILED = "MessagesFailed"
MESSAGES_DEFERRED = "MessagesDeferred"
MESSAGES_UNKNOWN = "MessagesUnknown"
DELIVERED = "Delivered"
READ = "Read"
SEND_LATENCY = "SendLatency"
SENDER_CIRCUIT_OPEN = "SenderCircuitOpen"
BATCH_ITEM_FAILURES = "BatchItemFailures"

ALL_METRICS = (
    MESSAGES_SENT,
    FALLBACK_USED,
    MESSAGES_FAILED,
    MESSAGES_DEFERRED,
    MESSAGES_UNKNOWN,
    DELIVERED,
    READ,
    SEND_LATENCY,
    SENDER_CIRCUIT_OPEN,
    BATCH_ITEM_FAILURES,
)


SERVICE_DIMENSION = {"service": "wacast"}


class MetricsSink(Protocol):
    def put(self, name: str, value: float, unit: str, dimensions: dict[str, str]) -> None: ...


class EmfSink:
    """Embedded metric format on stdout: what Lambda's CloudWatch Logs turns into metrics."""

    def put(self, name: str, value: float, unit: str, dimensions: dict[str, str]) -> None:
        from aws_lambda_powertools.metrics import MetricUnit, single_metric

        with single_metric(name=name, unit=MetricUnit(unit), value=value, namespace=NAMESPACE) as metric:
            for key, dim_value in dimensions.items():
                metric.add_dimension(name=key, value=dim_value)


class MemorySink:
    """Keeps every data point: for tests, benchmarks and the local stack's counters."""

    def __init__(self) -> None:
        self.points: list[tuple[str, float, str, dict[str, str]]] = []
        self._lock = threading.Lock()

    def put(self, name: str, value: float, unit: str, dimensions: dict[str, str]) -> None:
        with self._lock:
            self.points.append((name, value, unit, dict(dimensions)))

    def total(self, name: str, **dimensions: str) -> float:
        with self._lock:
            return sum(
                v for n, v, _, d in self.points if n == name and all(d.get(k) == x for k, x in dimensions.items())
            )


_sink: MetricsSink | None = None


def set_metrics_sink(sink: MetricsSink | None) -> None:
    """Choose where metrics go (the session host sends them with PutMetricData; tests keep them)."""
    global _sink
    _sink = sink


def _current_sink() -> MetricsSink | None:
    if _sink is not None:
        return _sink
    if os.getenv("POWERTOOLS_METRICS_DISABLED", "false").lower() in ("1", "true", "yes"):
        return None
    return EmfSink()


def emit(name: str, value: float = 1, unit: str = "Count", **dimensions: str) -> None:
    """Emit one business metric with its own dimensions (e.g. MessagesSent by Driver), plus `service`."""
    sink = _current_sink()
    if sink is not None:
        sink.put(name, value, unit, {**dimensions, **SERVICE_DIMENSION})
