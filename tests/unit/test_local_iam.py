"""The local stack refuses what a deployable's role does not allow (local/iam.py), and the template's
roles are least-privilege: each consumer receives only from its own queue, only the api reads the JWT
secret, the scheduler role is passed only to Scheduler, the host's NFS goes only to its file system."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from samtranslator.yaml_helper import yaml_parse

from local.deployables import Deployable, deployables
from local.iam import Account, Need, RoleGuard, is_allowed, requirements
from local.template import TEMPLATE, LocalTemplate

ACCOUNT = Account("us-east-1", "000000000000")
QUEUES = ("CampaignsQueue", "OutboxQueue", "EventsQueue", "ControlQueue")
DLQS = ("CampaignsDLQ", "OutboxDLQ", "EventsDLQ", "ControlDLQ", "SchedulerDLQ")


@cache
def stack() -> LocalTemplate:
    return LocalTemplate(None, "wacast-unit", "us-east-1", account_id=ACCOUNT.account_id)


@cache
def found() -> dict[str, Deployable]:
    return deployables(stack())


def guard(name: str, template: LocalTemplate | None = None) -> RoleGuard:
    deployable = deployables(template)[name] if template else found()[name]
    return RoleGuard(deployable.role, deployable.policies, ACCOUNT)


def allowed(role: str, action: str, resource: str, **context: str) -> bool:
    return is_allowed(stack().role_policies(role), Need(action, resource, tuple(context.items())))


# -- the evaluator -------------------------------------------------------------------------------


def test_an_allow_is_needed_a_deny_wins_and_wildcards_match() -> None:
    policies = [
        {"Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "arn:aws:sqs:*:*:app-*"}]},
        {"Statement": {"Effect": "Deny", "Action": ["sqs:DeleteMessage"], "Resource": "*"}},
    ]
    assert is_allowed(policies, Need("sqs:SendMessage", "arn:aws:sqs:us-east-1:1:app-outbox"))
    assert is_allowed(policies, Need("SQS:sendmessage", "arn:aws:sqs:us-east-1:1:app-outbox"))  # actions: any case
    assert not is_allowed(policies, Need("sqs:SendMessage", "arn:aws:sqs:us-east-1:1:other"))
    assert not is_allowed(policies, Need("sqs:DeleteMessage", "arn:aws:sqs:us-east-1:1:app-outbox"))
    assert not is_allowed(policies, Need("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/t"))


def test_a_condition_whose_key_the_request_lacks_does_not_hold() -> None:
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "cloudwatch:PutMetricData",
                "Resource": "*",
                "Condition": {"StringEquals": {"cloudwatch:namespace": "Wacast"}},
            }
        ]
    }
    assert is_allowed([policy], Need("cloudwatch:PutMetricData", "*", (("cloudwatch:namespace", "Wacast"),)))
    assert not is_allowed([policy], Need("cloudwatch:PutMetricData", "*", (("cloudwatch:namespace", "Other"),)))
    assert not is_allowed([policy], Need("cloudwatch:PutMetricData", "*"))


def test_a_call_needs_what_aws_checks_for_it() -> None:
    table = "arn:aws:dynamodb:us-east-1:000000000000:table/t"
    transaction = {"TransactItems": [{"Put": {"TableName": "t"}}, {"ConditionCheck": {"TableName": "t"}}]}
    assert requirements(ACCOUNT, "dynamodb", "TransactWriteItems", transaction) == [
        Need("dynamodb:PutItem", table),
        Need("dynamodb:ConditionCheckItem", table),
    ]
    assert requirements(ACCOUNT, "dynamodb", "Query", {"TableName": "t", "IndexName": "gsi1"}) == [
        Need("dynamodb:Query", f"{table}/index/gsi1")
    ]
    batch = requirements(ACCOUNT, "sqs", "SendMessageBatch", {"QueueUrl": "http://127.0.0.1:4700/000000000000/q"})
    assert batch == [Need("sqs:SendMessage", "arn:aws:sqs:us-east-1:000000000000:q")]
    schedule = {"Name": "c1", "GroupName": "g", "Target": {"RoleArn": "arn:aws:iam::000000000000:role/r"}}
    assert requirements(ACCOUNT, "scheduler", "CreateSchedule", schedule)[1] == Need(
        "iam:PassRole", "arn:aws:iam::000000000000:role/r", (("iam:PassedToService", "scheduler.amazonaws.com"),)
    )
    # a multipart upload's parts need s3:PutObject on the object; a HEAD needs s3:GetObject
    assert requirements(ACCOUNT, "s3", "UploadPart", {"Bucket": "b", "Key": "k/1.csv"}) == [
        Need("s3:PutObject", "arn:aws:s3:::b/k/1.csv")
    ]
    assert requirements(ACCOUNT, "s3", "HeadObject", {"Bucket": "b", "Key": "k"}) == [
        Need("s3:GetObject", "arn:aws:s3:::b/k")
    ]
    with pytest.raises(NotImplementedError):
        requirements(ACCOUNT, "lambda", "Invoke", {"FunctionName": "f"})


def test_a_refused_call_raises_the_access_denied_error_aws_would_and_is_journaled(tmp_path: Path) -> None:
    journal = tmp_path / "iam.jsonl"
    events = RoleGuard("EventsRole", found()["EventsFunction"].policies, ACCOUNT, journal)
    secret = stack().physical_ref("JwtSecret")
    with pytest.raises(ClientError) as refused:
        events.check("secretsmanager", "GetSecretValue", {"SecretId": secret})
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "secretsmanager:GetSecretValue" in str(refused.value) and "EventsRole" in str(refused.value)
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [(d["role"], d["operation"], d["allowed"]) for d in lines] == [
        ("EventsRole", "secretsmanager:GetSecretValue", False)
    ]


# -- the template's roles ----------------------------------------------------------------------------


def queue_arn(logical_id: str) -> str:
    return stack().queue_arn(logical_id)


@pytest.mark.parametrize("name", ["DispatcherFunction", "EventsFunction", "DlqFunction", "SessionHost"])
def test_each_consumer_receives_and_deletes_only_on_its_own_queues(name: str) -> None:
    deployable = found()[name]
    own = {m.queue_arn for m in deployable.mappings}
    if name == "SessionHost":
        own = {queue_arn("OutboxQueue"), queue_arn("ControlQueue")}
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage"):
        reachable = {queue_arn(q) for q in QUEUES + DLQS if allowed(deployable.role, action, queue_arn(q))}
        assert reachable == own, (name, action)


def test_the_api_reads_dead_letter_queues_only_to_redrive_them() -> None:
    role = found()["ApiFunction"].role
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage"):
        assert not any(allowed(role, action, queue_arn(q)) for q in QUEUES), action
    for dlq in DLQS[:4]:
        assert allowed(role, "sqs:StartMessageMoveTask", queue_arn(dlq))
    guard("ApiFunction").check(
        "sqs", "StartMessageMoveTask", {"SourceArn": queue_arn("EventsDLQ"), "DestinationArn": queue_arn("EventsQueue")}
    )


def test_no_role_gets_the_managed_policy_that_reads_every_queue() -> None:
    roles = [r for r in stack().resources.values() if r["Type"] == "AWS::IAM::Role"]
    for role in roles:
        assert not any(
            "SQSQueueExecutionRole" in json.dumps(arn) for arn in role["Properties"].get("ManagedPolicyArns", [])
        )


def test_only_the_api_reads_the_jwt_secret_and_only_the_task_execution_role_the_sidecar_secret() -> None:
    roles = [k for k, r in stack().resources.items() if r["Type"] == "AWS::IAM::Role"]
    for secret, reader in (("JwtSecret", "ApiFunctionRole"), ("WebjsSecret", "SessionHostExecutionRole")):
        arn = stack().physical_ref(secret)
        assert [r for r in roles if allowed(r, "secretsmanager:GetSecretValue", arn)] == [reader]


def test_the_scheduler_role_is_passed_only_to_scheduler() -> None:
    role, passed = found()["ApiFunction"].role, stack().resolve({"Fn::GetAtt": ["SchedulerRole", "Arn"]})
    assert allowed(role, "iam:PassRole", passed, **{"iam:PassedToService": "scheduler.amazonaws.com"})
    assert not allowed(role, "iam:PassRole", passed, **{"iam:PassedToService": "lambda.amazonaws.com"})
    assert not allowed(role, "iam:PassRole", passed)


def test_the_host_reaches_its_file_system_and_nothing_else_over_nfs() -> None:
    resources = stack().resources
    host_egress = resources["SessionHostSecurityGroup"]["Properties"]["SecurityGroupEgress"]
    assert all(rule["FromPort"] != 2049 for rule in host_egress)
    nfs = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::EC2::SecurityGroupEgress"]
    assert nfs == [
        {
            "GroupId": {"Ref": "SessionHostSecurityGroup"},
            "IpProtocol": "tcp",
            "FromPort": 2049,
            "ToPort": 2049,
            "DestinationSecurityGroupId": {"Ref": "SessionStoreSecurityGroup"},
            "Description": "NFS to the EFS session store",
        }
    ]


# -- the proof: a template missing one statement fails the check ----------------------------------------


def without_statement(role: str, sid: str, tmp_path: Path) -> LocalTemplate:
    """A copy of template.yaml whose role lacks the statement `sid` (written as JSON, which is YAML)."""
    document: dict[str, Any] = yaml_parse(TEMPLATE.read_text())
    policy = document["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]
    before = len(policy["Statement"])
    policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != sid]
    assert len(policy["Statement"]) == before - 1, f"{role} has no statement {sid}"
    copy = tmp_path / "template.yaml"
    copy.write_text(json.dumps(document))
    return LocalTemplate(None, "wacast-unit", "us-east-1", path=copy, account_id=ACCOUNT.account_id)


def test_deleting_one_statement_from_a_copy_of_the_template_makes_the_check_fail(tmp_path: Path) -> None:
    # given the session host publishing an event, which the template allows
    publish = ("sqs", "SendMessageBatch", {"QueueUrl": stack().queue_url("EventsQueue")})
    assert guard("SessionHost").check(*publish).allowed
    # when the statement that allows it is removed from a copy of the template
    broken = without_statement("SessionHostTaskRole", "DeferAndPublish", tmp_path)
    # then the same call is refused
    with pytest.raises(ClientError, match="sqs:SendMessage"):
        guard("SessionHost", broken).check(*publish)
