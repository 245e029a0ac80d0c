"""Registration, login and the identity of a request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from wacast.domain.accounts import Account, Principal, Role, User
from wacast.domain.errors import Unauthorized
from wacast.domain.senders import Sender, SenderState
from wacast.ports import AccountRepository, Clock, SenderRepository
from wacast.security import TokenService, hash_password, verify_password


@dataclass(frozen=True)
class Session:
    token: str
    expires_at: datetime
    user: User
    account: Account


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


class AuthService:
    """Accounts and their users: register, log in, and resolve a bearer token to a Principal."""

    def __init__(
        self,
        accounts: AccountRepository,
        senders: SenderRepository,
        tokens: TokenService,
        clock: Clock,
        default_driver: str,
    ) -> None:
        self.accounts = accounts
        self.senders = senders
        self.tokens = tokens
        self.clock = clock
        self.default_driver = default_driver

    def register(self, email: str, password: str, account_name: str) -> Session:
        now = self.clock.now()
        account = Account(id=new_id("acct"), name=account_name, created_at=now)
        owner = User(
            id=new_id("user"),
            account_id=account.id,
            email=email.lower(),
            role=Role.OWNER,
            password_hash=hash_password(password),
            created_at=now,
        )
        self.accounts.create_with_owner(account, owner)
        if self.default_driver == "simulated":
            account = self._give_simulated_sender(account, now)
        return self._session(owner, account)

    def login(self, email: str, password: str) -> Session:
        user = self.accounts.get_user_by_email(email.lower())
        if not verify_password(user.password_hash if user else None, password) or user is None:
            raise Unauthorized("wrong email or password")
        account = self.accounts.get(user.account_id)
        if account is None:
            raise Unauthorized("wrong email or password")
        return self._session(user, account)

    def authenticate(self, token: str) -> Principal:
        return self.tokens.verify(token)

    def me(self, principal: Principal) -> tuple[User, Account]:
        user = self.accounts.get_user(principal.account_id, principal.user_id)
        account = self.accounts.get(principal.account_id)
        if user is None or account is None:
            raise Unauthorized("this user no longer exists")
        return user, account

    def _session(self, user: User, account: Account) -> Session:
        principal = Principal(account_id=account.id, user_id=user.id, role=user.role, email=user.email)
        token, expires = self.tokens.issue(principal, self.clock.now())
        return Session(token=token, expires_at=expires, user=user, account=account)

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
