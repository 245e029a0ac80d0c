"""Register, log in, and who am I."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import AliasPath, BaseModel, EmailStr, Field

from routes.deps import PrincipalDep, ServicesDep
from routes.errors import ERRORS
from wacast.domain.accounts import Role, User
from wacast.services.auth import Session

router = APIRouter(prefix="/api/auth", tags=["auth"], responses=ERRORS)

#: An address to sign in with, checked by email-validator (syntax only: no DNS lookup).
Email = Annotated[EmailStr, Field(max_length=254)]


class RegisterRequest(BaseModel):
    email: Email
    password: str = Field(min_length=8, max_length=256)
    name: str = Field(default="", max_length=120, description="your name (the old API's field)")
    account_name: str = Field(default="My business", min_length=1, max_length=120)


class LoginRequest(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)


class UserOut(BaseModel):
    id: str
    email: str
    name: str
    role: Role


class AccountOut(BaseModel):
    id: str
    name: str
    default_sender_id: str | None
    default_country: str = Field(validation_alias=AliasPath("settings", "default_country"))


class SessionOut(BaseModel):
    token: str
    token_type: str = "bearer"
    expires_at: datetime
    user: UserOut
    account: AccountOut


class MeOut(BaseModel):
    user: UserOut
    account: AccountOut


def user_out(user: User) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


def _session(session: Session) -> SessionOut:
    return SessionOut.model_validate(session, from_attributes=True)


@router.post("/register", status_code=status.HTTP_201_CREATED)
def register(body: RegisterRequest, services: ServicesDep) -> SessionOut:
    return _session(services.auth.register(body.email, body.password, body.account_name, body.name))


@router.post("/login")
def login(body: LoginRequest, services: ServicesDep) -> SessionOut:
    return _session(services.auth.login(body.email, body.password))


@router.get("/me")
def me(principal: PrincipalDep, services: ServicesDep) -> MeOut:
    user, account = services.auth.me(principal)
    return MeOut.model_validate({"user": user, "account": account}, from_attributes=True)
