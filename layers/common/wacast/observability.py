"""One neutral place for the Powertools logger, metrics and tracer used by every deployable, and the two
ways the code reaches them: `emit()` for a business metric, `log_keys()` for the correlation keys of a
request or of a message's path."""

from __future__ import annotations

import functools
import json
import numbers
import os
import threading
import warnings
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Protocol, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

NAMESPACE = "Wacast"

logger = Logger(service="wacast")
metrics = Metrics(namespace=NAMESPACE, service="wacast")
# An invocation without a business metric (most API requests) is normal: no warning for it at each flush.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


class _UntracedSegment(BaseSegment):
    """The subsegment of a tracer that traces nothing: every call is a no-op."""

    def close(self, end_time: int | None = None) -> None: ...
    def add_subsegment(self, subsegment: Any) -> None: ...
    def remove_subsegment(self, subsegment: Any) -> None: ...
    def put_annotation(self, key: str, value: str | numbers.Number | bool) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None: ...


class UntracedProvider(BaseProvider):
    """Powertools' tracer provider where tracing is off (the session host on ECS, the local stack, tests).
    Powertools' default, X-Ray's recorder, is imported even then, and outside Lambda its sampler opens a botocore
    session and client of its own at import (~20 MB, ~100 ms): this one records nothing and imports nothing."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[BaseSegment]:
        yield _UntracedSegment()

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncIterator[BaseSegment]:
        yield _UntracedSegment()

    def put_annotation(self, key: str, value: str | numbers.Number | bool) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def patch(self, modules: Sequence[str]) -> None: ...
    def patch_all(self) -> None: ...


def _tracer() -> Tracer:
    """On Lambda (Tracing: Active), X-Ray's tracer with only botocore patched: every AWS call, PynamoDB's
    included, goes through its clients (X-Ray's default list would also import httpx and sqlite3 into every
    function at cold start, and trace each DynamoDB call twice). Where Powertools turns tracing off, a
    tracer on `UntracedProvider`."""
    if Tracer._is_tracer_disabled():
        return Tracer(service="wacast", disabled=True, provider=UntracedProvider())
    return Tracer(service="wacast", patch_modules=["botocore"])


tracer = _tracer()

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
SENDER_PAUSED = "SenderPaused"  # the account-safety governor paused a sender (the reason is on the sender)
BATCH_ITEM_FAILURES = "BatchItemFailures"
REPLIES_RECEIVED = "RepliesReceived"
WEBHOOK_DELIVERIES = "WebhookDeliveries"  # by Outcome: delivered, retried, dead, refused

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
    SENDER_PAUSED,
    BATCH_ITEM_FAILURES,
    REPLIES_RECEIVED,
    WEBHOOK_DELIVERIES,
)


SERVICE_DIMENSION = {"service": "wacast"}


class MetricsSink(Protocol):
    def put(self, name: str, value: float, unit: str, dimensions: dict[str, str]) -> None: ...


_EMF_LOCK = threading.Lock()


class EmfSink:
    """Embedded metric format on stdout: what Lambda's CloudWatch Logs turns into metrics. For the Lambda
    functions, whose handlers flush with `@metrics.log_metrics` (a long-running process sets its own sink).

    One EMF document has one dimension set. A metric with only the `service` dimension joins the
    invocation's document (`metrics`, flushed once by the handler's `@metrics.log_metrics`); a metric with
    dimensions of its own (MessagesSent by Driver, MessagesFailed by Reason...) is a document of its own
    (`single_metric`), so it never lends its dimensions to the others. Powertools' metric set is not
    thread-safe (the events function applies a batch's receipts on several threads): one put at a time."""

    def put(self, name: str, value: float, unit: str, dimensions: dict[str, str]) -> None:
        if dimensions == SERVICE_DIMENSION:
            with _EMF_LOCK:
                metrics.add_metric(name=name, unit=MetricUnit(unit), value=value)
            return
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


# -- correlation keys -------------------------------------------------------------------------------------

R = TypeVar("R")
T = TypeVar("T")


@contextmanager
def log_keys(**keys: object) -> Iterator[None]:
    """Correlation keys (message_id, campaign_id...) on every log line this thread writes in the block, and
    on no other thread's: Powertools' `append_keys` are shared by all the threads of a process, and the
    session host sends on several lanes at once. Keys given None are left out; a key the block shadowed
    gets its outer value back."""
    given = {key: value for key, value in keys.items() if value is not None}
    current = logger.thread_safe_get_current_keys()
    outer = {key: current[key] for key in given if key in current}
    logger.thread_safe_append_keys(**given)
    try:
        yield
    finally:
        logger.thread_safe_remove_keys(given)
        if outer:
            logger.thread_safe_append_keys(**outer)


def log_keys_from_body(*fields: str) -> Callable[[Callable[[R], T]], Callable[[R], T]]:
    """Decorates an SQS record handler: the named fields of the record's body (a model, a mapping or JSON
    text; a field the body lacks is left out) are on every log line of that record's handling."""

    def decorate(handler: Callable[[R], T]) -> Callable[[R], T]:
        @functools.wraps(handler)
        def handle(record: R) -> T:
            with log_keys(**_fields_of(getattr(record, "body", None), fields)):
                return handler(record)

        return handle

    return decorate


def _fields_of(body: object, fields: tuple[str, ...]) -> dict[str, object]:
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return {}
    if isinstance(body, Mapping):
        return {field: body.get(field) for field in fields}
    return {field: getattr(body, field, None) for field in fields}
