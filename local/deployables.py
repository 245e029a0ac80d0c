"""The deployables of template.yaml as the local stack runs them: each with exactly the environment the
template gives its resource (plus what AWS's runtime adds), its role's policies, and its event sources.

Nothing here is merged across resources: a function that needs a variable the template does not give
it fails to start here as it would on AWS, and a call its role does not allow is refused (local/iam.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from local.iam import Account, RoleGuard
from local.template import FunctionSpec, LocalTemplate

Kind = Literal["api", "consumer", "host"]

#: Lambda functions and ECS tasks: what the AWS runtime puts in every process's environment.
LAMBDA_RUNTIME = ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_LAMBDA_FUNCTION_NAME", "AWS_EXECUTION_ENV")
FARGATE_RUNTIME = ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV")

#: What the local stack adds to every process: the moto endpoint, fake credentials, no X-Ray daemon.
LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


@dataclass
class Mapping:
    """One event-source mapping of a function: an SQS queue (its URL and ARN), or the table's stream
    (queue_url empty, queue_arn the stream's ARN, with Lambda's filter patterns)."""

    queue_url: str
    queue_arn: str
    batch_size: int
    batching_window: int
    report_failures: bool
    kind: str = "sqs"
    filters: tuple[str, ...] = ()


@dataclass
class Deployable:
    name: str
    kind: Kind
    role: str
    policies: list[dict[str, Any]]
    #: Exactly what template.yaml gives the resource (a container's secrets resolved, as ECS does).
    environment: dict[str, str]
    runtime: tuple[str, ...]
    function: FunctionSpec | None = None
    mappings: list[Mapping] = field(default_factory=list)

    def process_environment(self, region: str, endpoint: str | None, overrides: dict[str, str]) -> dict[str, str]:
        """The environment of the deployable's process here: AWS's runtime variables, the local ones, the
        template's, and `overrides`, which may only replace variables the template gives this resource."""
        unknown = sorted(set(overrides) - set(self.environment))
        if unknown:
            raise ValueError(f"{self.name}: the template gives it no {', '.join(unknown)} to override")
        runtime = {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12" if self.kind != "host" else "AWS_ECS_FARGATE",
        }
        env = {k: v for k, v in runtime.items() if k in self.runtime}
        env.update(LOCAL_ENV)
        if endpoint:
            env["AWS_ENDPOINT_URL"] = endpoint
        return {**env, **self.environment, **overrides}

    def guard(self, template: LocalTemplate) -> RoleGuard:
        return RoleGuard(self.role, self.policies, Account(template.region, template.account_id))

    def spec(self, account: Account, **launch: Any) -> dict[str, Any]:
        """What `python -m local.run_deployable` needs besides the environment (`launch`: journal,
        api_port, host_args, poll_wait_seconds)."""
        function = self.function
        return {
            "name": self.name,
            "kind": self.kind,
            "role": self.role,
            "policies": self.policies,
            "account": {"region": account.region, "account_id": account.account_id},
            "function": None
            if function is None
            else {"code_dir": str(function.code_dir), "handler": function.handler, "timeout": function.timeout},
            "mappings": [vars(m) for m in self.mappings],
            **launch,
        }


def deployables(template: LocalTemplate, host_container: str = "SessionHostTask/session-host") -> dict[str, Deployable]:
    """The api, the SQS consumers and the session host, by name (the template's logical ids)."""
    out: dict[str, Deployable] = {}
    functions = template.functions()
    mappings: dict[str, list[Mapping]] = {}
    for m in template.event_source_mappings():
        mappings.setdefault(m.function_id, []).append(
            Mapping(
                template.queue_url(m.queue_id) if m.kind == "sqs" else "",
                template.queue_arn(m.queue_id)
                if m.kind == "sqs"
                else template.resolve({"Fn::GetAtt": [m.queue_id, "StreamArn"]}),
                m.batch_size,
                m.batching_window,
                m.report_batch_item_failures,
                m.kind,
                m.filters,
            )
        )
    for name, spec in functions.items():
        out[name] = Deployable(
            name=name,
            kind="consumer" if name in mappings else "api",
            role=spec.role_id,
            policies=template.role_policies(spec.role_id),
            environment=spec.environment,
            runtime=LAMBDA_RUNTIME,
            function=spec,
            mappings=mappings.get(name, []),
        )
    container = template.containers()[host_container]
    out["SessionHost"] = Deployable(
        name="SessionHost",
        kind="host",
        role=container.task_role_id,
        policies=template.role_policies(container.task_role_id),
        environment={**container.environment, **container_secrets(template, container.execution_role_id, container)},
        runtime=FARGATE_RUNTIME,
    )
    return out


def container_secrets(template: LocalTemplate, execution_role: str, container: Any) -> dict[str, str]:
    """What ECS puts in the container's environment from Secrets Manager, read with the task's execution
    role (refused, as on AWS, when that role may not read the secret)."""
    if not container.secrets:
        return {}
    account = Account(template.region, template.account_id)
    guard = RoleGuard(execution_role, template.role_policies(execution_role), account)
    values = {}
    for name, arn in container.secrets.items():
        guard.check("secretsmanager", "GetSecretValue", {"SecretId": arn})
        if template.clients is None:
            values[name] = f"<{name} from {arn}>"
        else:
            values[name] = template.clients["secretsmanager"].get_secret_value(SecretId=arn)["SecretString"]
    return values


def state_dir(root: Path, stack_name: str) -> Path:
    """Where a local stack keeps its logs, launch specs, IAM journal and sessions."""
    path = root / ".local-state" / stack_name
    path.mkdir(parents=True, exist_ok=True)
    return path
