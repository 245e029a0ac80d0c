"""Senders of an account: their configuration (written here), and the session commands sent to the
session host through the control queue (the host writes the session's state and QR code back)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from wacast.domain.accounts import Principal
from wacast.domain.commands import CommandType, SenderCommand
from wacast.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from wacast.domain.pacing import PacingPolicy
from wacast.domain.phones import normalise_phone, time_zone_of
from wacast.domain.senders import Sender, SenderState, safe_default_pacing
from wacast.observability import logger
from wacast.ports import AccountRepository, Clock, Queue, SenderRepository

#: A linked sender's number cannot change: it is the WhatsApp account its sessions belong to.
UNLINKED = frozenset({SenderState.NEW, SenderState.LOGGED_OUT})


@dataclass(frozen=True)
class CurrentQr:
    code: str
    updated_at: datetime
    driver: str | None


class SenderService:
    """Creates, reads, changes and deletes senders, and asks the host to link, pair or log them out."""

    def __init__(
        self,
        senders: SenderRepository,
        accounts: AccountRepository,
        control: Queue,
        clock: Clock,
        allowed_drivers: Sequence[str],
        qr_max_age_seconds: float = 90.0,
    ) -> None:
        self.senders = senders
        self.accounts = accounts
        self.control = control
        self.clock = clock
        self.allowed_drivers = tuple(allowed_drivers)
        self.qr_max_age = timedelta(seconds=qr_max_age_seconds)

    # -- configuration ----------------------------------------------------------------------------

    def create(
        self,
        principal: Principal,
        phone: str,
        display_name: str,
        drivers: Sequence[str],
        pacing: PacingPolicy | None = None,
    ) -> Sender:
        """Add a number. Without a pacing, it gets the safe default on a warm-up ramp, its sending window in
        the time zone of the number's region."""
        _require_manager(principal)
        e164 = self._phone(principal, phone)
        if any(s.phone == e164 for s in self.senders.list_for_account(principal.account_id)):
            raise Conflict("this account already has a sender with this number", details={"field": "phone"})
        sender = Sender(
            id=f"sndr_{uuid.uuid4().hex[:20]}",
            account_id=principal.account_id,
            phone=e164,
            display_name=display_name,
            drivers=self._drivers(drivers),
            pacing=pacing or safe_default_pacing(time_zone_of(e164)),
            created_at=self.clock.now(),
        )
        self.senders.create(sender)
        logger.info("sender created", sender_id=sender.id, drivers=sender.drivers)
        return sender

    def list_senders(self, principal: Principal) -> list[Sender]:
        return sorted(self.senders.list_for_account(principal.account_id), key=lambda s: s.created_at)

    def get(self, principal: Principal, sender_id: str) -> Sender:
        sender = self.senders.get(principal.account_id, sender_id)
        if sender is None:
            raise NotFound("no such sender", details={"sender_id": sender_id})
        return sender

    def update(
        self,
        principal: Principal,
        sender_id: str,
        *,
        phone: str | None = None,
        display_name: str | None = None,
        drivers: Sequence[str] | None = None,
        pacing: PacingPolicy | None = None,
    ) -> Sender:
        _require_manager(principal)
        sender = self.get(principal, sender_id)
        changes: dict[str, object] = {}
        if phone is not None and (e164 := self._phone(principal, phone)) != sender.phone:
            if sender.state not in UNLINKED:
                raise Conflict("log the sender out before changing its number", details={"field": "phone"})
            changes["phone"] = e164
        if display_name is not None:
            changes["display_name"] = display_name
        if drivers is not None:
            changes["drivers"] = self._drivers(drivers)
        if pacing is not None:
            changes["pacing"] = pacing
        updated = sender.model_copy(update=changes)
        self.senders.save_config(updated)
        if updated.drivers != sender.drivers:
            self._command(updated, CommandType.SYNC)
        return updated

    def delete(self, principal: Principal, sender_id: str) -> None:
        """Delete the sender; the host logs its sessions out and forgets them."""
        _require_manager(principal)
        sender = self.get(principal, sender_id)
        self._command(sender, CommandType.DELETE)
        self.senders.delete(principal.account_id, sender_id)
        account = self.accounts.get(principal.account_id)
        if account is not None and account.default_sender_id == sender_id:
            self.accounts.save(account.model_copy(update={"default_sender_id": None}))

    # -- sessions -----------------------------------------------------------------------------------

    def start_linking(self, principal: Principal, sender_id: str, driver: str | None = None) -> SenderCommand:
        _require_manager(principal)
        sender = self.get(principal, sender_id)
        return self._command(sender, CommandType.LINK, driver=self._enabled(sender, driver))

    def request_pairing_code(
        self, principal: Principal, sender_id: str, phone: str | None = None, driver: str | None = None
    ) -> SenderCommand:
        _require_manager(principal)
        sender = self.get(principal, sender_id)
        e164 = self._phone(principal, phone) if phone else sender.phone
        if e164 is None:
            raise ValidationFailed("name the phone number to pair", field="phone")
        if sender.phone is not None and e164 != sender.phone:
            raise ValidationFailed("the pairing number must be the sender's own number", field="phone")
        return self._command(sender, CommandType.PAIR, driver=self._enabled(sender, driver), phone=e164.lstrip("+"))

    def logout(self, principal: Principal, sender_id: str, driver: str | None = None) -> SenderCommand:
        _require_manager(principal)
        sender = self.get(principal, sender_id)
        return self._command(sender, CommandType.LOGOUT, driver=self._enabled(sender, driver))

    def current_qr(self, principal: Principal, sender_id: str) -> CurrentQr:
        """The QR code on show, while it is fresh (WhatsApp rotates it; an old one no longer links)."""
        _require_manager(principal)
        sender = self.get(principal, sender_id)
        if sender.qr is None or sender.qr_updated_at is None or sender.state is SenderState.CONNECTED:
            raise NotFound("no QR code to show: start linking first", details={"state": sender.state.value})
        if self.clock.now() - sender.qr_updated_at > self.qr_max_age:
            raise NotFound("the QR code expired: start linking again", details={"state": sender.state.value})
        return CurrentQr(code=sender.qr, updated_at=sender.qr_updated_at, driver=sender.linking_driver)

    def qr_image(self, principal: Principal, sender_id: str, fmt: Literal["png", "svg"]) -> bytes:
        import segno  # only this route draws: not loaded at a cold start

        qr = segno.make_qr(self.current_qr(principal, sender_id).code, error="l")
        out = io.BytesIO()
        qr.save(out, kind=fmt, scale=8, border=4)
        return out.getvalue()

    # -- helpers ------------------------------------------------------------------------------------

    def _command(
        self, sender: Sender, kind: CommandType, *, driver: str | None = None, phone: str | None = None
    ) -> SenderCommand:
        command = SenderCommand(
            type=kind,
            command_id=uuid.uuid4().hex,
            account_id=sender.account_id,
            sender_id=sender.id,
            driver=driver,
            phone=phone,
            issued_at=self.clock.now(),
        )
        self.control.send(command.model_dump(mode="json"))
        logger.info("session command sent", command=kind.value, sender_id=sender.id, driver=driver)
        return command

    def _phone(self, principal: Principal, phone: str) -> str:
        account = self.accounts.get(principal.account_id)
        return normalise_phone(phone, account.settings.default_country if account else None)

    def _drivers(self, drivers: Sequence[str]) -> list[str]:
        names = list(drivers)
        if not names:
            raise ValidationFailed("enable at least one driver", field="drivers")
        if len(set(names)) != len(names):
            raise ValidationFailed("a driver is listed twice", field="drivers")
        unknown = [n for n in names if n not in self.allowed_drivers]
        if unknown:
            allowed = ", ".join(self.allowed_drivers)
            raise ValidationFailed(f"unknown driver {unknown[0]!r}: use {allowed}", field="drivers")
        return names

    @staticmethod
    def _enabled(sender: Sender, driver: str | None) -> str | None:
        if driver is not None and driver not in sender.drivers:
            raise ValidationFailed(f"the driver {driver!r} is not enabled on this sender", field="driver")
        return driver


def _require_manager(principal: Principal) -> None:
    if not principal.can_manage:
        raise Forbidden("only owners and admins manage senders")
