"""Password hashing (argon2), access tokens (JWT, HS256, expiring) and API keys (random, stored as sha256)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

import jwt

from wacast.domain.accounts import API_KEY_PREFIX, Principal, Role
from wacast.domain.errors import Unauthorized

if TYPE_CHECKING:
    from argon2 import PasswordHasher


@cache
def _argon2() -> tuple[PasswordHasher, str]:
    """The hasher and the hash an unknown user is verified against, made at the first password operation
    (sign-up, sign-in), not at import: argon2 costs ~80 ms and ~55 MB to load and run, and most
    invocations (every consumer, most API requests) never hash a password. Either path pays it once."""
    from argon2 import PasswordHasher

    hasher = PasswordHasher()
    return hasher, hasher.hash("timing-equaliser")


def hash_password(password: str) -> str:
    hasher, _ = _argon2()
    return hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-ish time: an unknown user still costs one argon2 verification."""
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher, dummy_hash = _argon2()
    try:
        return hasher.verify(password_hash or dummy_hash, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class TokenService:
    """Issues and verifies the JWTs the API accepts as `Authorization: Bearer ...`."""

    ALGORITHM = "HS256"

    def __init__(self, secret: str, ttl: timedelta, issuer: str = "wacast") -> None:
        if len(secret) < 32:
            raise ValueError("the JWT secret must be at least 32 characters")
        self._secret = secret
        self._ttl = ttl
        self._issuer = issuer

    def issue(self, principal: Principal, now: datetime) -> tuple[str, datetime]:
        expires = now + self._ttl
        claims: dict[str, Any] = {
            "sub": principal.user_id,
            "acct": principal.account_id,
            "role": principal.role.value,
            "email": principal.email,
            "iss": self._issuer,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
        }
        return jwt.encode(claims, self._secret, algorithm=self.ALGORITHM), expires

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self.ALGORITHM],
                issuer=self._issuer,
                options={"require": ["exp", "sub", "acct", "role"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("the token has expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("the token is not valid") from exc
        return Principal(
            account_id=claims["acct"], user_id=claims["sub"], role=Role(claims["role"]), email=claims.get("email")
        )


def new_api_key() -> str:
    """A fresh API key: the `wck_` prefix and 256 random bits (url-safe)."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """What is stored of an API key. A fast hash is right here: the key is random, not a password."""
    return hashlib.sha256(key.encode()).hexdigest()
