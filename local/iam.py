"""IAM for the local stack: each deployable's AWS calls are checked against its role's policies in
template.yaml (as aws-sam-translator expands them), and refused as AWS would refuse them.

moto allows every call, so a missing permission used to surface only on AWS. Here a `RoleGuard` is
installed into every botocore session of a deployable's process: before each call it works out the
IAM actions and resource ARNs the call needs (a transaction needs PutItem/UpdateItem/... per item, a
batch send needs sqs:SendMessage, a schedule's role needs iam:PassRole...) and raises the same
`AccessDenied` ClientError AWS would. Every decision is recorded, so a test can list what a deployable
did and what was refused.

The evaluator is small on purpose: Allow/Deny, Action/NotAction, Resource/NotResource with wildcards,
and the condition operators the template uses. A call it does not know how to authorize is refused
with a message saying so (strict: a new kind of AWS call needs a line in `requirements`). moto's own
evaluator was not used: it checks every non-SQS call against resource "*" and passes a condition
whose key is absent.
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

Policy = Mapping[str, Any]


@dataclass(frozen=True)
class Need:
    """One permission a call needs: an action on a resource, with the request's condition keys."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Decision:
    operation: str
    needs: tuple[Need, ...]
    allowed: bool
    missing: Need | None = None


# -- policy evaluation ---------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _wildcard(pattern: str, value: str, *, case_sensitive: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, 0 if case_sensitive else re.IGNORECASE) is not None


def _string_like(expected: str, actual: str) -> bool:
    return fnmatch.fnmatchcase(actual, expected)


CONDITIONS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda expected, actual: actual == expected,
    "StringLike": _string_like,
    "ArnEquals": lambda expected, actual: actual == expected,
    "ArnLike": _string_like,
    "Bool": lambda expected, actual: actual.lower() == str(expected).lower(),
}


def _conditions_hold(conditions: Mapping[str, Mapping[str, Any]], context: Iterable[tuple[str, str]]) -> bool:
    context = list(context)
    for operator, keys in conditions.items():
        test = CONDITIONS.get(operator)
        if test is None:
            raise NotImplementedError(f"the local IAM guard cannot evaluate the condition operator {operator}")
        for key, expected in keys.items():
            actual = next((v for k, v in context if k.lower() == key.lower()), None)
            if actual is None or not any(test(str(e), actual) for e in _as_list(expected)):
                return False  # a missing key fails the condition, as on AWS
    return True


def _statement_applies(statement: Mapping[str, Any], need: Need) -> bool:
    if "Action" in statement:
        if not any(_wildcard(a, need.action, case_sensitive=False) for a in _as_list(statement["Action"])):
            return False
    elif any(_wildcard(a, need.action, case_sensitive=False) for a in _as_list(statement.get("NotAction", []))):
        return False
    if "Resource" in statement:
        if not any(_wildcard(r, need.resource, case_sensitive=True) for r in _as_list(statement["Resource"])):
            return False
    elif any(_wildcard(r, need.resource, case_sensitive=True) for r in _as_list(statement.get("NotResource", []))):
        return False
    return _conditions_hold(statement.get("Condition", {}), need.context)


def is_allowed(policies: Iterable[Policy], need: Need) -> bool:
    """IAM's rule for one principal's identity policies: an explicit Deny wins, else an Allow is needed."""
    allowed = False
    for policy in policies:
        for statement in _as_list(policy.get("Statement", [])):
            if _statement_applies(statement, need):
                if statement.get("Effect") == "Deny":
                    return False
                allowed = True
    return allowed


# -- what a call needs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """Where ARNs point: the partition, region and account the stack runs in."""

    region: str
    account_id: str
    partition: str = "aws"

    def arn(self, service: str, resource: str, region: str | None = None) -> str:
        return (
            f"arn:{self.partition}:{service}:{self.region if region is None else region}:{self.account_id}:{resource}"
        )


def _queue_arn(account: Account, queue_url: str) -> str:
    return account.arn("sqs", queue_url.rstrip("/").rsplit("/", 1)[-1])


