"""Users of an account: owners and admins add them (so members exist and roles mean something)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from routes.auth import Email, UserOut, user_out
from routes.deps import PrincipalDep, ServicesDep
from routes.errors import ERRORS
from wacast.domain.accounts import Role

router = APIRouter(prefix="/api/auth/users", tags=["auth"], responses=ERRORS)


class AddUserRequest(BaseModel):
    email: Email
    password: str = Field(min_length=8, max_length=256)
    role: Literal["admin", "member"] = "member"


@router.post("", status_code=status.HTTP_201_CREATED)
def add_user(body: AddUserRequest, principal: PrincipalDep, services: ServicesDep) -> UserOut:
    """Add a user to your account (owners and admins). They sign in with this email and password."""
    return user_out(services.auth.add_user(principal, body.email, body.password, Role(body.role)))
