"""From the meters' counts (local/meter.py) to figures per message, priced with bench/prices.json.

Per message means: the calls every deployable made between just before a campaign was created and the
moment its last message was READ and every queue was drained, divided by the campaign's messages. The
bench's own looks (its stats polls, tagged x-bench-probe) are not counted. Empty receives (long polls
that found nothing) depend on idle time, not on messages: they are reported apart and not priced. So is
what runs whether messages flow or not: the session host's Fargate task and its PutMetricData (once a
minute), priced per month in `fixed_monthly`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import Rows

PRICES = Path(__file__).with_name("prices.json")
BASELINE = Path(__file__).with_name("baseline.json")


def load_prices(path: Path = PRICES) -> dict[str, Any]:
    prices: dict[str, Any] = json.loads(path.read_text())
    return prices


def unit_price(prices: dict[str, Any], name: str) -> float:
    entry = prices[name]
    return float(entry["usd"]) / float(entry["per"])


@dataclass
class PerMessage:
    messages: int
    write_units: float = 0.0  # the table's own
    gsi_write_units: float = 0.0
    read_units: float = 0.0
    sqs: dict[str, float] = field(default_factory=dict)  # billed requests per queue (short name)
    sqs_empty: dict[str, float] = field(default_factory=dict)  # empty receives: reported, not priced
    invocations: dict[str, float] = field(default_factory=dict)  # Lambda invocations per function
    gb_seconds: dict[str, float] = field(default_factory=dict)  # Lambda GB-s per function
    api_requests: float = 0.0
    put_metric_data: float = 0.0
    log_bytes: dict[str, float] = field(default_factory=dict)
    other_calls: dict[str, float] = field(default_factory=dict)

    @property
    def all_write_units(self) -> float:
        return self.write_units + self.gsi_write_units

    @property
    def sqs_requests(self) -> float:
        return sum(self.sqs.values())

    @property
    def lambda_gb_seconds(self) -> float:
        return sum(self.gb_seconds.values())

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PerMessage:
        return cls(**data)


def per_message(
    diff: dict[str, Rows], messages: int, queues: dict[str, str], memory_mb: dict[str, int], logs: dict[str, int]
) -> PerMessage:
    """`queues`: physical queue name -> short name; `memory_mb`: each function's MemorySize."""
    pm = PerMessage(messages)
    sqs: dict[str, float] = defaultdict(float)
    empty: dict[str, float] = defaultdict(float)
    other: dict[str, float] = defaultdict(float)
    for rows in diff.values():
        for (bucket, service, operation, target, _site), f in rows.items():
            if bucket != "run":
                continue
            if service == "dynamodb":
                pm.write_units += f.get("wu", 0.0)
                pm.gsi_write_units += f.get("wu_gsi", 0.0)
                pm.read_units += f.get("ru", 0.0)
            elif service == "sqs":
                name = queues.get(target, target)
                if operation == "ReceiveMessage(empty)":
                    empty[name] += f["calls"]
                else:
                    sqs[name] += f.get("billable", f["calls"])
            elif service == "lambda":
                pm.invocations[target] = pm.invocations.get(target, 0.0) + f["calls"]
                gbs = f.get("ms", 0.0) / 1000 * memory_mb.get(target, 128) / 1024
                pm.gb_seconds[target] = pm.gb_seconds.get(target, 0.0) + gbs
                if target == "ApiFunction":
                    pm.api_requests += f["calls"]
            elif (service, operation) == ("cloudwatch", "PutMetricData"):
                pm.put_metric_data += f["calls"]
            else:
                other[f"{service}:{operation}"] += f["calls"]
    n = float(messages)
    pm.write_units, pm.gsi_write_units, pm.read_units = pm.write_units / n, pm.gsi_write_units / n, pm.read_units / n
    pm.sqs = {k: v / n for k, v in sorted(sqs.items())}
    pm.sqs_empty = {k: v / n for k, v in sorted(empty.items())}
    pm.invocations = {k: v / n for k, v in sorted(pm.invocations.items())}
    pm.gb_seconds = {k: v / n for k, v in sorted(pm.gb_seconds.items())}
    pm.api_requests /= n
    pm.put_metric_data /= n
    pm.log_bytes = {k: v / n for k, v in sorted(logs.items())}
    pm.other_calls = {k: v / n for k, v in sorted(other.items())}
    return pm


def cost_lines(pm: PerMessage, prices: dict[str, Any]) -> dict[str, float]:
    """USD per 1,000,000 messages, per line of the bill."""
    million = 1_000_000
    return {
        "DynamoDB writes": pm.all_write_units * unit_price(prices, "dynamodb_write_request_unit") * million,
        "DynamoDB reads": pm.read_units * unit_price(prices, "dynamodb_read_request_unit") * million,
        "SQS": pm.sqs_requests * unit_price(prices, "sqs_request") * million,
        "Lambda duration": pm.lambda_gb_seconds * unit_price(prices, "lambda_gb_second_arm64") * million,
        "Lambda requests": sum(pm.invocations.values()) * unit_price(prices, "lambda_request") * million,
        "API Gateway": pm.api_requests * unit_price(prices, "api_gateway_http_request") * million,
        "CloudWatch Logs": sum(pm.log_bytes.values()) * unit_price(prices, "cloudwatch_logs_ingestion") * million,
    }


