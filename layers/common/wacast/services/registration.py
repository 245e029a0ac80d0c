"""Creating an account with its owner: by sign-up when registration is open, or by the operator's
`make owner` command on a stack whose registration is closed (the default on AWS)."""

from __future__ import annotations

import uuid
from datetime import datetime

from wacast.domain.accounts import Account, Role, User
from wacast.domain.senders import Sender, SenderState
from wacast.ports import AccountRepository, Clock, SenderRepository
from wacast.security import hash_password


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


class Registration:
    """Creates accounts and their owners. Needs no signing key: it issues no token."""

    def __init__(self, accounts: AccountRepository, senders: SenderRepository, clock: Clock, default_driver: str):
        self.accounts = accounts
        self.senders = senders
        self.clock = clock
        self.default_driver = default_driver

    def create_owner(self, email: str, password: str, account_name: str, name: str = "") -> tuple[Account, User]:
        """A new account and its owner (Conflict when the email is taken)."""
        now = self.clock.now()
        account = Account(id=new_id("acct"), name=account_name, created_at=now)
        owner = User(
            id=new_id("user"),
            account_id=account.id,
            email=email.lower(),
            name=name,
            role=Role.OWNER,
            password_hash=hash_password(password),
            created_at=now,
        )
        self.accounts.create_with_owner(account, owner)
        if self.default_driver == "simulated":
            account = self._give_simulated_sender(account, now)
        return account, owner

    def _give_simulated_sender(self, account: Account, now: datetime) -> Account:
        """Local runs: a new account gets a connected simulated sender as its default, to send at once."""
        sender = Sender(
            id=new_id("sndr"),
            account_id=account.id,
            phone="+10000000000",
            display_name="Simulated sender",
            drivers=["simulated"],
            state=SenderState.CONNECTED,
            state_since=now,
            created_at=now,
        )
        self.senders.create(sender)
        account = account.model_copy(update={"default_sender_id": sender.id})
        self.accounts.save(account)
        return account
