"""The session host's CloudWatch sink sends raw values, so the dashboard can show percentiles."""

from __future__ import annotations

import threading
from typing import Any

from botocore.exceptions import ClientError

from wacast.adapters.cloudwatch import CloudWatchMetricsSink

LATENCY_DIMS = {"Driver": "neonize", "service": "wacast"}


class RecordingCloudWatch:
    """A stand-in for the boto3 CloudWatch client: keeps every put_metric_data call, can fail some."""

    def __init__(self, fail_calls: tuple[int, ...] = ()) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail_calls = fail_calls
        self.called = threading.Event()

    def put_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        self.called.set()
        if len(self.calls) in self.fail_calls:
            raise ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "PutMetricData")
        return {}

    @property
    def data(self) -> list[dict[str, Any]]:
        return [datum for call in self.calls for datum in call["MetricData"]]


def _sink(client: RecordingCloudWatch) -> CloudWatchMetricsSink:
    return CloudWatchMetricsSink(client, namespace="Test", flush_every=3600)


def _points(datum: dict[str, Any]) -> dict[float, float]:
    return dict(zip(datum["Values"], datum["Counts"], strict=True))


def test_a_minute_of_latencies_goes_out_as_raw_values_cloudwatch_can_take_percentiles_of() -> None:
    # given
    client = RecordingCloudWatch()
    sink = _sink(client)
    latencies = [0.8, 1.2, 3.5, 0.4, 9.9]
    # when
    for latency in latencies:
        sink.put("SendLatency", latency, "Seconds", LATENCY_DIMS)
    sink.flush()
    # then
    [call] = client.calls
    assert call["Namespace"] == "Test"
    [datum] = call["MetricData"]
    assert "StatisticValues" not in datum
    assert datum["MetricName"] == "SendLatency"
    assert datum["Unit"] == "Seconds"
    assert sorted(datum["Values"]) == sorted(latencies)
    assert sum(datum["Counts"]) == len(latencies)


def test_identical_values_are_merged_with_their_count() -> None:
    client = RecordingCloudWatch()
    sink = _sink(client)
    for _ in range(7):
        sink.put("MessagesSent", 1, "Count", {"Driver": "neonize"})
    sink.put("SendLatency", 2.0, "Seconds", LATENCY_DIMS)
    sink.put("SendLatency", 2.0, "Seconds", LATENCY_DIMS)
    sink.put("SendLatency", 5.0, "Seconds", LATENCY_DIMS)
    sink.flush()

    by_name = {datum["MetricName"]: datum for datum in client.data}
    assert _points(by_name["MessagesSent"]) == {1.0: 7.0}
    assert _points(by_name["SendLatency"]) == {2.0: 2.0, 5.0: 1.0}


def test_more_than_150_distinct_values_are_split_into_several_data_of_the_same_metric() -> None:
    client = RecordingCloudWatch()
    sink = _sink(client)
    for i in range(400):
        sink.put("SendLatency", i / 100, "Seconds", LATENCY_DIMS)
    sink.put("SendLatency", 0.0, "Seconds", LATENCY_DIMS)  # a duplicate: 400 distinct, 401 points
    sink.flush()

    data = client.data
    assert [len(d["Values"]) for d in data] == [150, 150, 100]
    assert {d["MetricName"] for d in data} == {"SendLatency"}
    assert all(d["Dimensions"] == data[0]["Dimensions"] for d in data)
    assert sum(sum(d["Counts"]) for d in data) == 401
    assert len({v for d in data for v in d["Values"]}) == 400


def test_dimensions_are_kept_and_each_combination_is_its_own_datum() -> None:
    client = RecordingCloudWatch()
    sink = _sink(client)
    sink.put("MessagesSent", 1, "Count", {"service": "wacast", "Driver": "neonize"})
    sink.put("MessagesSent", 1, "Count", {"Driver": "webjs", "service": "wacast"})
    sink.put("MessagesSent", 1, "Count", {"Driver": "neonize", "service": "wacast"})
    sink.flush()

    dims = {tuple((d["Name"], d["Value"]) for d in datum["Dimensions"]): sum(datum["Counts"]) for datum in client.data}
    assert dims == {
        (("Driver", "neonize"), ("service", "wacast")): 2,
        (("Driver", "webjs"), ("service", "wacast")): 1,
    }


def test_many_metrics_are_spread_over_several_requests_each_well_within_the_limits() -> None:
    client = RecordingCloudWatch()
    sink = _sink(client)
    for sender in range(45):
        for i in range(200):
            sink.put("SendLatency", i / 10, "Seconds", {"Sender": f"s{sender}"})
    sink.flush()

    assert len(client.calls) > 1
    assert all(len(call["MetricData"]) <= 20 for call in client.calls)
    assert all(len(datum["Values"]) <= 150 for datum in client.data)
    assert sum(sum(datum["Counts"]) for datum in client.data) == 45 * 200


def test_a_failing_request_is_logged_and_dropped_without_stopping_the_rest() -> None:
    client = RecordingCloudWatch(fail_calls=(1,))
    sink = _sink(client)
    for sender in range(30):
        sink.put("MessagesSent", 1, "Count", {"Sender": f"s{sender}"})

    sink.flush()  # the first request raises: nothing propagates

    assert len(client.calls) == 2
    sink.flush()  # the failed data points are not sent again
    assert len(client.calls) == 2


def test_a_client_error_of_any_kind_does_not_reach_the_caller() -> None:
    class Broken:
        def put_metric_data(self, **kwargs: Any) -> None:
            raise RuntimeError("connection reset")

    sink = CloudWatchMetricsSink(Broken(), flush_every=3600)
    sink.put("MessagesSent", 1, "Count", {})
    sink.flush()


def test_values_cloudwatch_would_reject_are_left_out() -> None:
    client = RecordingCloudWatch()
    sink = _sink(client)
    sink.put("SendLatency", float("nan"), "Seconds", LATENCY_DIMS)
    sink.put("SendLatency", float("inf"), "Seconds", LATENCY_DIMS)
    sink.put("SendLatency", 1.5, "Seconds", LATENCY_DIMS)
    sink.flush()

    [datum] = client.data
    assert _points(datum) == {1.5: 1.0}


def test_nothing_collected_sends_nothing() -> None:
    client = RecordingCloudWatch()
    _sink(client).flush()
    assert client.calls == []


def test_stop_flushes_what_is_left() -> None:
    client = RecordingCloudWatch()
    sink = _sink(client)
    sink.start()
    sink.put("MessagesSent", 1, "Count", {})
    sink.stop()
    assert len(client.data) == 1


def test_the_flush_thread_sends_periodically() -> None:
    client = RecordingCloudWatch()
    sink = CloudWatchMetricsSink(client, flush_every=0.01)
    sink.put("MessagesSent", 1, "Count", {})
    sink.start()
    try:
        assert client.called.wait(timeout=10)
    finally:
        sink.stop()
    assert sum(sum(datum["Counts"]) for datum in client.data) == 1


def test_the_session_hosts_call_still_builds_a_minutely_sink_in_the_wacast_namespace() -> None:
    client = RecordingCloudWatch()
    sink = CloudWatchMetricsSink(client)  # as session_host/__main__.py builds it
    sink.put("MessagesSent", 1, "Count", {})
    sink.flush()
    assert sink.flush_every == 60.0
    assert client.calls[0]["Namespace"] == "Wacast"
