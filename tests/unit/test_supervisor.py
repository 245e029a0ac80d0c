"""The supervisor on a fake clock: reconnect with backoff, the circuit breaker, the liveness probe."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime

from session_host.supervisor import SessionSupervisor, SupervisorPolicy
from tests.fakes import T0, FakeClock, ManualTimers
from wacast import observability as obs
from wacast.domain.senders import DriverSession, Sender, SenderState

SENDER = Sender(id="s1", account_id="a1", drivers=["neonize"], created_at=T0)
POLICY = SupervisorPolicy(reconnect_base=2, reconnect_max=60, circuit_failures=4, circuit_cooldown=900, probe_every=60)


class ScriptedSessions:
    """A SessionDriver whose connect attempts succeed or fail as scripted ("up" / "down")."""

    name = "neonize"

    def __init__(self, attempts: list[str], linked: bool = True) -> None:
        self.attempts = attempts
        self.linked = linked
        self.starts: list[datetime] = []
        self.closes = 0
        self.probes: list[bool] = []
        self.supervisor: SessionSupervisor | None = None
        self.clock: FakeClock | None = None

    def start(self, sender: Sender) -> None:
        assert self.supervisor is not None and self.clock is not None
        self.starts.append(self.clock.now())
        outcome = self.attempts.pop(0) if self.attempts else "down"
        state = SenderState.CONNECTED if outcome == "up" else SenderState.DISCONNECTED
        error = None if outcome == "up" else "connect_failed: no route"
        self.supervisor.on_driver_state("neonize", sender, state, error, self.clock.now())

    def close(self, sender_id: str) -> None:
        self.closes += 1

    def is_linked(self, sender: Sender) -> bool:
        return self.linked

    def probe(self, sender_id: str, timeout: float) -> bool:
        return self.probes.pop(0) if self.probes else True


class World:
    def __init__(self, attempts: list[str], linked: bool = True) -> None:
        self.clock = FakeClock()
        self.timers = ManualTimers(self.clock)
        self.driver = ScriptedSessions(attempts, linked)
        self.published: list[dict[str, DriverSession]] = []
        self.metrics = obs.MemorySink()
        run: Callable[[Callable[[], None]], None] = lambda fn: fn()  # noqa: E731 - inline executor
        self.supervisor = SessionSupervisor(
            {"neonize": self.driver}, self.publish, self.clock, self.timers, POLICY, run, random.Random(1)
        )
        self.driver.supervisor, self.driver.clock = self.supervisor, self.clock

    def publish(self, sender: Sender, sessions: dict[str, DriverSession], at: datetime) -> None:
        self.published.append(sessions)

    def run_for(self, seconds: float, step: float = 0.5) -> None:
        """Let time pass in small steps, so timers set by timers fire at their own time."""
        for _ in range(int(seconds / step)):
            self.clock.advance(step)

    @property
    def state(self) -> DriverSession:
        return self.published[-1]["neonize"]

    def gaps(self) -> list[float]:
        starts = self.driver.starts
        return [(b - a).total_seconds() for a, b in zip(starts, starts[1:], strict=False)]


def test_a_dropped_session_reconnects_with_growing_backoff() -> None:
    world = World(["up", "down", "down", "up"])
    world.supervisor.open(SENDER, "neonize")
    assert world.state.state is SenderState.CONNECTED
    world.supervisor.on_driver_state("neonize", SENDER, SenderState.DISCONNECTED, "connection_lost", world.clock.now())
    world.run_for(30)
    assert world.state.state is SenderState.CONNECTED and len(world.driver.starts) == 4
    first, second, third = world.gaps()  # 2 s, 4 s, 8 s (+-20% jitter; the fake clock steps by 0.5 s)
    assert 1.5 <= first <= 3.0 and 3.0 <= second <= 5.5 and 6.0 <= third <= 10.0


def test_the_circuit_opens_after_n_failures_and_retries_once_after_the_cooldown() -> None:
    obs.set_metrics_sink(sink := obs.MemorySink())
    try:
        world = World(["up", "down", "down", "down", "up"])
        world.supervisor.open(SENDER, "neonize")
        world.supervisor.on_driver_state("neonize", SENDER, SenderState.DISCONNECTED, "lost", world.clock.now())
        world.run_for(100)  # 3 reconnects, all down: the 4th failure in a row opens the circuit
        assert world.state.state is SenderState.FAILED
        assert (world.state.error or "").startswith("circuit_open: 4 attempts failed in a row")
        assert sink.total(obs.SENDER_CIRCUIT_OPEN) == 1 and len(world.driver.starts) == 4
        world.run_for(800)  # open: nothing is tried
        assert len(world.driver.starts) == 4
        world.run_for(200)  # cool-down over: one attempt, which connects
        assert world.state.state is SenderState.CONNECTED and len(world.driver.starts) == 5
    finally:
        obs.set_metrics_sink(None)


def test_a_failed_half_open_attempt_opens_the_circuit_again() -> None:
    world = World(["up"])
    world.supervisor.open(SENDER, "neonize")
    world.supervisor.on_driver_state("neonize", SENDER, SenderState.DISCONNECTED, "lost", world.clock.now())
    world.run_for(100)
    assert world.state.state is SenderState.FAILED
    world.run_for(901)
    assert world.state.state is SenderState.FAILED and len(world.driver.starts) == 5


def test_a_session_that_was_never_linked_is_not_retried() -> None:
    world = World([], linked=False)
    world.supervisor.on_driver_state("neonize", SENDER, SenderState.LINKING, None, world.clock.now())
    world.supervisor.on_driver_state("neonize", SENDER, SenderState.DISCONNECTED, "qr timeout", world.clock.now())
    world.timers.run_all()
    assert world.driver.starts == [] and world.state.state is SenderState.DISCONNECTED
    assert (world.state.error or "").startswith("link_expired")


def test_a_connected_but_dead_session_is_caught_by_the_probe_and_reconnected() -> None:
    world = World(["up", "up"])
    world.driver.probes = [True, False, False]
    world.supervisor.open(SENDER, "neonize")
    world.run_for(60)  # alive
    assert len(world.driver.starts) == 1
    world.run_for(125)  # two probes without an answer, then a reconnect after the backoff
    states = [p["neonize"].state for p in world.published]
    assert SenderState.DISCONNECTED in states and world.state.state is SenderState.CONNECTED
    assert len(world.driver.starts) == 2 and world.driver.closes >= 2
    liveness = [p["neonize"].error for p in world.published if p["neonize"].state is SenderState.DISCONNECTED]
    assert (liveness[0] or "").startswith("liveness:")


def test_a_session_the_driver_reconnected_by_itself_is_not_restarted() -> None:
    world = World(["up"])
    world.supervisor.open(SENDER, "neonize")
    world.supervisor.on_driver_state("neonize", SENDER, SenderState.DISCONNECTED, "lost", world.clock.now())
    world.supervisor.on_driver_state("neonize", SENDER, SenderState.CONNECTED, None, world.clock.now())
    world.run_for(30)
    assert len(world.driver.starts) == 1


def test_logged_out_and_released_sessions_are_never_reconnected() -> None:
    world = World(["up"])
    world.supervisor.open(SENDER, "neonize")
    world.supervisor.on_driver_state("neonize", SENDER, SenderState.LOGGED_OUT, "logged_out", world.clock.now())
    world.run_for(3600)
    assert len(world.driver.starts) == 1 and world.state.state is SenderState.LOGGED_OUT
    again = World(["up"])
    again.supervisor.open(SENDER, "neonize")
    again.supervisor.release("s1", "neonize")
    again.supervisor.on_driver_state("neonize", SENDER, SenderState.DISCONNECTED, "closed", again.clock.now())
    again.run_for(3600)
    assert len(again.driver.starts) == 1


def test_linking_again_is_idempotent_while_a_session_is_up() -> None:
    world = World(["up"])
    world.supervisor.open(SENDER, "neonize", reset=True)
    world.supervisor.open(SENDER, "neonize", reset=True)
    assert len(world.driver.starts) == 1
