"""Each deployable starts from exactly the environment template.yaml gives its resource (the ECS
container included), and refuses to start, naming the variable, when one it needs is missing or empty."""

from __future__ import annotations

from functools import cache

import pytest

from local.deployables import Deployable, deployables
from local.template import LocalTemplate
from wacast.settings import (
    ApiSettings,
    ConfigError,
    CountersSettings,
    DeployableSettings,
    DispatcherSettings,
    DlqSettings,
    EventsSettings,
    FilesSettings,
    SessionHostSettings,
    WebhooksSettings,
)

SETTINGS: dict[str, type[DeployableSettings]] = {
    "ApiFunction": ApiSettings,
    "DispatcherFunction": DispatcherSettings,
    "EventsFunction": EventsSettings,
    "DlqFunction": DlqSettings,
    "CountersFunction": CountersSettings,
    "FilesFunction": FilesSettings,
    "WebhooksFunction": WebhooksSettings,
    "SessionHost": SessionHostSettings,
}


@cache
def template_deployables() -> dict[str, Deployable]:
    return deployables(LocalTemplate(None, "wacast-unit", "us-east-1"))


def environment(name: str) -> dict[str, str]:
    """What the deployable's process gets on AWS: the template's variables plus the runtime's own."""
    return template_deployables()[name].process_environment("us-east-1", None, {})


def test_the_template_has_exactly_these_deployables() -> None:
    assert set(template_deployables()) == set(SETTINGS)


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_each_deployable_reads_its_settings_from_exactly_its_template_environment(name: str) -> None:
    settings = SETTINGS[name].load(environment(name))
    assert settings.table_name.startswith("wacast-unit-") and settings.region == "us-east-1"


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_a_missing_or_empty_required_variable_stops_the_deployable_naming_it(name: str) -> None:
    cls, env = SETTINGS[name], environment(name)
    required = cls.required_variables()
    assert "WACAST_TABLE_NAME" in required
    for variable in required:
        choices = [variable] if variable != "WACAST_REGION" else ["WACAST_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"]
        for broken in ({k: v for k, v in env.items() if k not in choices}, {**env, **dict.fromkeys(choices, " ")}):
            with pytest.raises(ConfigError) as refused:
                cls.load(broken)
            assert f"{variable} is missing or empty" in str(refused.value), variable


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_the_template_gives_no_deployable_a_variable_it_does_not_read(name: str) -> None:
    cls = SETTINGS[name]
    read = {cls.variable(field) for field in cls.model_fields}
    given = {k for k in template_deployables()[name].environment if not k.startswith("POWERTOOLS_")}
    assert given - read == set(), f"{name} is given variables its settings do not read"


def test_only_the_api_is_given_the_jwt_signing_secret() -> None:
    holders = {n for n, d in template_deployables().items() if any("JWT" in k for k in d.environment)}
    assert holders == {"ApiFunction"}


def test_the_api_needs_a_jwt_secret_or_its_arn() -> None:
    env = {k: v for k, v in environment("ApiFunction").items() if k != "WACAST_JWT_SECRET_ARN"}
    with pytest.raises(ConfigError, match="WACAST_JWT_SECRET_ARN"):
        ApiSettings.load(env)
    assert ApiSettings.load({**env, "WACAST_JWT_SECRET": "s" * 40}).jwt_secret is not None


def test_registration_is_closed_on_aws_unless_the_parameter_opens_it() -> None:
    aws = LocalTemplate(None, "wacast-aws", "us-east-1", {"OpenRegistration": "false", "OperatorAccounts": ""})
    api = deployables(aws)["ApiFunction"]
    settings = ApiSettings.load(api.process_environment("us-east-1", None, {}))
    assert settings.registration_open is False and settings.operator_accounts == ""
    assert ApiSettings.load(environment("ApiFunction")).registration_open is True  # the local stack opens it
