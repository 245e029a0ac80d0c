"""Subscribes a session to its neonize client's events and turns them into driver events.

Every handler runs on a Go callback thread: it ignores events of a session that is over, and never
lets an exception escape into neonize.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from session_host.drivers.neonize_events import (
    account_signal_of_failure,
    connect_failure_state,
    incoming_of,
    receipt_of,
    temporary_ban_of,
)
from session_host.drivers.neonize_session import NeonizeSession
from wacast.domain.senders import SenderState
from wacast.observability import logger

if TYPE_CHECKING:
    from session_host.drivers.neonize_driver import NeonizeDriver


class NeonizeSubscriber:
    """The handlers of one session's events."""

    def __init__(self, session: NeonizeSession, driver: NeonizeDriver) -> None:
        self.session = session
        self.driver = driver
        self.sender = session.sender
        self.events = driver.events

    def subscribe(self) -> None:
        from neonize import events as ev

        client = self.session.client
        client.event.qr(self._guarded(self.qr))
        handlers: dict[type[Any], Callable[[Any], None]] = {
            ev.ConnectedEv: self.connected,
            ev.DisconnectedEv: self.disconnected,
            ev.PairStatusEv: self.pair_status,
            ev.ConnectFailureEv: self.connect_failure,
            ev.LoggedOutEv: self.logged_out,
            ev.StreamReplacedEv: lambda _: self._end(SenderState.DISCONNECTED, "stream_replaced: opened elsewhere"),
            ev.TemporaryBanEv: self.temporary_ban,
            ev.ClientOutdatedEv: lambda _: self._end(SenderState.FAILED, "client_outdated: update neonize"),
            ev.KeepAliveTimeoutEv: lambda _: setattr(self.session, "suspect", True),
            ev.KeepAliveRestoredEv: lambda _: setattr(self.session, "suspect", False),
            ev.ReceiptEv: self.receipt,
            ev.MessageEv: self.message,
        }
        for event_type, handler in handlers.items():
            client.event(event_type)(self._guarded(handler))

    def _guarded(self, handler: Callable[[Any], None]) -> Callable[[Any, Any], None]:
        def run(_: Any, event: Any) -> None:
            if self.session.ended:
                return
            try:
                handler(event)
            except Exception:
                logger.exception("neonize event handler failed", sender_id=self.sender.id)

        return run

    def _end(self, state: SenderState, error: str) -> None:
        self.session.signalled.set()
        self.driver.end(self.session, state, error)

    def qr(self, code: bytes) -> None:
        self.session.signalled.set()
        self.events.on_qr(self.sender, code.decode(), self.driver.clock.now())

    def connected(self, _: Any) -> None:
        session = self.session
        session.signalled.set()
        session.connected, session.suspect = True, False
        own = self.driver.learn_own_number(session)
        session.own_phone = own
        if own and self.sender.phone and own != self.sender.phone:
            self._end(SenderState.FAILED, f"wrong_number: linked {own}, but the sender is {self.sender.phone}")
            return
        self.events.on_state(self.sender, SenderState.CONNECTED, None, self.driver.clock.now())

    def disconnected(self, _: Any) -> None:
        self.session.connected = False
        error = "connection_lost: WhatsApp closed the connection"
        self.events.on_state(self.sender, SenderState.DISCONNECTED, error, self.driver.clock.now())

    def pair_status(self, event: Any) -> None:
        self.session.signalled.set()
        error = None if int(event.Status) == 2 else f"pair_failed: {event.Error or 'rejected'}"  # 2: SUCCESS
        self.events.on_state(self.sender, SenderState.LINKING, error, self.driver.clock.now())

    def connect_failure(self, event: Any) -> None:
        signal = account_signal_of_failure(event)
        if signal is not None:
            self.events.on_account_signal(self.sender, signal, self.driver.clock.now())
        self._end(*connect_failure_state(event))

    def logged_out(self, event: Any) -> None:
        signal = account_signal_of_failure(event)
        if signal is not None:
            self.events.on_account_signal(self.sender, signal, self.driver.clock.now())
        self._end(SenderState.LOGGED_OUT, f"logged_out: reason {int(event.Reason)}")

    def temporary_ban(self, event: Any) -> None:
        signal = temporary_ban_of(event)
        self.events.on_account_signal(self.sender, signal, self.driver.clock.now())
        self._end(SenderState.FAILED, f"temporary_ban: code {signal.code or int(event.Code)}")

    def receipt(self, event: Any) -> None:
        parsed = receipt_of(event)
        if parsed is not None:
            now = self.driver.clock.now()
            self.events.on_receipt(self.sender, parsed.provider_ids, parsed.status, parsed.recipient, now)

    def message(self, event: Any) -> None:
        parsed = incoming_of(event)
        if parsed is not None:
            self.events.on_incoming(
                self.sender,
                parsed.from_phone,
                parsed.text,
                self.driver.clock.now(),
                provider_id=parsed.provider_id,
                media_type=parsed.media_type,
            )


def subscribe(session: NeonizeSession, driver: NeonizeDriver) -> None:
    NeonizeSubscriber(session, driver).subscribe()
