from __future__ import annotations

from session_host.drivers.chain import DriverChain
from tests.fakes import T0, ScriptedDriver
from wacast.domain.outcomes import OutcomeKind, SendCode, SendOutcome
from wacast.domain.senders import Sender


def sender(*drivers: str) -> Sender:
    return Sender(id="s1", account_id="a1", drivers=list(drivers), created_at=T0)


def test_the_primary_is_used_first() -> None:
    primary, fallback = ScriptedDriver("neonize"), ScriptedDriver("webjs")
    outcome = DriverChain({"neonize": primary, "webjs": fallback}).send(sender("neonize", "webjs"), "+1", "hi")
    assert outcome.kind is OutcomeKind.SENT and outcome.driver == "neonize" and not outcome.fallback_used
    assert fallback.sends == []


def test_fallback_only_after_a_transient_failure() -> None:
    primary = ScriptedDriver("neonize", [SendOutcome.transient("neonize", SendCode.NETWORK, "reset")])
    fallback = ScriptedDriver("webjs")
    outcome = DriverChain({"neonize": primary, "webjs": fallback}).send(sender("neonize", "webjs"), "+1", "hi")
    assert outcome.driver == "webjs" and outcome.fallback_used


def test_permanent_and_unknown_outcomes_never_reach_the_fallback() -> None:
    for first in (
        SendOutcome.permanent("neonize", SendCode.NOT_ON_WHATSAPP),
        SendOutcome.unknown("neonize", SendCode.TIMEOUT),
    ):
        primary, fallback = ScriptedDriver("neonize", [first]), ScriptedDriver("webjs")
        outcome = DriverChain({"neonize": primary, "webjs": fallback}).send(sender("neonize", "webjs"), "+1", "hi")
        assert outcome.kind is first.kind and fallback.sends == []


def test_a_disconnected_primary_counts_as_transient_and_falls_back() -> None:
    primary, fallback = ScriptedDriver("neonize", connected=False), ScriptedDriver("webjs")
    chain = DriverChain({"neonize": primary, "webjs": fallback})
    assert chain.is_ready(sender("neonize", "webjs"))
    outcome = chain.send(sender("neonize", "webjs"), "+1", "hi")
    assert outcome.driver == "webjs" and outcome.fallback_used and primary.sends == []


def test_a_disabled_driver_is_never_used() -> None:
    primary, fallback = (
        ScriptedDriver("neonize", [SendOutcome.transient("neonize", SendCode.NETWORK)]),
        ScriptedDriver("webjs"),
    )
    outcome = DriverChain({"neonize": primary, "webjs": fallback}).send(sender("neonize"), "+1", "hi")
    assert outcome.kind is OutcomeKind.TRANSIENT and fallback.sends == []
    assert not DriverChain({"webjs": fallback}).is_ready(sender("neonize"))


def test_a_real_failure_of_the_primary_is_reported_when_the_fallback_is_down() -> None:
    primary = ScriptedDriver("neonize", [SendOutcome.transient("neonize", SendCode.NETWORK, "reset")])
    fallback = ScriptedDriver("webjs", connected=False)
    outcome = DriverChain({"neonize": primary, "webjs": fallback}).send(sender("neonize", "webjs"), "+1", "hi")
    # a retry that counts, not a "not connected" deferral that could loop for ever
    assert outcome.kind is OutcomeKind.TRANSIENT and outcome.code is SendCode.NETWORK
    assert outcome.reason == "network: reset"  # what the message's last error shows


def test_not_connected_only_when_no_session_was_up() -> None:
    down = DriverChain(
        {"neonize": ScriptedDriver("neonize", connected=False), "webjs": ScriptedDriver("webjs", connected=False)}
    )
    outcome = down.send(sender("neonize", "webjs"), "+1", "hi")
    assert outcome.kind is OutcomeKind.TRANSIENT and outcome.code is SendCode.NOT_CONNECTED


def test_no_driver_when_none_of_the_senders_drivers_runs_here() -> None:
    outcome = DriverChain({"webjs": ScriptedDriver("webjs")}).send(sender("neonize"), "+1", "hi")
    assert outcome.kind is OutcomeKind.TRANSIENT and outcome.code is SendCode.NO_DRIVER
