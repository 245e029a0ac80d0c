"""Keeps every (sender, driver) session alive, and says when it cannot.

- A dropped session of a linked device reconnects with exponential backoff and jitter. A session that
  was never linked (its QR codes expired) is not retried: the user links again.
- After `circuit_failures` failed attempts in a row the circuit opens: the session is closed, its state
  becomes `failed` and SenderCircuitOpen is emitted. After a cool-down, one attempt is allowed again.
- A liveness probe (a real round trip) runs on every connected session; a session that stops answering
  ("connected but dead") is closed and reconnected.
Time comes from the injected Clock and Timers, so all of this runs on a fake clock in tests.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from session_host.drivers.base import SessionDriver
from session_host.timers import Timers
from wacast import observability as obs
from wacast.domain.senders import DriverSession, Sender, SenderState
from wacast.observability import logger
from wacast.ports import Clock
from wacast.settings import session_host_default

Publish = Callable[[Sender, dict[str, DriverSession], datetime], None]
Run = Callable[[Callable[[], None]], None]
RESUMABLE = frozenset({SenderState.CONNECTED, SenderState.DISCONNECTED, SenderState.LINKING, SenderState.FAILED})


@dataclass(frozen=True)
class SupervisorPolicy:
    """Reconnect backoff, circuit breaker and liveness probe: the host builds it from its settings
    (`policy_of`), whose defaults these are."""

    reconnect_base: float = session_host_default("reconnect_base_seconds")
    reconnect_max: float = session_host_default("reconnect_max_seconds")
    circuit_failures: int = session_host_default("circuit_failures")
    circuit_cooldown: float = session_host_default("circuit_cooldown_seconds")
    probe_every: float = session_host_default("probe_every_seconds")
    probe_timeout: float = session_host_default("probe_timeout_seconds")
    probe_misses: int = 2  # consecutive failed probes before the session counts as dead


@dataclass
class _Tracked:
    sender: Sender
    driver: str
    session: DriverSession = field(default_factory=DriverSession)
    wanted: bool = True
    live: bool = False  # this host has the session open (or opening)
    failures: int = 0
    circuit_open: bool = False
    misses: int = 0
    epoch: int = 0  # bumped by every (re)start and close: timers of an older epoch do nothing


def resume_state(sender: Sender, driver: str) -> SenderState | None:
    """The state a driver session had before this host started, when it should be reopened now."""
    known = sender.driver_states.get(driver)
    state = known.state if known is not None else sender.state
    return state if state in RESUMABLE else None


class SessionSupervisor:
    """Watches driver states; reconnects, opens circuits and probes liveness."""

    def __init__(
        self,
        drivers: Mapping[str, SessionDriver],
        publish: Publish,
        clock: Clock,
        timers: Timers,
        policy: SupervisorPolicy,
        run: Run,
        rng: random.Random | None = None,
    ) -> None:
        self.drivers = drivers
        self.publish = publish
        self.clock = clock
        self.timers = timers
        self.policy = policy
        self.run = run
        self.rng = rng or random.Random()
        self._tracked: dict[tuple[str, str], _Tracked] = {}
        self._lock = threading.RLock()
        self._publish_lock = threading.Lock()
        self._stopping = False

    # -- what the host asks -----------------------------------------------------------------------

    def open(
        self, sender: Sender, driver: str, *, reset: bool = False, half_open: bool = False, inline: bool = False
    ) -> None:
        """Want the session open. `reset` (a user asked): close the circuit and forget past failures.
        `half_open`: one attempt, after which a failure opens the circuit again. `inline`: start it on
        the caller's thread (drivers' `start` returns at once) rather than in the background."""
        with self._lock:
            tracked = self._track(sender, driver)
            busy = (
                tracked.live
                and tracked.wanted
                and tracked.session.state in (SenderState.CONNECTED, SenderState.LINKING)
            )
            tracked.wanted = True
            if reset:
                tracked.failures, tracked.circuit_open = 0, False
            if half_open:
                tracked.failures, tracked.circuit_open = self.policy.circuit_failures - 1, False
            if busy or (tracked.circuit_open and not reset):
                return
            epoch = self._bump(tracked)
        if inline:
            self._restart(sender, driver, epoch)
        else:
            self.run(lambda: self._restart(sender, driver, epoch))

    def release(self, sender_id: str, driver: str) -> None:
        """No longer want the session (logging out, sender deleted): never reconnect it. The caller
        closes it (a logout needs the session open to reach the phone)."""
        with self._lock:
            tracked = self._tracked.get((sender_id, driver))
            if tracked is not None:
                tracked.wanted = tracked.live = False
                self._bump(tracked)

    def close(self, sender_id: str, driver: str) -> None:
        """No longer want the session, and close it (a driver disabled on the sender)."""
        self.release(sender_id, driver)
        self.drivers[driver].close(sender_id)

    def forget(self, sender_id: str) -> None:
        with self._lock:
            for key in [k for k in self._tracked if k[0] == sender_id]:
                self._bump(self._tracked.pop(key))

    def state_of(self, sender_id: str, driver: str) -> SenderState | None:
        tracked = self._tracked.get((sender_id, driver))
        return tracked.session.state if tracked is not None else None

    def stop(self) -> None:
        self._stopping = True

    # -- what the drivers say ---------------------------------------------------------------------

    def on_driver_state(self, driver: str, sender: Sender, state: SenderState, error: str | None, at: datetime) -> None:
        with self._lock:
            tracked = self._track(sender, driver)
            tracked.sender = sender
            previous = tracked.session.state
            self._set(tracked, state, error, at)
            action = self._decide(tracked, previous, error)
        if action is not None:
            action()
        self._publish(sender, at)

    def _decide(self, tracked: _Tracked, previous: SenderState, error: str | None) -> Callable[[], None] | None:
        state = tracked.session.state
        if state is SenderState.CONNECTED:
            tracked.failures, tracked.misses, tracked.circuit_open, tracked.live = 0, 0, False, True
            if previous is not SenderState.CONNECTED:  # one probe chain per connection
                epoch = self._bump(tracked)
                self.timers.call_later(self.policy.probe_every, lambda: self._probe(tracked, epoch))
            return None
        if state is SenderState.LOGGED_OUT:
            tracked.wanted = tracked.live = False
            tracked.failures = 0
            self._bump(tracked)
            return None
        if not tracked.wanted or self._stopping:
            return None
        if state is SenderState.FAILED:
            return self._open_circuit(tracked, error)
        if state is SenderState.DISCONNECTED:
            return lambda: self._after_drop(tracked, previous, error)
        return None

    def _after_drop(self, tracked: _Tracked, previous: SenderState, error: str | None) -> None:
        driver = self.drivers[tracked.driver]
        if not driver.is_linked(tracked.sender):
            with self._lock:
                tracked.wanted = tracked.live = False
                self._bump(tracked)
                if previous is SenderState.LINKING:
                    tracked.session.error = "link_expired: the code was not used in time; start linking again"
            driver.close(tracked.sender.id)
            self._publish(tracked.sender, self.clock.now())
            return
        with self._lock:
            tracked.failures += 1
            if tracked.failures >= self.policy.circuit_failures:
                action = self._open_circuit(tracked, error)
            else:
                epoch, delay = tracked.epoch, self._backoff(tracked.failures)
                logger.info(
                    "session dropped; reconnecting",
                    sender_id=tracked.sender.id,
                    driver=tracked.driver,
                    attempt=tracked.failures,
                    delay=round(delay, 1),
                    error=error,
                )
                self.timers.call_later(delay, lambda: self._reconnect(tracked, epoch))
                return
        action()
        self._publish(tracked.sender, self.clock.now())

    def _open_circuit(self, tracked: _Tracked, error: str | None) -> Callable[[], None]:
        tracked.circuit_open, tracked.live = True, False
        detail = error or "no detail"
        if tracked.failures >= self.policy.circuit_failures:
            detail = f"{tracked.failures} attempts failed in a row; last: {detail}"
        tracked.session.state = SenderState.FAILED
        tracked.session.error = f"circuit_open: {detail}"[:400]
        epoch = self._bump(tracked)
        obs.emit(obs.SENDER_CIRCUIT_OPEN)
        logger.warning("sender circuit open", sender_id=tracked.sender.id, driver=tracked.driver, error=error)
        self.timers.call_later(self.policy.circuit_cooldown, lambda: self._half_open(tracked, epoch))
        return lambda: self.drivers[tracked.driver].close(tracked.sender.id)

    # -- timers -------------------------------------------------------------------------------------

    def _reconnect(self, tracked: _Tracked, epoch: int) -> None:
        with self._lock:
            if self._stale(tracked, epoch) or tracked.session.state is SenderState.CONNECTED:
                return  # superseded, or the driver reconnected by itself meanwhile
            epoch = self._bump(tracked)
        self.run(lambda: self._restart(tracked.sender, tracked.driver, epoch))

    def _half_open(self, tracked: _Tracked, epoch: int) -> None:
        if not self._stale(tracked, epoch):
            self.open(tracked.sender, tracked.driver, half_open=True)

    def _probe(self, tracked: _Tracked, epoch: int) -> None:
        if self._stale(tracked, epoch) or tracked.session.state is not SenderState.CONNECTED:
            return
        self.run(lambda: self._run_probe(tracked, epoch))

    def _run_probe(self, tracked: _Tracked, epoch: int) -> None:
        alive = self.drivers[tracked.driver].probe(tracked.sender.id, self.policy.probe_timeout)
        with self._lock:
            if self._stale(tracked, epoch):
                return
            tracked.misses = 0 if alive else tracked.misses + 1
            dead = tracked.misses >= self.policy.probe_misses
            if not dead:
                self.timers.call_later(self.policy.probe_every, lambda: self._probe(tracked, epoch))
                return
            self._bump(tracked)
        timeout = self.policy.probe_timeout
        logger.warning(
            "session looks connected but does not answer", sender_id=tracked.sender.id, driver=tracked.driver
        )
        self.drivers[tracked.driver].close(tracked.sender.id)
        error = f"liveness: {tracked.misses} round trips got no answer within {timeout:g}s"
        self.on_driver_state(tracked.driver, tracked.sender, SenderState.DISCONNECTED, error, self.clock.now())

    # -- helpers --------------------------------------------------------------------------------------

    def _restart(self, sender: Sender, driver: str, epoch: int) -> None:
        tracked = self._tracked.get((sender.id, driver))
        if tracked is None or self._stale(tracked, epoch):
            return
        tracked.live = True
        self.drivers[driver].close(sender.id)
        self.drivers[driver].start(sender)

    def _stale(self, tracked: _Tracked, epoch: int) -> bool:
        current = self._tracked.get((tracked.sender.id, tracked.driver))
        return self._stopping or current is not tracked or tracked.epoch != epoch or not tracked.wanted

    def _track(self, sender: Sender, driver: str) -> _Tracked:
        tracked = self._tracked.get((sender.id, driver))
        if tracked is None:
            known = sender.driver_states.get(driver)
            tracked = _Tracked(sender=sender, driver=driver, session=known.model_copy() if known else DriverSession())
            self._tracked[(sender.id, driver)] = tracked
        return tracked

    @staticmethod
    def _bump(tracked: _Tracked) -> int:
        tracked.epoch += 1
        return tracked.epoch

    @staticmethod
    def _set(tracked: _Tracked, state: SenderState, error: str | None, at: datetime) -> None:
        since = tracked.session.since if tracked.session.state is state and tracked.session.since else at
        tracked.session = DriverSession(state=state, since=since, error=error)

    def _backoff(self, failures: int) -> float:
        raw = min(self.policy.reconnect_max, self.policy.reconnect_base * 2.0 ** (failures - 1))
        return raw * self.rng.uniform(0.8, 1.2)

    def _publish(self, sender: Sender, at: datetime) -> None:
        with self._publish_lock:  # always the latest snapshot, one writer at a time
            with self._lock:
                sessions = {d: t.session.model_copy() for (s, d), t in self._tracked.items() if s == sender.id}
                latest = next((t.sender for (s, _), t in self._tracked.items() if s == sender.id), sender)
            self.publish(latest, sessions, at)
