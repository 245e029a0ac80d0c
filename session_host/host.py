"""The session host: wires drivers, the supervisor, the driver chain, the delivery service and the two
consumers (outbox and control), opens the sessions that were open before, and shuts down gracefully.

Shutdown order (SIGTERM): stop taking commands; stop the outbox consumer, which stops polling,
finishes the sends in flight and hands every waiting message back to SQS; stop reconnecting; only
then close the driver sessions the last sends needed; and publish the receipts still waiting.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from session_host.commands import CommandHandler
from session_host.consumer import OutboxConsumer
from session_host.control import ControlConsumer
from session_host.drivers.base import DriverEvents, SessionDriver
from session_host.drivers.chain import DriverChain
from session_host.events import DriverEventsFor, HostEvents
from session_host.governor import HostGovernor, thresholds_of
from session_host.health import Heartbeat
from session_host.lookup import NumberChecker, lookup_policy_of
from session_host.sends_journal import SendsJournal
from session_host.supervisor import SessionSupervisor, SupervisorPolicy, resume_state
from session_host.timers import ThreadTimers, Timers
from wacast.bootstrap import SessionHostServices
from wacast.bootstrap.shared import presets_of
from wacast.domain.recent_sends import RecentSends
from wacast.domain.senders import Sender, SenderState
from wacast.observability import logger
from wacast.services.delivery import DeliveryConfig, DeliveryService
from wacast.services.governor import GovernorService

EventsFor = Callable[[str], DriverEvents]
DriverFactory = Callable[[EventsFor, Timers], Mapping[str, SessionDriver]]
SENDER_REFRESH_SECONDS = 15.0
OPEN_WAIT_SECONDS = 15.0


def policy_of(services: SessionHostServices) -> SupervisorPolicy:
    s = services.settings
    return SupervisorPolicy(
        reconnect_base=s.reconnect_base_seconds,
        reconnect_max=s.reconnect_max_seconds,
        circuit_failures=s.circuit_failures,
        circuit_cooldown=s.circuit_cooldown_seconds,
        probe_every=s.probe_every_seconds,
        probe_timeout=s.probe_timeout_seconds,
    )


class SessionHost:
    """The long-running process that holds the WhatsApp sessions and sends the outbox."""

    def __init__(
        self,
        services: SessionHostServices,
        driver_factory: DriverFactory,
        *,
        wait_seconds: int = 20,
        timers: Timers | None = None,
        policy: SupervisorPolicy | None = None,
    ) -> None:
        self.services = services
        self.timers: Timers = timers or ThreadTimers()
        self.recent = RecentSends()  # the provider ids of this host's sends: its receipts name their messages
        self.journal = SendsJournal(services.settings.session_store, self.recent)  # kept across a crash
        self.recent.on_remember = self.journal.append
        self.events = HostEvents(services.senders, services.publisher, recent=self.recent)
        self.governor = HostGovernor(
            GovernorService(
                services.senders, services.campaigns, services.campaign_states, services.campaign_jobs, services.clock
            ),
            thresholds_of(services.settings),
        )
        self._workers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sessions")
        self.supervisor: SessionSupervisor = SessionSupervisor(
            drivers={},
            publish=self.events.publish_state,
            clock=services.clock,
            timers=self.timers,
            policy=policy or policy_of(services),
            run=self._run_in_background,
        )
        self.drivers = dict(
            driver_factory(lambda name: DriverEventsFor(name, self.events, self.supervisor, self.governor), self.timers)
        )
        self.supervisor.drivers = self.drivers
        self.chain = DriverChain(self.drivers, ensure_session=self.ensure_session)
        settings = services.settings
        self.delivery = DeliveryService(
            messages=services.messages,
            senders=services.senders,
            chain=self.chain,
            pacing=services.pacing_guard,
            optouts=services.optouts,
            campaigns=services.campaign_states,
            clock=services.clock,
            config=DeliveryConfig(
                host_id=settings.host_id,
                lease_seconds=settings.lease_seconds,
                disconnected_recheck_seconds=settings.disconnected_recheck_seconds,
                presets=presets_of(settings),
            ),
            rng=random.Random(),
            governor=self.governor,
            numbers=NumberChecker(self.chain, lookup_policy_of(settings)),
            recent=self.recent,
        )
        self.heartbeat = Heartbeat(Path(settings.heartbeat_file))
        self.consumer = OutboxConsumer(
            services.outbox,
            self.delivery,
            wait_seconds=wait_seconds,
            heartbeat=self.heartbeat.beat,
            visibility_seconds=settings.outbox_visibility_seconds,
        )
        self.commands = CommandHandler(services.senders, self.drivers, self.supervisor, services.clock)
        self.control = ControlConsumer(
            services.control,
            self.commands.apply,
            services.clock,
            settings.command_max_age_seconds,
            wait_seconds=wait_seconds,
        )
        self._opened: dict[str, threading.Event] = {}
        self._seen_lock = threading.Lock()
        self._stopping = threading.Event()
        self._refresher = threading.Thread(target=self._refresh_loop, name="sender-refresh", daemon=True)

    def start(self) -> None:
        self.journal.load()
        self.events.start()
        self.open_sessions()
        self.consumer.start()
        self.control.start()
        self._refresher.start()
        logger.info("session host started", drivers=sorted(self.drivers))

    def stop(self) -> None:
        self._stopping.set()
        self.control.stop()
        self.consumer.stop()
        self.supervisor.stop()
        for driver in self.drivers.values():
            driver.stop()
        self.events.stop()  # the receipts the sessions reported until they closed
        self.journal.close()
        self._workers.shutdown(wait=False, cancel_futures=True)
        self.timers.stop()
        logger.info("session host stopped")

    def open_sessions(self) -> None:
        """Reopen the sessions that were open before (new senders appear while running)."""
        for sender in self.services.senders.list_all():
            self.ensure_session(sender)

    def ensure_session(self, sender: Sender) -> None:
        """Once per sender and process: resume each driver session that was linked or linking. A new
        or logged-out session waits for a link command; a failed one gets one attempt (half-open)."""
        with self._seen_lock:
            opened = self._opened.get(sender.id)
            first = opened is None
            if opened is None:
                opened = self._opened[sender.id] = threading.Event()
        if not first:
            opened.wait(OPEN_WAIT_SECONDS)  # another thread is opening it: let it finish
            return
        try:
            for name in sender.drivers:
                state = resume_state(sender, name)
                if name in self.drivers and state is not None:
                    self.supervisor.open(sender, name, half_open=state is SenderState.FAILED, inline=True)
        finally:
            opened.set()

    def _run_in_background(self, fn: Callable[[], None]) -> None:
        if self._stopping.is_set():
            return

        def run() -> None:
            try:
                fn()
            except Exception:
                logger.exception("session task failed")

        try:
            self._workers.submit(run)
        except RuntimeError:  # shutting down
            logger.info("session task dropped: the host is stopping")

    def _refresh_loop(self) -> None:
        while not self._stopping.wait(SENDER_REFRESH_SECONDS):
            try:
                self.open_sessions()
            except Exception:
                logger.exception("sender refresh failed")
            try:  # overdue receipts, and coolings that expired
                self.governor.tick(self.services.senders.list_all(), self.services.clock.now())
            except Exception:
                logger.exception("governor check failed")
