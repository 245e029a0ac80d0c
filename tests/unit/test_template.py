"""template.yaml says what the code needs: DLQs everywhere, safe visibility timeouts, partial batch
failures, and a dashboard that shows exactly the metrics the code emits."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from local.template import ROOT, translate
from wacast import observability as obs


@cache
def cfn() -> dict[str, Any]:
    return translate()


def resources(kind: str) -> dict[str, Any]:
    return {k: v for k, v in cfn()["Resources"].items() if v["Type"] == kind}


def test_every_work_queue_has_its_own_dlq_with_the_receive_count_parameter() -> None:
    queues = resources("AWS::SQS::Queue")
    work = {k: v for k, v in queues.items() if not k.endswith("DLQ")}
    assert set(work) == {"CampaignsQueue", "OutboxQueue", "EventsQueue", "ControlQueue", "FilesQueue", "WebhooksQueue"}
    targets = set()
    for name, queue in work.items():
        policy = queue["Properties"]["RedrivePolicy"]
        if name == "WebhooksQueue":  # its receive count is the attempt number: the DLQ comes after the last try
            from wacast.settings import WebhooksSettings

            last_try = WebhooksSettings.model_fields["webhook_max_attempts"].default
            assert last_try < policy["maxReceiveCount"] <= last_try + 5
        else:
            assert policy["maxReceiveCount"] == {"Ref": "MaxReceiveCount"}
        targets.add(policy["deadLetterTargetArn"]["Fn::GetAtt"][0])
    assert len(targets) == 6 and targets <= set(queues)
    assert cfn()["Parameters"]["MaxReceiveCount"]["Default"] == 3


def test_lambda_consumed_queues_have_visibility_of_six_times_the_function_timeout() -> None:
    functions = resources("AWS::Lambda::Function")
    queues = cfn()["Resources"]
    for mapping in resources("AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        source, attribute = props["EventSourceArn"]["Fn::GetAtt"]
        if attribute == "StreamArn":  # the counters function: a whole batch exactly once, retried unchanged
            assert "FunctionResponseTypes" not in props and props["BisectBatchOnFunctionError"] is False
            assert props["MaximumRetryAttempts"] == -1 and props["ParallelizationFactor"] == 1
            continue
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        timeout = functions[props["FunctionName"]["Ref"]]["Properties"]["Timeout"]
        queue = queues[source]
        assert queue["Properties"]["VisibilityTimeout"] >= 6 * timeout


def test_the_outbox_visibility_outlasts_a_send_lease() -> None:
    from wacast.settings import SessionHostSettings

    outbox = cfn()["Resources"]["OutboxQueue"]["Properties"]
    assert outbox["VisibilityTimeout"] > SessionHostSettings.model_fields["lease_seconds"].default


def test_the_table_has_pitr_ttl_and_on_demand_billing() -> None:
    table = cfn()["Resources"]["Table"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    indexes = {i["IndexName"]: i["Projection"]["ProjectionType"] for i in table["GlobalSecondaryIndexes"]}
    # the messages' own indexes hold keys only: a status change rewrites no index entry
    assert indexes == {"gsi1": "ALL", "gsi4": "KEYS_ONLY", "gsi6": "KEYS_ONLY"}
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}  # the counters function reads it


def test_the_session_host_service_runs_one_task_and_accepts_no_inbound_traffic() -> None:
    service = cfn()["Resources"]["SessionHostService"]["Properties"]
    assert service["DesiredCount"] == 1
    assert service["DeploymentConfiguration"]["MaximumPercent"] == 100  # never two hosts on one session
    group = cfn()["Resources"]["SessionHostSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in group
    containers = cfn()["Resources"]["SessionHostTask"]["Properties"]["ContainerDefinitions"]
    assert {c["Name"] for c in containers} == {"session-host", "webjs"}


def _dashboard_metrics() -> set[tuple[str, frozenset[str]]]:
    body = cfn()["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    text = re.sub(r"\$\{[^}]+\}", "x", body)
    found: set[tuple[str, frozenset[str]]] = set()
    for widget in json.loads(text)["widgets"]:
        for row in widget["properties"].get("metrics", []):
            if isinstance(row[0], dict):  # SEARCH('{Namespace,dim,...} MetricName="X"')
                match = re.search(r"\{Wacast,([^}]*)\} MetricName=\"(\w+)\"", row[0]["expression"])
                assert match, row
                found.add((match.group(2), frozenset(match.group(1).split(","))))
            else:
                assert row[0] == "Wacast"
                names = [x for x in row[2:] if isinstance(x, str)][::2]
                found.add((row[1], frozenset(names)))
    return found


def test_the_dashboard_shows_exactly_the_metrics_the_code_emits() -> None:
    shown = _dashboard_metrics()
    assert {name for name, _ in shown} == set(obs.ALL_METRICS)
    dimensions = dict(shown)
    assert dimensions[obs.MESSAGES_SENT] == {"Driver", "service"}
    assert dimensions[obs.MESSAGES_FAILED] == {"Reason", "service"}
    assert dimensions[obs.BATCH_ITEM_FAILURES] == {"Function", "service"}
    assert dimensions[obs.WEBHOOK_DELIVERIES] == {"Outcome", "service"}
    per_kind = (obs.MESSAGES_SENT, obs.MESSAGES_FAILED, obs.BATCH_ITEM_FAILURES, obs.WEBHOOK_DELIVERIES)
    assert all(dims == {"service"} for name, dims in shown if name not in per_kind)


def test_emitted_metrics_carry_the_dimensions_the_dashboard_expects() -> None:
    sink = obs.MemorySink()
    obs.set_metrics_sink(sink)
    try:
        obs.emit(obs.MESSAGES_SENT, Driver="neonize")
        obs.emit(obs.DELIVERED)
    finally:
        obs.set_metrics_sink(None)
    assert {(n, frozenset(d)) for n, _, _, d in sink.points} <= _dashboard_metrics()


def test_alarms_fire_on_every_dlq_the_outbox_age_function_errors_api_5xx_and_failed_batch_items() -> None:
    alarms = resources("AWS::CloudWatch::Alarm")
    mappings = resources("AWS::Lambda::EventSourceMapping").values()
    drained = {m["Properties"]["EventSourceArn"]["Fn::GetAtt"][0] for m in mappings}
    by_queue = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]: a["Properties"]["MetricName"]
        for a in alarms.values()
        if a["Properties"].get("Namespace") == "AWS/SQS"
        and a["Properties"]["MetricName"] != "ApproximateAgeOfOldestMessage"
    }
    dlqs = {k for k in resources("AWS::SQS::Queue") if k.endswith("DLQ")}
    assert set(by_queue) == dlqs
    for queue, metric in by_queue.items():
        # a DLQ the dlq function drains at once never shows visible messages: alarm on what it received
        expected = "NumberOfMessagesReceived" if queue in drained else "ApproximateNumberOfMessagesVisible"
        assert metric == expected, queue
    assert any(a["Properties"].get("MetricName") == "ApproximateAgeOfOldestMessage" for a in alarms.values())
    errors = alarms["FunctionErrorsAlarm"]["Properties"]["Metrics"]
    assert {m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"] for m in errors if "MetricStat" in m} == set(
        resources("AWS::Lambda::Function")
    )
    api = alarms["ApiServerErrorsAlarm"]["Properties"]
    assert (api["Namespace"], api["MetricName"], api["Dimensions"][0]["Value"]) == (
        "AWS/ApiGateway",
        "5xx",
        {"Ref": "HttpApi"},
    )
    batch = alarms["BatchItemFailuresAlarm"]["Properties"]["Metrics"]
    watched = {
        {d["Name"]: d["Value"] for d in m["MetricStat"]["Metric"]["Dimensions"]}["Function"]
        for m in batch
        if "MetricStat" in m and m["MetricStat"]["Metric"]["MetricName"] == obs.BATCH_ITEM_FAILURES
    }
    assert watched == {"dispatcher", "events", "dlq", "files"}  # the names functions/*/app.py pass to consume()
    for name in watched:
        assert f'function="{name}"' in (ROOT / f"functions/{name}/app.py").read_text()


def test_the_files_bucket_is_private_encrypted_tls_only_and_forgets_uploads() -> None:
    bucket = cfn()["Resources"]["FilesBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values()) and len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    rules = {r.get("Prefix"): r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["uploads/"]["ExpirationInDays"] <= 7 and rules["exports/"]["ExpirationInDays"] <= 7
    cors = bucket["CorsConfiguration"]["CorsRules"][0]
    assert "PUT" in cors["AllowedMethods"] and "content-type" in cors["AllowedHeaders"]
    (deny,) = cfn()["Resources"]["FilesBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
