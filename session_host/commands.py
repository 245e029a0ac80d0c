"""Applies one session command (from the control queue) to the drivers and the supervisor.

Each command is idempotent: linking a connected session, logging out a logged-out one, or deleting a
sender twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Mapping

from session_host.drivers.base import SessionDriver
from session_host.supervisor import SessionSupervisor
from wacast.domain.commands import CommandType, SenderCommand
from wacast.domain.senders import Sender, SenderState
from wacast.observability import logger
from wacast.ports import Clock, SenderRepository


class CommandHandler:
    """What the host does for each kind of SenderCommand."""

    def __init__(
        self,
        senders: SenderRepository,
        drivers: Mapping[str, SessionDriver],
        supervisor: SessionSupervisor,
        clock: Clock,
    ) -> None:
        self.senders = senders
        self.drivers = drivers
        self.supervisor = supervisor
        self.clock = clock

    def apply(self, command: SenderCommand) -> None:
        logger.info("session command", command=command.type.value, sender_id=command.sender_id, driver=command.driver)
        if command.type is CommandType.DELETE:
            self._delete(command)
            return
        sender = self.senders.get(command.account_id, command.sender_id)
        if sender is None:
            logger.info("session command for a deleted sender ignored", sender_id=command.sender_id)
            return
        if command.type is CommandType.LINK:
            for name in self._to_link(sender, command.driver):
                self.supervisor.open(sender, name, reset=True)
        elif command.type is CommandType.PAIR:
            for name in self._to_link(sender, command.driver)[:1]:
                self.supervisor.open(sender, name, reset=True)
                self.drivers[name].request_pairing_code(sender, command.phone or (sender.phone or "").lstrip("+"))
        elif command.type is CommandType.LOGOUT:
            for name in self._running(command.driver, sender.drivers):
                self.supervisor.release(sender.id, name)
                self.drivers[name].logout(sender)
        else:  # SYNC: close the sessions of drivers that are no longer enabled
            for name in self._running(None, [n for n in self.drivers if n not in sender.drivers]):
                self.supervisor.close(sender.id, name)

    def _to_link(self, sender: Sender, driver: str | None) -> list[str]:
        """The driver named, or else the first enabled driver of this host that is not connected."""
        if driver is not None:
            return [driver] if driver in self.drivers else []
        for name in sender.drivers:
            if name in self.drivers and self.supervisor.state_of(sender.id, name) is not SenderState.CONNECTED:
                return [name]
        return []

    def _running(self, driver: str | None, names: list[str]) -> list[str]:
        return [n for n in ([driver] if driver else names) if n in self.drivers]

    def _delete(self, command: SenderCommand) -> None:
        """The sender is gone: log every session out (so the phone drops the device) and forget it."""
        sender = Sender(id=command.sender_id, account_id=command.account_id, created_at=self.clock.now())
        for name, driver in self.drivers.items():
            self.supervisor.release(sender.id, name)
            driver.logout(sender)
            driver.forget(sender)
        self.supervisor.forget(sender.id)
