"""The account's settings: the default country of phone numbers and the stop keywords."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from routes.deps import PrincipalDep, ServicesDep
from routes.errors import ERRORS
from wacast.domain.accounts import AccountSettings
from wacast.services.accounts import SettingsChanges, effective_stop_keywords

router = APIRouter(prefix="/api/account", tags=["account"], responses=ERRORS)


class SettingsOut(BaseModel):
    default_country: str = Field(description="how phone numbers without +country are read (ISO 3166 alpha-2)")
    stop_keywords: list[str] = Field(description="an incoming message that is one of these opts its writer out")
    stop_keywords_are_default: bool


def _out(settings: AccountSettings) -> SettingsOut:
    return SettingsOut(
        default_country=settings.default_country,
        stop_keywords=effective_stop_keywords(settings),
        stop_keywords_are_default=settings.stop_keywords is None,
    )


@router.get("/settings")
def get_settings(principal: PrincipalDep, services: ServicesDep) -> SettingsOut:
    return _out(services.account.settings(principal))


@router.patch("/settings")
def update_settings(body: SettingsChanges, principal: PrincipalDep, services: ServicesDep) -> SettingsOut:
    """Owners and admins. Only the fields sent change; `"stop_keywords": null` restores the defaults."""
    return _out(services.account.update_settings(principal, body))
