"""Each number of the session host's configuration is written once, in SessionHostSettings: the objects
the host builds (supervision policy, delivery config, driver timeouts, outbox consumer) default to the
settings' defaults, take the values the environment sets, and the outbox visibility is the queue's own."""

from __future__ import annotations

import inspect
from types import SimpleNamespace

from local.deployables import deployables
from local.template import LocalTemplate, translate
from session_host.consumer import OutboxConsumer
from session_host.drivers.neonize_driver import NeonizeConfig
from session_host.drivers.webjs import WebjsDriver
from session_host.host import policy_of
from session_host.supervisor import SupervisorPolicy
from wacast.services.delivery import DeliveryConfig
from wacast.settings import SessionHostSettings, session_host_default


def host_environment(**overrides: str) -> dict[str, str]:
    host = deployables(LocalTemplate(None, "wacast-unit", "us-east-1"))["SessionHost"]
    return {**host.process_environment("us-east-1", None, {}), **overrides}


def test_a_waiting_outbox_message_is_kept_invisible_exactly_as_long_as_the_queue_says() -> None:
    outbox = translate()["Resources"]["OutboxQueue"]["Properties"]["VisibilityTimeout"]
    assert session_host_default("outbox_visibility_seconds") == outbox
    assert inspect.signature(OutboxConsumer).parameters["visibility_seconds"].default == outbox


def test_without_settings_the_host_objects_behave_as_the_default_settings_say() -> None:
    defaults = SessionHostSettings.load(host_environment())
    policy = SupervisorPolicy()
    assert (policy.reconnect_base, policy.reconnect_max, policy.circuit_failures, policy.circuit_cooldown) == (
        defaults.reconnect_base_seconds,
        defaults.reconnect_max_seconds,
        defaults.circuit_failures,
        defaults.circuit_cooldown_seconds,
    )
    assert (policy.probe_every, policy.probe_timeout) == (defaults.probe_every_seconds, defaults.probe_timeout_seconds)
    delivery = DeliveryConfig(host_id="h1")
    assert (delivery.lease_seconds, delivery.disconnected_recheck_seconds) == (
        defaults.lease_seconds,
        defaults.disconnected_recheck_seconds,
    )
    neonize = NeonizeConfig(store_root="/sessions")
    assert (neonize.connect_timeout, neonize.send_timeout) == (
        defaults.connect_timeout_seconds,
        defaults.send_timeout_seconds,
    )
    assert inspect.signature(WebjsDriver).parameters["send_timeout"].default == defaults.send_timeout_seconds


def test_the_host_supervises_sessions_as_its_environment_says() -> None:
    settings = SessionHostSettings.load(
        host_environment(WACAST_RECONNECT_BASE_SECONDS="7", WACAST_CIRCUIT_FAILURES="9", WACAST_PROBE_EVERY_SECONDS="5")
    )
    policy = policy_of(SimpleNamespace(settings=settings))  # type: ignore[arg-type]
    assert (policy.reconnect_base, policy.circuit_failures, policy.probe_every) == (7, 9, 5)
