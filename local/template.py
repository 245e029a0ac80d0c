"""template.yaml, translated with aws-sam-translator and provisioned into moto.

There is no second, hand-written schema: tables, queues (with their redrive policies), the schedule
group and the secrets are created from the translated template; each deployable's environment, role
policies and event-source mappings are read from it too (`deployables()`).
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
CODE_BUCKET = "local-code"
#: The local stack's deploy parameters: those without a default (they only matter to ECS on AWS), and
#: the choices a local run makes (anyone may sign up, every account is an operator).
LOCAL_PARAMETERS: dict[str, Any] = {
    "VpcId": "vpc-local",
    "SubnetIds": ["subnet-a", "subnet-b"],
    "SessionHostImage": "local/session-host:dev",
    "WebjsImage": "local/webjs:dev",
    "OperatorAccounts": "*",
    "OpenRegistration": "true",
}


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
    role_id: str


@dataclass
class ContainerSpec:
    """One container of an ECS task definition, as ECS would start it."""

    task_id: str
    name: str
    environment: dict[str, str]
    #: Variables ECS fills from Secrets Manager (name -> secret ARN), with the task's execution role.
    secrets: dict[str, str]
    task_role_id: str
    execution_role_id: str


@dataclass
class EventSourceMapping:
    function_id: str
    #: The queue's logical id, or the table's for a stream.
    queue_id: str
    batch_size: int = 10
    batching_window: int = 0
    report_batch_item_failures: bool = False
    #: "sqs", or "dynamodb" (the table's stream)
    kind: str = "sqs"
    #: Lambda's filter patterns (JSON), for a stream: records that match none are not delivered.
    filters: tuple[str, ...] = ()


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
    """Provisions the template's data-plane resources into moto and resolves intrinsics against them.

    Without clients it provisions nothing and only works out the physical names and ARNs the stack would
    have (a dry run: enough to read each deployable's environment and policies in a unit test)."""

    def __init__(
        self,
        clients: dict[str, Any] | None,
        stack_name: str,
        region: str,
        parameters: dict[str, Any] | None = None,
        *,
        path: Path = TEMPLATE,
        account_id: str | None = None,
    ):
        self.clients = clients
        self.stack_name = stack_name
        self.region = region
        self.cfn = translate(path, parameters)
        self.resources: dict[str, Any] = self.cfn["Resources"]
        self.parameters = {
            name: (parameters or {}).get(name, LOCAL_PARAMETERS.get(name, spec.get("Default")))
            for name, spec in self.cfn.get("Parameters", {}).items()
        }
        if account_id is None:  # never assumed: whoever the credentials belong to (moto, LocalStack, AWS)
            account_id = str(clients["sts"].get_caller_identity()["Account"]) if clients else "000000000000"
        self.account_id = account_id
        self.physical: dict[str, Physical] = {}

    @property
    def dry(self) -> bool:
        return self.clients is None

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{resource}"

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
        if self.clients is None:
            url = f"https://sqs.{self.region}.amazonaws.com/{self.account_id}/{name}"
        else:
            url = self.clients["sqs"].create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = self.arn("sqs", name)
        return Physical(ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url})

    def _create_AWS_DynamoDB_Table(self, logical_id: str, props: dict[str, Any]) -> Physical:  # noqa: N802
        name = self.resolve(props.get("TableName", f"{self.stack_name}-{logical_id}"))
        stream_arn = self.arn("dynamodb", f"table/{name}/stream/1970-01-01T00:00:00.000")
        if self.clients is not None:
            ddb = self.clients["dynamodb"]
            kwargs = {
                "TableName": name,
                "AttributeDefinitions": props["AttributeDefinitions"],
                "KeySchema": props["KeySchema"],
                "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
            }
            if props.get("GlobalSecondaryIndexes"):
                kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
            if props.get("StreamSpecification"):
                kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
            created = ddb.create_table(**kwargs)["TableDescription"]
            stream_arn = created.get("LatestStreamArn", stream_arn)
            ttl = props.get("TimeToLiveSpecification")
            if ttl:
                ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        return Physical(ref=name, attributes={"Arn": self.arn("dynamodb", f"table/{name}"), "StreamArn": stream_arn})

    def _create_AWS_Scheduler_ScheduleGroup(self, logical_id: str, props: dict[str, Any]) -> Physical:  # noqa: N802
        name = self.resolve(props.get("Name", f"{self.stack_name}-{logical_id}"))
        arn = self.arn("scheduler", f"schedule-group/{name}")
        if self.clients is not None:
            arn = self.clients["scheduler"].create_schedule_group(Name=name)["ScheduleGroupArn"]
        return Physical(ref=name, attributes={"Arn": arn})

    def _create_AWS_SecretsManager_Secret(self, logical_id: str, props: dict[str, Any]) -> Physical:  # noqa: N802
        name = f"{self.stack_name}-{logical_id}"
        arn = self.arn("secretsmanager", f"secret:{name}-AbCdEf")
        if self.clients is not None:
            length = int(props.get("GenerateSecretString", {}).get("PasswordLength", 48))
            arn = self.clients["secretsmanager"].create_secret(
                Name=name, SecretString=secrets.token_urlsafe(length)[:length]
            )["ARN"]
        return Physical(ref=arn, attributes={"Id": arn})

    def _create_AWS_S3_Bucket(self, logical_id: str, props: dict[str, Any]) -> Physical:  # noqa: N802
        """A bucket, private as every moto bucket is. Its CORS rules name the CloudFront distribution, which
        the local stack does not have: `allow_browser_origin` gives them the local console's origin."""
        name = str(self.resolve(props.get("BucketName", f"{self.stack_name}-{logical_id}"))).lower()
        if self.clients is not None and "s3" in self.clients:
            self.clients["s3"].create_bucket(Bucket=name)
        arn = f"arn:aws:s3:::{name}"
        return Physical(ref=name, attributes={"Arn": arn, "DomainName": f"{name}.s3.amazonaws.com"})

    def allow_browser_origin(self, origin: str) -> None:
        """Each bucket's CORS rules as the template writes them, with the local console's origin in place of
        the origins it names (the distribution's, CorsOrigins'): moto then answers the browser's preflight and
        refuses any other origin, as S3 does."""
        if self.clients is None or "s3" not in self.clients:
            return
        for logical_id, resource in self.resources.items():
            rules = resource.get("Properties", {}).get("CorsConfiguration", {}).get("CorsRules")
            if resource["Type"] != "AWS::S3::Bucket" or not rules:
                continue
            local_rules = [
                {
                    "AllowedMethods": rule["AllowedMethods"],
                    "AllowedOrigins": [origin],
                    **({"AllowedHeaders": rule["AllowedHeaders"]} if "AllowedHeaders" in rule else {}),
                    **({"MaxAgeSeconds": int(rule["MaxAge"])} if "MaxAge" in rule else {}),
                }
                for rule in rules
            ]
            self.clients["s3"].put_bucket_cors(
                Bucket=self.physical_ref(logical_id), CORSConfiguration={"CORSRules": local_rules}
            )

    def _create_AWS_IAM_Role(self, logical_id: str, props: dict[str, Any]) -> Physical:  # noqa: N802
        name = f"{self.stack_name}-{logical_id}"
        return Physical(ref=name, attributes={"Arn": f"arn:aws:iam::{self.account_id}:role/{name}"})

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
            "AWS::AccountId": self.account_id,
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
            return self.arn("local", f"{logical_id}/{attribute}")
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
                role_id=props["Role"]["Fn::GetAtt"][0],
            )
        return specs

    def containers(self) -> dict[str, ContainerSpec]:
        """Every container of every ECS task definition, by "<task>/<container>"."""
        specs = {}
        for task_id, resource in self.resources.items():
            if resource["Type"] != "AWS::ECS::TaskDefinition":
                continue
            props = resource["Properties"]
            for container in props["ContainerDefinitions"]:
                env = {e["Name"]: str(self.resolve(e["Value"])) for e in container.get("Environment", [])}
                secrets_ = {e["Name"]: str(self.resolve(e["ValueFrom"])) for e in container.get("Secrets", [])}
                specs[f"{task_id}/{container['Name']}"] = ContainerSpec(
                    task_id=task_id,
                    name=container["Name"],
                    environment=env,
                    secrets=secrets_,
                    task_role_id=props["TaskRoleArn"]["Fn::GetAtt"][0],
                    execution_role_id=props["ExecutionRoleArn"]["Fn::GetAtt"][0],
                )
        return specs

    def role_policies(self, role_id: str) -> list[dict[str, Any]]:
        """The inline policy documents of a role, resolved against this stack (managed policies, such as
        AWSLambdaBasicExecutionRole for logs, are not included: wacast's code never relies on them)."""
        props = self.resources[role_id]["Properties"]
        return [self.resolve(policy["PolicyDocument"]) for policy in props.get("Policies", [])]

    def event_source_mappings(self) -> list[EventSourceMapping]:
        mappings = []
        for resource in self.resources.values():
            if resource["Type"] != "AWS::Lambda::EventSourceMapping":
                continue
            props = resource["Properties"]
            source, attribute = props["EventSourceArn"]["Fn::GetAtt"]
            filters = props.get("FilterCriteria", {}).get("Filters", [])
            mappings.append(
                EventSourceMapping(
                    function_id=props["FunctionName"]["Ref"],
                    queue_id=source,
                    batch_size=int(props.get("BatchSize", 10)),
                    batching_window=int(props.get("MaximumBatchingWindowInSeconds", 0)),
                    report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                    kind="dynamodb" if attribute == "StreamArn" else "sqs",
                    filters=tuple(f["Pattern"] for f in filters),
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
