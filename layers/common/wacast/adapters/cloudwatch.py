"""Metrics from a long-running process (the session host): collected in memory, sent with
PutMetricData once a minute. Lambda functions use EMF on stdout instead.

Data points go out as raw values (`Values` + `Counts`), not statistic sets, so that CloudWatch can
compute percentiles (the dashboard's SendLatency p50/p99) from them."""

from __future__ import annotations

import math
import threading
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

from wacast.observability import NAMESPACE, logger

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.literals import StandardUnitType
    from mypy_boto3_cloudwatch.type_defs import MetricDatumTypeDef

_Key = tuple[str, str, tuple[tuple[str, str], ...]]

MAX_VALUES_PER_DATUM = 150  # PutMetricData: at most 150 distinct values in one MetricDatum
DATA_PER_REQUEST = 20  # well under the 1,000 data and 1 MB per request, even with 150 values each


class CloudWatchMetricsSink:
    """A MetricsSink that keeps each minute's data points and flushes them as raw values (percentile-capable)."""

    def __init__(self, client: CloudWatchClient, namespace: str = NAMESPACE, flush_every: float = 60.0) -> None:
        self.client = client
        self.namespace = namespace
        self.flush_every = flush_every
        self._points: defaultdict[_Key, Counter[float]] = defaultdict(Counter)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metrics-flush", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self.flush()

    def put(self, name: str, value: float, unit: str, dimensions: dict[str, str]) -> None:
        if not math.isfinite(value):  # CloudWatch rejects the whole request for one NaN or infinity
            logger.warning("dropping a metric value CloudWatch cannot take", metric=name, value=str(value))
            return
        with self._lock:
            self._points[(name, unit, tuple(sorted(dimensions.items())))][float(value)] += 1

    def flush(self) -> None:
        """Send what was collected since the last flush. A failed request is logged and its data dropped."""
        with self._lock:
            points, self._points = self._points, defaultdict(Counter)
        data = self._metric_data(points, datetime.now(UTC))
        for start in range(0, len(data), DATA_PER_REQUEST):
            batch = data[start : start + DATA_PER_REQUEST]
            try:
                self.client.put_metric_data(Namespace=self.namespace, MetricData=batch)
            except Exception:  # never let metrics kill the flush thread or the caller of stop()
                logger.exception("could not put metrics; dropping these data points", data=len(batch))

    @staticmethod
    def _metric_data(points: dict[_Key, Counter[float]], timestamp: datetime) -> list[MetricDatumTypeDef]:
        """One MetricDatum per metric and dimensions, split in chunks of at most 150 distinct values."""
        data: list[MetricDatumTypeDef] = []
        for (name, unit, dims), counts in points.items():
            values = sorted(counts)
            for start in range(0, len(values), MAX_VALUES_PER_DATUM):
                chunk = values[start : start + MAX_VALUES_PER_DATUM]
                data.append(
                    {
                        "MetricName": name,
                        "Unit": cast("StandardUnitType", unit),  # the emitters use CloudWatch units
                        "Dimensions": [{"Name": k, "Value": v} for k, v in dims],
                        "Timestamp": timestamp,
                        "Values": chunk,
                        "Counts": [float(counts[value]) for value in chunk],
                    }
                )
        return data

    def _run(self) -> None:
        while not self._stop.wait(self.flush_every):
            self.flush()
