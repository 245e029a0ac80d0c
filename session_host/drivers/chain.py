"""The driver chain: per sender, the primary driver, then the fallback only after a transient failure."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from session_host.drivers.base import Driver
from wacast.domain.outcomes import OutcomeKind, SendCode, SendOutcome
from wacast.domain.senders import Sender


class DriverChain:
    """Implements wacast.ports.DriverChain over the drivers this host runs."""

    def __init__(self, drivers: Mapping[str, Driver], ensure_session: Callable[[Sender], None] | None = None) -> None:
        self.drivers = dict(drivers)
        self.ensure_session = ensure_session

    def enabled(self, sender: Sender) -> list[Driver]:
        return [self.drivers[name] for name in sender.drivers if name in self.drivers]

    def is_ready(self, sender: Sender) -> bool:
        if self.ensure_session is not None:
            self.ensure_session(sender)  # a sender created since the host started gets its session now
        return any(driver.is_connected(sender.id) for driver in self.enabled(sender))

    def lookup(self, sender: Sender, phone: str) -> bool | None:
        """Whether `phone` is on WhatsApp, from the first connected driver that can look numbers up (None:
        none can, or the lookup failed)."""
        for driver in self.enabled(sender):
            ask: Callable[[Sender, str], bool | None] | None = getattr(driver, "is_on_whatsapp", None)
            if ask is not None and driver.is_connected(sender.id):
                return ask(sender, phone)
        return None

    def send(
        self,
        sender: Sender,
        phone: str,
        body: str,
        media_url: str | None = None,
        before_fallback: Callable[[str], bool] | None = None,
    ) -> SendOutcome:
        """Send through the primary; after a transient failure, through the next driver, once
        `before_fallback(driver name)` allows it (the pacing guard reserves that attempt's slot)."""
        drivers = self.enabled(sender)
        if not drivers:
            return SendOutcome.transient("none", SendCode.NO_DRIVER, "none of the sender's drivers runs on this host")
        failure: SendOutcome | None = None  # the first real (attempted) transient failure
        for position, driver in enumerate(drivers):
            if position > 0 and before_fallback is not None and not before_fallback(driver.name):
                break
            if not driver.is_connected(sender.id):
                continue
            outcome = driver.send(sender, phone, body, media_url)
            if outcome.kind is not OutcomeKind.TRANSIENT:
                # sent, permanent or unknown: a permanent error is not tried elsewhere, and an
                # unknown one must never be re-sent.
                return replace(outcome, fallback_used=position > 0)
            failure = failure or outcome
        if failure is not None:
            # a real attempt failed: that is a retry (it counts), even if the next driver was down
            return replace(failure, fallback_used=len(drivers) > 1)
        return SendOutcome.transient(drivers[0].name, SendCode.NOT_CONNECTED, "no session of this sender is connected")
