"""Opting phones out and back in: the one way the opt-out list changes (API, stop keyword)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from wacast.domain.accounts import Principal
from wacast.domain.contacts import contact_id_for
from wacast.domain.errors import Forbidden, NotFound
from wacast.domain.phones import normalise_phone
from wacast.observability import logger
from wacast.ports import AccountRepository, Clock, OptOutRepository


@dataclass(frozen=True)
class OptOutResult:
    phone: str
    opted_out: bool
    contact_id: str | None  # the contact of this phone, when there is one
    source: str | None = None
    at: datetime | None = None


class OptOutService:
    """Changes the opt-out list of an account; the contact of the phone, if any, follows in the same write."""

    def __init__(self, optouts: OptOutRepository, accounts: AccountRepository, clock: Clock) -> None:
        self.optouts = optouts
        self.accounts = accounts
        self.clock = clock

    def opt_out(self, principal: Principal, phone: str, source: str = "api") -> OptOutResult:
        """Anyone of the account may opt a phone out (a phone need not be a contact)."""
        e164 = self._e164(principal.account_id, phone)
        at = self.clock.now()
        return self.record(principal.account_id, e164, source, at)

    def opt_in(self, principal: Principal, phone: str) -> OptOutResult:
        """Only owners and admins may opt a phone back in: it needs the person's consent."""
        if not principal.can_manage:
            raise Forbidden("only owners and admins can opt a phone back in")
        e164 = self._e164(principal.account_id, phone)
        is_contact = self.optouts.opt_in(principal.account_id, e164, self.clock.now())
        logger.info("opted in", account_id=principal.account_id)
        return OptOutResult(e164, False, contact_id_for(principal.account_id, e164) if is_contact else None)

    def record(self, account_id: str, phone: str, source: str, at: datetime) -> OptOutResult:
        """Opt out an E.164 `phone` (e.g. because it wrote a stop keyword)."""
        is_contact = self.optouts.opt_out(account_id, phone, source, at)
        logger.info("opted out", account_id=account_id, source=source, contact=is_contact)
        return OptOutResult(phone, True, contact_id_for(account_id, phone) if is_contact else None, source, at)

    def _e164(self, account_id: str, phone: str) -> str:
        account = self.accounts.get(account_id)
        if account is None:
            raise NotFound("account not found")
        return normalise_phone(phone, account.settings.default_country)
