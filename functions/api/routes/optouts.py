"""Opt-out and opt-in by phone number (the phone need not be a contact)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from routes.deps import PrincipalDep, ServicesDep
from routes.errors import ERRORS
from routes.fields import PhoneIn
from wacast.services.optouts import OptOutResult

router = APIRouter(prefix="/api/contacts", tags=["opt-out"], responses=ERRORS)


class OptOutRequest(BaseModel):
    phone: PhoneIn
    source: str = Field(default="api", pattern=r"^[a-z][a-z0-9_\-]{0,31}$", description="where the request came from")


class OptInRequest(BaseModel):
    phone: PhoneIn


class OptOutOut(BaseModel):
    phone: str
    opted_out: bool
    contact_id: str | None = Field(description="the contact of this phone, when there is one (it was updated too)")
    source: str | None = None
    at: datetime | None = None


def _out(result: OptOutResult) -> OptOutOut:
    return OptOutOut.model_validate(result, from_attributes=True)


@router.post("/opt-out")
def opt_out(body: OptOutRequest, principal: PrincipalDep, services: ServicesDep) -> OptOutOut:
    """Nothing will be sent to this phone from this account until it opts back in."""
    return _out(services.opt_outs.opt_out(principal, body.phone, body.source))


@router.post("/opt-in")
def opt_in(body: OptInRequest, principal: PrincipalDep, services: ServicesDep) -> OptOutOut:
    """Owners and admins: take a phone off the opt-out list (only with the person's consent)."""
    return _out(services.opt_outs.opt_in(principal, body.phone))
