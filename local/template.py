"""template.yaml, translated with aws-sam-translator and provisioned into moto.

There is no second, hand-written schema: tables, queues (with their redrive policies), the schedule
group and the secrets are created from the translated template, and the functions' environment and
event-source mappings are read from it too.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
ACCOUNT_ID = "123456789012"
CODE_BUCKET = "local-code"
# Parameters that have no default in the template (they only matter to ECS on AWS).
LOCAL_PARAMETERS: dict[str, Any] = {"VpcId": "vpc-local", "SubnetIds": ["subnet-a", "subnet-b"]}


class _NoPolicies:
    def load(self) -> dict[str, str]:
        return {}


@dataclass
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    timeout: int
    environment: dict[str, str]


@dataclass
class EventSourceMapping:
    function_id: str
    queue_id: str
    batch_size: int = 10
    batching_window: int = 0
    report_batch_item_failures: bool = False


@dataclass
class Physical:
    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


def translate(path: Path = TEMPLATE, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """The CloudFormation the SAM transform produces (local code paths stand in as S3 keys)."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the translator builds ARNs for a region
    document = yaml_parse(path.read_text())
    sam = copy.deepcopy(document)
    for resource in sam["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://{CODE_BUCKET}/{props[key]}"
    result: dict[str, Any] = transform(sam, {**LOCAL_PARAMETERS, **(parameters or {})}, _NoPolicies())
    return result


class LocalTemplate:
    """Provisions the template's data-plane resources into moto and resolves intrinsics against them."""

    def __init__(self, clients: dict[str, Any], stack_name: str, region: str, parameters: dict[str, Any] | None = None):
        self.clients = clients
        self.stack_name = stack_name
        self.region = region
        self.cfn = translate(parameters=parameters)
        self.resources: dict[str, Any] = self.cfn["Resources"]
        self.parameters = {
            name: (parameters or {}).get(name, LOCAL_PARAMETERS.get(name, spec.get("Default")))
            for name, spec in self.cfn.get("Parameters", {}).items()
        }
        self.physical: dict[str, Physical] = {}

    # -- provisioning ---------------------------------------------------------------------------

    def provision(self) -> None:
        for logical_id in self.resources:
            self._ensure(logical_id)

    def _ensure(self, logical_id: str) -> Physical | None:
        if logical_id in self.physical:
            return self.physical[logical_id]
        resource = self.resources[logical_id]
        creator = getattr(self, "_create_" + resource["Type"].replace("::", "_"), None)
        if creator is None:
            return None
        physical: Physical = creator(logical_id, resource.get("Properties", {}))
        self.physical[logical_id] = physical
        return physical

    def _create_AWS_SQS_Queue(self, logical_id: str, props: dict[str, Any]) -> Physical:  # noqa: N802
        name = self.resolve(props.get("QueueName", f"{self.stack_name}-{logical_id}"))
        attributes: dict[str, str] = {}
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds", "DelaySeconds"):
            if key in props:
                attributes[key] = str(self.resolve(props[key]))
        if "RedrivePolicy" in props:
            policy = self.resolve(props["RedrivePolicy"])
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": policy["deadLetterTargetArn"],
                    "maxReceiveCount": str(policy["maxReceiveCount"]),
                }
            )
        url = self.clients["sqs"].create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = f"arn:aws:sqs:{self.region}:{ACCOUNT_ID}:{name}"
        return Physical(ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url})

    def _create_AWS_DynamoDB_Table(self, logical_id: str, props: dict[str, Any]) -> Physical:  # noqa: N802
        name = self.resolve(props.get("TableName", f"{self.stack_name}-{logical_id}"))
        ddb = self.clients["dynamodb"]
        kwargs = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        ddb.create_table(**kwargs)
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        arn = f"arn:aws:dynamodb:{self.region}:{ACCOUNT_ID}:table/{name}"
        return Physical(ref=name, attributes={"Arn": arn})

    def _create_AWS_Scheduler_ScheduleGroup(self, logical_id: str, props: dict[str, Any]) -> Physical:  # noqa: N802
        name = self.resolve(props.get("Name", f"{self.stack_name}-{logical_id}"))
        arn = self.clients["scheduler"].create_schedule_group(Name=name)["ScheduleGroupArn"]
        return Physical(ref=name, attributes={"Arn": arn})

    def _create_AWS_SecretsManager_Secret(self, logical_id: str, props: dict[str, Any]) -> Physical:  # noqa: N802
        length = int(props.get("GenerateSecretString", {}).get("PasswordLength", 48))
        created = self.clients["secretsmanager"].create_secret(
            Name=f"{self.stack_name}-{logical_id}", SecretString=secrets.token_urlsafe(length)[:length]
        )
        return Physical(ref=created["ARN"], attributes={"Id": created["ARN"]})

    def _create_AWS_IAM_Role(self, logical_id: str, props: dict[str, Any]) -> Physical:  # noqa: N802
        name = f"{self.stack_name}-{logical_id}"
        return Physical(ref=name, attributes={"Arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"})

    # -- intrinsics -----------------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self._get_att(logical_id, attribute)
            if key == "Fn::Sub":
                return self._sub(arg)
        return {k: self.resolve(v) for k, v in value.items()}

    def _pseudo(self, name: str) -> str | None:
        return {
            "AWS::StackName": self.stack_name,
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }.get(name)

    def _ref(self, name: str) -> Any:
        pseudo = self._pseudo(name)
        if pseudo is not None:
            return pseudo
        if name in self.parameters:
            return self.parameters[name]
        physical = self._ensure(name)
        return physical.ref if physical else f"{self.stack_name}-{name}"

    def _get_att(self, logical_id: str, attribute: str) -> str:
        physical = self._ensure(logical_id)
        if physical is None or attribute not in physical.attributes:
            return f"arn:aws:local:{self.region}:{ACCOUNT_ID}:{logical_id}/{attribute}"
        return physical.attributes[attribute]

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        out, rest = "", text
        while "${" in rest:
            head, _, tail = rest.partition("${")
            name, _, rest = tail.partition("}")
            out += head
            if name in variables:
                out += str(self.resolve(variables[name]))
            elif "." in name and self._pseudo(name) is None:
                logical_id, attribute = name.split(".", 1)
                out += self._get_att(logical_id, attribute)
            else:
                out += str(self._ref(name))
        return out + rest

    # -- what the local stack runs ------------------------------------------------------------------

    def functions(self) -> dict[str, FunctionSpec]:
        specs = {}
        for logical_id, resource in self.resources.items():
            if resource["Type"] != "AWS::Lambda::Function":
                continue
            props = resource["Properties"]
            env = self.resolve(props.get("Environment", {}).get("Variables", {}))
            specs[logical_id] = FunctionSpec(
                logical_id=logical_id,
                code_dir=ROOT / props["Code"]["S3Key"],
                handler=props["Handler"],
                timeout=int(props.get("Timeout", 3)),
                environment={k: str(v) for k, v in env.items()},
            )
        return specs

    def event_source_mappings(self) -> list[EventSourceMapping]:
        mappings = []
        for resource in self.resources.values():
            if resource["Type"] != "AWS::Lambda::EventSourceMapping":
                continue
            props = resource["Properties"]
            mappings.append(
                EventSourceMapping(
                    function_id=props["FunctionName"]["Ref"],
                    queue_id=props["EventSourceArn"]["Fn::GetAtt"][0],
                    batch_size=int(props.get("BatchSize", 10)),
                    batching_window=int(props.get("MaximumBatchingWindowInSeconds", 0)),
                    report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                )
            )
        return mappings

    def physical_ref(self, logical_id: str) -> str:
        physical = self._ensure(logical_id)
        assert physical is not None, logical_id
        return physical.ref

    def queue_url(self, logical_id: str) -> str:
        physical = self._ensure(logical_id)
        assert physical is not None, logical_id
        return physical.ref

    def queue_arn(self, logical_id: str) -> str:
        return self._get_att(logical_id, "Arn")