def _table_arn(account: Account, table: str, index: str | None = None) -> str:
    return account.arn("dynamodb", f"table/{table}" + (f"/index/{index}" if index else ""))


SQS_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def _sqs(account: Account, operation: str, params: Mapping[str, Any]) -> list[Need]:
    if operation == "GetQueueUrl":
        return [Need("sqs:GetQueueUrl", account.arn("sqs", params["QueueName"]))]
    if operation in ("StartMessageMoveTask", "ListMessageMoveTasks"):
        source = params["SourceArn"]
        needs = [Need(f"sqs:{operation}", source)]
        if operation == "StartMessageMoveTask":  # SQS moves the messages with the caller's permissions
            needs += [Need("sqs:ReceiveMessage", source), Need("sqs:DeleteMessage", source)]
            needs += [Need("sqs:GetQueueAttributes", source)]
            if params.get("DestinationArn"):
                needs.append(Need("sqs:SendMessage", params["DestinationArn"]))
        return needs
    if operation == "CancelMessageMoveTask":
        return [Need("sqs:CancelMessageMoveTask", account.arn("sqs", "*"))]
    return [Need(f"sqs:{SQS_ACTIONS.get(operation, operation)}", _queue_arn(account, params["QueueUrl"]))]


def _dynamodb(account: Account, operation: str, params: Mapping[str, Any]) -> list[Need]:
    if operation == "TransactWriteItems":
        needs = []
        for item in params["TransactItems"]:
            ((kind, body),) = item.items()
            needs.append(Need(f"dynamodb:{TRANSACT_ACTIONS[kind]}", _table_arn(account, body["TableName"])))
        return needs
    if operation == "TransactGetItems":
        return [Need("dynamodb:GetItem", _table_arn(account, i["Get"]["TableName"])) for i in params["TransactItems"]]
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [Need(f"dynamodb:{operation}", _table_arn(account, table)) for table in params["RequestItems"]]
    return [Need(f"dynamodb:{operation}", _table_arn(account, params["TableName"], params.get("IndexName")))]


def _scheduler(account: Account, operation: str, params: Mapping[str, Any]) -> list[Need]:
    group = params.get("GroupName", "default")
    if operation == "ListSchedules":
        return [Need("scheduler:ListSchedules", account.arn("scheduler", "schedule/*"))]
    needs = [Need(f"scheduler:{operation}", account.arn("scheduler", f"schedule/{group}/{params['Name']}"))]
    role = params.get("Target", {}).get("RoleArn")
    if role:  # Scheduler will assume it: the caller must be allowed to pass it to Scheduler
        needs.append(Need("iam:PassRole", role, (("iam:PassedToService", "scheduler.amazonaws.com"),)))
    return needs


def _secretsmanager(account: Account, operation: str, params: Mapping[str, Any]) -> list[Need]:
    secret = params["SecretId"]
    arn = secret if secret.startswith("arn:") else account.arn("secretsmanager", f"secret:{secret}")
    return [Need(f"secretsmanager:{operation}", arn)]


def _cloudwatch(account: Account, operation: str, params: Mapping[str, Any]) -> list[Need]:
    context = (("cloudwatch:namespace", str(params["Namespace"])),) if "Namespace" in params else ()
    return [Need(f"cloudwatch:{operation}", "*", context)]


def _dynamodbstreams(account: Account, operation: str, params: Mapping[str, Any]) -> list[Need]:
    """The stream's actions are dynamodb:*, on the stream's ARN (a shard iterator starts with it)."""
    if operation == "ListStreams":
        return [Need("dynamodb:ListStreams", account.arn("dynamodb", "table/*/stream/*"))]
    arn = params.get("StreamArn") or str(params.get("ShardIterator", "")).split("|", 1)[0]
    return [Need(f"dynamodb:{operation}", arn)]


#: S3's operations by the IAM action they need (a multipart upload's parts need s3:PutObject, a HEAD s3:GetObject).
S3_ACTIONS = {
    "HeadObject": "GetObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
}