def row_cost(service: str, f: dict[str, float], memory_mb: int, prices: dict[str, Any]) -> float:
    """USD of one meter row (used to rank where the money goes)."""
    if service == "dynamodb":
        return (f.get("wu", 0) + f.get("wu_gsi", 0)) * unit_price(prices, "dynamodb_write_request_unit") + f.get(
            "ru", 0
        ) * unit_price(prices, "dynamodb_read_request_unit")
    if service == "sqs":
        return f.get("billable", 0) * unit_price(prices, "sqs_request")
    if service == "lambda":
        gbs = f.get("ms", 0) / 1000 * memory_mb / 1024
        return gbs * unit_price(prices, "lambda_gb_second_arm64") + f["calls"] * unit_price(prices, "lambda_request")
    if service == "cloudwatch":
        return f["calls"] * unit_price(prices, "cloudwatch_put_metric_data")
    return 0.0


def biggest(
    diff: dict[str, Rows],
    messages: int,
    memory_mb: dict[str, int],
    prices: dict[str, Any],
    queues: dict[str, str],
    top: int = 6,
) -> dict[str, list[dict[str, Any]]]:
    """Each deployable's costliest calls (from $0.01 per million messages), per message: what to cut first."""
    out: dict[str, list[dict[str, Any]]] = {}
    for deployable, rows in diff.items():
        ranked: list[dict[str, Any]] = []
        for (bucket, service, operation, target, site), f in rows.items():
            if bucket != "run" or operation == "ReceiveMessage(empty)":
                continue
            usd = row_cost(service, f, memory_mb.get(deployable, 128), prices)
            if usd / messages * 1_000_000 < 0.01:
                continue
            ranked.append(
                {
                    "call": f"{service} {operation} {queues.get(target, target)}".strip(),
                    "site": site,
                    "calls": f["calls"] / messages,
                    "items": f.get("items", f.get("messages", 0)) / messages,
                    "wu": f.get("wu", 0) / messages,
                    "wu_gsi": f.get("wu_gsi", 0) / messages,
                    "ru": f.get("ru", 0) / messages,
                    "usd_per_million": usd / messages * 1_000_000,
                }
            )
        out[deployable] = sorted(ranked, key=lambda r: -float(r["usd_per_million"]))[:top]
    return out


def item_sizes(diff: dict[str, Rows]) -> dict[str, dict[str, float]]:
    """Average and largest size (bytes) of each entity as the run wrote it."""
    sizes: dict[str, dict[str, float]] = defaultdict(lambda: {"writes": 0.0, "bytes": 0.0, "max": 0.0})
    for rows in diff.values():
        for (bucket, _service, _op, kind, _site), f in rows.items():
            if bucket == "sizes" and f.get("calls"):
                s = sizes[kind]
                s["writes"] += f["calls"]
                s["bytes"] += f["bytes"]
                s["max"] = max(s["max"], f.get("bytes_max", 0))
    return {k: {"avg": v["bytes"] / v["writes"], "max": v["max"], "writes": v["writes"]} for k, v in sizes.items()}


HOURS_PER_MONTH = 730


def fixed_monthly(template: Any, prices: dict[str, Any], put_metric_data_per_minute: float) -> dict[str, Any]:
    """What the always-on session host costs a month (the ECS service of template.yaml), not per message."""
    task = template.resources["SessionHostTask"]["Properties"]
    service = template.resources["SessionHostService"]["Properties"]
    vcpu, memory_gb, tasks = int(task["Cpu"]) / 1024, int(task["Memory"]) / 1024, int(service["DesiredCount"])
    fargate = (
        tasks
        * HOURS_PER_MONTH
        * (
            vcpu * unit_price(prices, "fargate_arm64_vcpu_hour")
            + memory_gb * unit_price(prices, "fargate_arm64_gb_hour")
        )
    )
    metrics = tasks * put_metric_data_per_minute * 60 * HOURS_PER_MONTH
    return {
        "tasks": tasks,
        "vcpu": vcpu,
        "memory_gb": memory_gb,
        "fargate_usd": fargate,
        "put_metric_data_per_minute": put_metric_data_per_minute,
        "put_metric_data_usd": metrics * unit_price(prices, "cloudwatch_put_metric_data"),
    }


def all_calls(diff: dict[str, Rows], messages: int, queues: dict[str, str]) -> list[dict[str, Any]]:
    """Every call of the run, per message, by deployable, service, operation and target (sites merged)."""
    merged: dict[tuple[str, str, str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for deployable, rows in diff.items():
        for (bucket, service, operation, target, _site), f in rows.items():
            if bucket != "run":
                continue
            row = merged[(deployable, service, operation, queues.get(target, target))]
            for name in ("calls", "items", "wu", "wu_gsi", "ru", "billable", "messages", "ms"):
                row[name] += f.get(name, 0.0)
    return [
        {"deployable": d, "service": s, "operation": o, "target": t, **{k: v / messages for k, v in f.items()}}
        for (d, s, o, t), f in sorted(merged.items())
    ]
