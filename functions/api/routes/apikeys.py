"""API keys of the account: create (the key is shown once), list, revoke. Owners and admins only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field

from routes.deps import PrincipalDep, ServicesDep
from routes.errors import ERRORS
from wacast.domain.accounts import ApiKey, Role

router = APIRouter(prefix="/api/auth/api-keys", tags=["api keys"], responses=ERRORS)


class CreateApiKeyRequest(BaseModel):
    name: str = Field(min_length=1, max_length=80, description="what the key is for")
    role: Literal["admin", "member"] = Field(default="member", description="what the key may do")


class ApiKeyOut(BaseModel):
    id: str
    name: str
    role: Role
    hint: str = Field(description="the first characters of the key")
    created_by: str
    created_at: datetime


class CreatedApiKeyOut(ApiKeyOut):
    key: str = Field(description="the key itself: shown this once, store it now")


class ApiKeyList(BaseModel):
    items: list[ApiKeyOut]


def _out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut.model_validate(key, from_attributes=True)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_api_key(body: CreateApiKeyRequest, principal: PrincipalDep, services: ServicesDep) -> CreatedApiKeyOut:
    """Send the key as `X-Api-Key: wck_...` or `Authorization: Bearer wck_...`."""
    key, secret = services.api_keys.create(principal, body.name, Role(body.role))
    return CreatedApiKeyOut(**_out(key).model_dump(), key=secret)


@router.get("")
def list_api_keys(principal: PrincipalDep, services: ServicesDep) -> ApiKeyList:
    return ApiKeyList(items=[_out(key) for key in services.api_keys.list(principal)])


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_api_key(key_id: Annotated[str, Path(max_length=64)], principal: PrincipalDep, services: ServicesDep) -> None:
    """Revoke a key: it stops working at once."""
    services.api_keys.revoke(principal, key_id)
