from __future__ import annotations

from datetime import datetime
from typing import Any

from session_host.drivers.simulated import SimulatedConfig, SimulatedDriver
from tests.fakes import T0, FakeClock, ManualTimers
from wacast.domain.outcomes import OutcomeKind
from wacast.domain.senders import Sender, SenderState

SENDER = Sender(id="s1", account_id="a1", drivers=["simulated"], created_at=T0)


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def on_state(self, sender: Sender, state: SenderState, error: str | None, at: datetime) -> None:
        self.events.append(("state", state))

    def on_qr(self, sender: Sender, qr: str, at: datetime) -> None:
        self.events.append(("qr", qr))

    def on_pairing_code(self, sender: Sender, code: str, at: datetime) -> None:
        self.events.append(("code", code))

    def on_receipt(self, sender: Sender, ids: list[str], status: str, recipient: str | None, at: datetime) -> None:
        self.events.append(("receipt", (ids[0], status, at)))

    def on_incoming(
        self,
        sender: Sender,
        from_phone: str,
        text: str,
        at: datetime,
        *,
        provider_id: str | None = None,
        media_type: str | None = None,
    ) -> None:
        self.events.append(("incoming", text))


def make(config: SimulatedConfig) -> tuple[SimulatedDriver, Recorder, FakeClock, ManualTimers]:
    clock = FakeClock()
    timers = ManualTimers(clock)
    recorder = Recorder()
    return SimulatedDriver(recorder, clock, timers, config), recorder, clock, timers


def outcomes(config: SimulatedConfig, n: int = 300) -> list[OutcomeKind]:
    driver, *_ = make(config)
    driver.start(SENDER)
    return [driver.send(SENDER, f"+9198765{i:05d}", "hi").kind for i in range(n)]


def test_failure_rates_and_seeded_reproducibility() -> None:
    config = SimulatedConfig(seed=42, transient_rate=0.2, permanent_rate=0.1, unknown_rate=0.1)
    first = outcomes(config)
    assert first == outcomes(config)
    assert first != outcomes(config.model_copy(update={"seed": 43}))
    share = {kind: first.count(kind) / len(first) for kind in OutcomeKind}
    assert 0.12 < share[OutcomeKind.TRANSIENT] < 0.28
    assert 0.05 < share[OutcomeKind.PERMANENT] < 0.16
    assert 0.05 < share[OutcomeKind.UNKNOWN] < 0.16


def test_receipts_arrive_delivered_then_read_after_their_delays() -> None:
    driver, recorder, clock, timers = make(SimulatedConfig(delivered_after_s=(1, 1), read_after_s=(2, 2)))
    driver.start(SENDER)
    outcome = driver.send(SENDER, "+919876543210", "hi")
    timers.run_all()
    receipts = [e for kind, e in recorder.events if kind == "receipt"]
    assert [(pid, status) for pid, status, _ in receipts] == [
        (outcome.provider_message_id, "DELIVERED"),
        (outcome.provider_message_id, "READ"),
    ]
    assert (receipts[1][2] - receipts[0][2]).total_seconds() == 2


def test_lifecycle_qr_then_connected_then_logged_out() -> None:
    driver, recorder, clock, timers = make(SimulatedConfig(auto_link=False, link_after_s=5))
    driver.start(SENDER)
    assert not driver.is_connected("s1")
    assert driver.send(SENDER, "+919876543210", "hi").kind is OutcomeKind.TRANSIENT
    clock.advance(5)
    assert driver.is_connected("s1")
    driver.logout(SENDER)
    assert [e for kind, e in recorder.events if kind == "state"] == [
        SenderState.LINKING,
        SenderState.CONNECTED,
        SenderState.LOGGED_OUT,
    ]
    assert any(kind == "qr" for kind, _ in recorder.events)


def test_unregistered_numbers_fail_permanently_and_replies_come_back() -> None:
    driver, recorder, clock, timers = make(
        SimulatedConfig(unregistered={"+15550001111"}, reply_rate=1.0, replies=["STOP"])
    )
    driver.start(SENDER)
    assert driver.send(SENDER, "+15550001111", "hi").kind is OutcomeKind.PERMANENT
    driver.send(SENDER, "+919876543210", "hi")
    timers.run_all()
    assert ("incoming", "STOP") in recorder.events
