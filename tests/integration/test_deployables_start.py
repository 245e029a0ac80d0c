"""Each deployable cold-starts in a process of its own with exactly the environment template.yaml gives
its resource and under its role, against moto, as on AWS: and a missing variable or a missing permission
stops it with the reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from samtranslator.yaml_helper import yaml_parse

from local.deployables import Deployable, deployables
from local.iam import Account
from local.inprocess import CLIENTS, provision
from local.template import ROOT, TEMPLATE, LocalTemplate

REGION = "us-east-1"


def cold_start(
    deployable: Deployable, template: LocalTemplate, tmp_path: Path, drop: str | None = None
) -> subprocess.CompletedProcess[str]:
    overrides = {}
    if deployable.name == "SessionHost":
        overrides = {"WACAST_SESSION_STORE": str(tmp_path), "WACAST_HEARTBEAT_FILE": str(tmp_path / "beat")}
    env = deployable.process_environment(REGION, os.environ["AWS_ENDPOINT_URL"], overrides)
    env = {k: v for k, v in env.items() if k != drop}
    spec = tmp_path / f"{deployable.name}.json"
    spec.write_text(json.dumps(deployable.spec(Account(REGION, template.account_id), journal=None)))
    return subprocess.run(
        [sys.executable, "-m", "local.run_deployable", "--cold-start", str(spec)],
        cwd=ROOT,
        env={**env, "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def stack(moto_endpoint: str) -> LocalTemplate:
    return provision(moto_endpoint, f"start-{uuid.uuid4().hex[:8]}")


@pytest.mark.parametrize("name", ["ApiFunction", "DispatcherFunction", "EventsFunction", "DlqFunction", "SessionHost"])
def test_each_deployable_starts_with_its_own_environment_and_role(
    name: str, stack: LocalTemplate, tmp_path: Path
) -> None:
    started = cold_start(deployables(stack)[name], stack, tmp_path)
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == f"{name} started"


@pytest.mark.parametrize(
    ("name", "variable"),
    [("DispatcherFunction", "WACAST_OUTBOX_QUEUE_URL"), ("SessionHost", "WACAST_CONTROL_QUEUE_URL")],
)
def test_a_deployable_without_a_variable_stops_naming_it(
    name: str, variable: str, stack: LocalTemplate, tmp_path: Path
) -> None:
    stopped = cold_start(deployables(stack)[name], stack, tmp_path, drop=variable)
    assert stopped.returncode == 1 and f"{variable} is missing or empty" in stopped.stderr, stopped.stderr


def test_the_session_host_entrypoint_exits_at_once_naming_a_missing_variable(
    stack: LocalTemplate, tmp_path: Path
) -> None:
    host = deployables(stack)["SessionHost"]
    env = host.process_environment(REGION, os.environ["AWS_ENDPOINT_URL"], {"WACAST_SESSION_STORE": str(tmp_path)})
    del env["WACAST_OUTBOX_QUEUE_URL"]
    ran = subprocess.run(
        [sys.executable, "-m", "session_host", "--driver", "simulated"],
        cwd=ROOT,
        env={**env, "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 2
    assert ran.stderr.strip() == "the session host cannot start: WACAST_OUTBOX_QUEUE_URL is missing or empty"


def test_without_its_secrets_policy_the_api_cannot_read_the_jwt_secret_at_start(
    moto_endpoint: str, tmp_path: Path
) -> None:
    # given a copy of the template whose api function lacks the policy that lets it read the JWT secret
    document: dict[str, Any] = yaml_parse(TEMPLATE.read_text())
    policies = document["Resources"]["ApiFunction"]["Properties"]["Policies"]
    document["Resources"]["ApiFunction"]["Properties"]["Policies"] = [
        p for p in policies if "AWSSecretsManagerGetSecretValuePolicy" not in p
    ]
    copy = tmp_path / "template.yaml"
    copy.write_text(json.dumps(document))
    os.environ["AWS_ENDPOINT_URL"] = moto_endpoint
    clients = {s: boto3.client(s, region_name=REGION) for s in CLIENTS}
    broken = LocalTemplate(clients, f"nosecret-{uuid.uuid4().hex[:8]}", REGION, path=copy)
    broken.provision()
    # when the api cold-starts under that role
    stopped = cold_start(deployables(broken)["ApiFunction"], broken, tmp_path)
    # then it stops, as it would on AWS, saying which permission it lacks
    assert stopped.returncode == 1
    assert "is not authorized to perform: secretsmanager:GetSecretValue" in stopped.stderr, stopped.stderr
