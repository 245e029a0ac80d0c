"""Registration, login and the identity of a request."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from wacast.domain.accounts import API_KEY_PREFIX, Account, Principal, Role, User
from wacast.domain.errors import Forbidden, RateLimited, Unauthorized
from wacast.ports import AccountRepository, Clock, LoginAttempts
from wacast.security import TokenService, hash_password, verify_password
from wacast.services.apikeys import ApiKeyService
from wacast.services.registration import Registration, new_id


@dataclass(frozen=True)
class Session:
    token: str
    expires_at: datetime
    user: User
    account: Account


class AuthService:
    """Accounts and their users: register, add users, log in (rate-limited per email), and resolve a
    bearer token or an API key to a Principal."""

    def __init__(
        self,
        accounts: AccountRepository,
        tokens: TokenService,
        api_keys: ApiKeyService,
        attempts: LoginAttempts,
        clock: Clock,
        registration: Registration,
        *,
        registration_open: bool,
    ) -> None:
        self.accounts = accounts
        self.tokens = tokens
        self.api_keys = api_keys
        self.attempts = attempts
        self.clock = clock
        self.registration = registration
        self.registration_open = registration_open

    def register(self, email: str, password: str, account_name: str, name: str = "") -> Session:
        """Sign-up: a new account with its owner, signed in. Refused when registration is closed."""
        if not self.registration_open:
            raise Forbidden(
                "sign-up is closed on this installation: ask its operator for an account "
                "(the first owner is created with `make owner`)"
            )
        account, owner = self.registration.create_owner(email, password, account_name, name)
        return self._session(owner, account)

    def add_user(self, principal: Principal, email: str, password: str, role: Role) -> User:
        """Owners and admins add users to their own account (never another owner)."""
        if not principal.can_manage:
            raise Forbidden("only owners and admins add users")
        if role is Role.OWNER:
            raise Forbidden("an account has one owner: add an admin instead", details={"field": "role"})
        user = User(
            id=new_id("user"),
            account_id=principal.account_id,
            email=email.lower(),
            role=role,
            password_hash=hash_password(password),
            created_at=self.clock.now(),
        )
        self.accounts.add_user(user)
        return user

    def login(self, email: str, password: str) -> Session:
        """Counts the attempt first (atomically), so parallel guesses cannot pass the limit; a success
        clears the count."""
        email = email.lower()
        wait = self.attempts.reserve(email, self.clock.now())
        if wait > 0:
            minutes = math.ceil(wait / 60)
            raise RateLimited(
                f"too many failed sign-ins for this email: try again in {minutes} minute(s)",
                retry_after_seconds=math.ceil(wait),
            )
        user = self.accounts.get_user_by_email(email)
        if not verify_password(user.password_hash if user else None, password) or user is None:
            raise Unauthorized("wrong email or password")
        account = self.accounts.get(user.account_id)
        if account is None:
            raise Unauthorized("wrong email or password")
        self.attempts.clear(email, self.clock.now())
        return self._session(user, account)

    def authenticate(self, credential: str) -> Principal:
        """A JWT, or an API key (they start with `wck_`)."""
        if credential.startswith(API_KEY_PREFIX):
            return self.api_keys.authenticate(credential)
        return self.tokens.verify(credential)

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
