"""Metrics from a long-running process (the session host): aggregated in memory, sent with
PutMetricData once a minute. Lambda functions use EMF on stdout instead."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from wacast.observability import NAMESPACE, logger

_Key = tuple[str, str, tuple[tuple[str, str], ...]]


class CloudWatchMetricsSink:
    """A MetricsSink that batches data points into statistic sets and flushes them periodically."""

    def __init__(self, client: Any, namespace: str = NAMESPACE, flush_every: float = 60.0) -> None:
        self.client = client
        self.namespace = namespace
        self.flush_every = flush_every
        self._stats: dict[_Key, list[float]] = defaultdict(list)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metrics-flush", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.flush()

    def put(self, name: str, value: float, unit: str, dimensions: dict[str, str]) -> None:
        with self._lock:
            self._stats[(name, unit, tuple(sorted(dimensions.items())))].append(value)

    def flush(self) -> None:
        with self._lock:
            stats, self._stats = self._stats, defaultdict(list)
        data = [
            {
                "MetricName": name,
                "Unit": unit,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims],
                "Timestamp": datetime.now(UTC),
                "StatisticValues": {
                    "SampleCount": float(len(values)),
                    "Sum": float(sum(values)),
                    "Minimum": float(min(values)),
                    "Maximum": float(max(values)),
                },
            }
            for (name, unit, dims), values in stats.items()
        ]
        for start in range(0, len(data), 500):  # PutMetricData takes up to 1000 data points
            try:
                self.client.put_metric_data(Namespace=self.namespace, MetricData=data[start : start + 500])
            except (ClientError, BotoCoreError):
                logger.exception("could not put metrics; dropping this minute's data points")

    def _run(self) -> None:
        while not self._stop.wait(self.flush_every):
            self.flush()