def _s3(account: Account, operation: str, params: Mapping[str, Any]) -> list[Need]:
    """Object operations act on arn:aws:s3:::bucket/key (no region, no account); bucket ones on the bucket."""
    bucket = params["Bucket"]
    if "Key" not in params:
        action = "ListBucket" if operation in ("ListObjects", "ListObjectsV2") else operation
        return [Need(f"s3:{action}", f"arn:{account.partition}:s3:::{bucket}")]
    resource = f"arn:{account.partition}:s3:::{bucket}/{params['Key']}"
    return [Need(f"s3:{S3_ACTIONS.get(operation, operation)}", resource)]


NEEDS: dict[str, Callable[[Account, str, Mapping[str, Any]], list[Need]]] = {
    "s3": _s3,
    "dynamodbstreams": _dynamodbstreams,
    "sqs": _sqs,
    "dynamodb": _dynamodb,
    "scheduler": _scheduler,
    "secretsmanager": _secretsmanager,
    "cloudwatch": _cloudwatch,
}


def requirements(account: Account, service: str, operation: str, params: Mapping[str, Any]) -> list[Need]:
    """The permissions one call needs. Raises NotImplementedError for a call the guard does not know."""
    if (service, operation) == ("sts", "GetCallerIdentity"):
        return []  # always allowed, whatever the policies say
    build = NEEDS.get(service)
    if build is None:
        raise NotImplementedError(f"the local IAM guard does not know how to authorize {service}:{operation}")
    return build(account, operation, params)


# -- the guard ---------------------------------------------------------------------------------------


class RoleGuard:
    """Refuses the calls a role's policies do not allow, and records every decision."""

    def __init__(self, role: str, policies: Sequence[Policy], account: Account, journal: Path | None = None) -> None:
        self.role = role
        self.policies = policies
        self.account = account
        self.journal = journal
        self.decisions: list[Decision] = []
        self._seen: set[Decision] = set()
        self._lock = threading.Lock()

    def check(self, service: str, operation: str, params: Mapping[str, Any]) -> Decision:
        try:
            needs = requirements(self.account, service, operation, params)
        except NotImplementedError as exc:
            decision = Decision(f"{service}:{operation}", (), False, Need(f"{service}:{operation}", "?"))
            self._record(decision)
            raise _access_denied(operation, f"{self.role}: {exc}") from None
        missing = next((need for need in needs if not is_allowed(self.policies, need)), None)
        decision = Decision(f"{service}:{operation}", tuple(needs), missing is None, missing)
        self._record(decision)
        if missing is not None:
            context = "".join(f" with {k}={v}" for k, v in missing.context)
            raise _access_denied(
                operation,
                f"User: {self.role} is not authorized to perform: {missing.action} on resource: "
                f"{missing.resource}{context} because no identity-based policy allows the {missing.action} action",
            )
        return decision

    def denied(self) -> list[Decision]:
        with self._lock:
            return [d for d in self.decisions if not d.allowed]

    def _record(self, decision: Decision) -> None:
        with self._lock:
            self.decisions.append(decision)
            if self.journal is None or decision in self._seen:
                return
            self._seen.add(decision)
            line = {"role": self.role, **asdict(decision)}
            with self.journal.open("a", encoding="utf-8") as journal:  # one distinct decision per line
                journal.write(json.dumps(line) + "\n")

    # -- botocore wiring ---------------------------------------------------------------------------

    def before_parameter_build(self, params: Mapping[str, Any], model: Any, **_: Any) -> None:
        """A botocore `before-parameter-build` handler: raising here stops the call before it is sent."""
        self.check(str(model.service_model.service_name), str(model.name), params)

    def install(self) -> None:
        """Check every call of every botocore session this process creates from now on (boto3's clients,
        PynamoDB's connection and Powertools' parameter providers alike)."""
        from botocore import handlers

        entry = ("before-parameter-build", self.before_parameter_build)
        if entry not in handlers.BUILTIN_HANDLERS:
            handlers.BUILTIN_HANDLERS.append(entry)


def _access_denied(operation: str, message: str) -> ClientError:
    code = "AccessDeniedException"
    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {}}, operation)
