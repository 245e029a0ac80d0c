"""The session host: wires drivers, the driver chain, the delivery service and the outbox consumer,
opens every sender's session, and shuts down gracefully on SIGTERM."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping

from session_host.consumer import OutboxConsumer
from session_host.drivers.base import Driver
from session_host.drivers.chain import DriverChain
from session_host.events import HostEvents
from session_host.timers import ThreadTimers, Timers
from wacast.bootstrap import Services
from wacast.domain.senders import Sender, SenderState
from wacast.observability import logger
from wacast.services.delivery import DeliveryConfig, DeliveryService

DriverFactory = Callable[[HostEvents, Timers], Mapping[str, Driver]]
SENDER_REFRESH_SECONDS = 15.0


class SessionHost:
    def __init__(self, services: Services, driver_factory: DriverFactory, *, wait_seconds: int = 20) -> None:
        self.services = services
        self.timers: Timers = ThreadTimers()
        self.events = HostEvents(services.senders, services.publisher)
        self.drivers = dict(driver_factory(self.events, self.timers))
        self.chain = DriverChain(self.drivers, ensure_session=self.ensure_session)
        settings = services.settings
        self.delivery = DeliveryService(
            messages=services.messages,
            senders=services.senders,
            chain=self.chain,
            pacing=services.repos.pacing_guard,
            optouts=services.repos.optouts,
            campaigns=services.repos.campaign_states,
            clock=services.clock,
            config=DeliveryConfig(host_id=settings.host_id, lease_seconds=settings.lease_seconds),
            rng=random.Random(),
        )
        self.consumer = OutboxConsumer(services.queues.outbox, self.delivery, wait_seconds=wait_seconds)
        self._started: set[str] = set()
        self._stopping = threading.Event()
        self._refresher = threading.Thread(target=self._refresh_loop, name="sender-refresh", daemon=True)

    def start(self) -> None:
        self.open_sessions()
        self.consumer.start()
        self._refresher.start()
        logger.info("session host started", drivers=sorted(self.drivers))

    def stop(self) -> None:
        self._stopping.set()
        self.consumer.stop()
        for driver in self.drivers.values():
            driver.stop()
        self.timers.stop()
        logger.info("session host stopped")

    def open_sessions(self) -> None:
        """Start the session of every sender not yet started (new senders appear while running)."""
        for sender in self.services.senders.list_all():
            self.ensure_session(sender)

    def ensure_session(self, sender: Sender) -> None:
        if sender.id not in self._started and sender.state is not SenderState.LOGGED_OUT:
            self.open_session(sender)

    def open_session(self, sender: Sender) -> None:
        self._started.add(sender.id)
        for driver in self.chain.enabled(sender):
            try:
                driver.start(sender)
            except Exception:
                logger.exception("could not start a session", sender_id=sender.id, driver=driver.name)

    def _refresh_loop(self) -> None:
        while not self._stopping.wait(SENDER_REFRESH_SECONDS):
            try:
                self.open_sessions()
            except Exception:
                logger.exception("sender refresh failed")
