"""Accounts, users and the principal every request is scoped to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class AccountSettings(BaseModel):
    default_country: str = Field(default="IN", min_length=2, max_length=2, description="ISO 3166 alpha-2")
    stop_keywords: list[str] | None = None


class Account(BaseModel):
    id: str
    name: str
    settings: AccountSettings = Field(default_factory=AccountSettings)
    default_sender_id: str | None = None
    created_at: datetime


class User(BaseModel):
    id: str
    account_id: str
    email: str
    #: What the person is called (the old API's `name` at registration); may be empty.
    name: str = ""
    role: Role
    password_hash: str
    created_at: datetime


@dataclass(frozen=True)
class Principal:
    """Who is calling: every repository call made for a request is scoped to `account_id`."""

    account_id: str
    user_id: str
    role: Role
    email: str | None = None
    #: Set when the caller authenticated with an API key (then `user_id` is the user who created it).
    api_key_id: str | None = None

    @property
    def can_manage(self) -> bool:
        """Owners and admins manage API keys and senders; members do not."""
        return self.role in (Role.OWNER, Role.ADMIN)


API_KEY_PREFIX = "wck_"


class ApiKey(BaseModel):
    """A long-lived credential of an account. Only the sha256 of the key is stored; the key is shown once."""

    id: str
    account_id: str
    name: str
    role: Role
    key_hash: str
    hint: str = Field(description="the first characters of the key, to recognise it in a list")
    created_by: str
    created_at: datetime

    def principal(self) -> Principal:
        return Principal(account_id=self.account_id, user_id=self.created_by, role=self.role, api_key_id=self.id)
