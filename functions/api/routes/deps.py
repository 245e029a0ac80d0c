"""Annotated dependencies: the services, and the principal every request is scoped to."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from wacast.bootstrap.api import ApiServices, build_api
from wacast.domain.accounts import API_KEY_PREFIX, Principal
from wacast.domain.errors import Unauthorized
from wacast.settings import ApiSettings

_bearer = HTTPBearer(auto_error=False, description="A JWT from /api/auth/login, or an API key (wck_...)")
_api_key = APIKeyHeader(name="X-Api-Key", auto_error=False, description="An API key from /api/auth/api-keys")


@lru_cache(maxsize=1)
def get_services() -> ApiServices:
    """The API's root, built at the first request (cold start), never at import."""
    return build_api(ApiSettings.load())


ServicesDep = Annotated[ApiServices, Depends(get_services)]


def current_principal(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    api_key: Annotated[str | None, Security(_api_key)],
) -> Principal:
    """The caller, from `X-Api-Key: wck_...` or `Authorization: Bearer <JWT or API key>`. Every route that
    touches account data depends on this and passes it down."""
    if api_key:
        if not api_key.startswith(API_KEY_PREFIX):
            raise Unauthorized("X-Api-Key takes an API key (wck_...)")
        return services.auth.authenticate(api_key)
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("sign in: send Authorization: Bearer <token>, or X-Api-Key: <API key>")
    return services.auth.authenticate(credentials.credentials)


PrincipalDep = Annotated[Principal, Depends(current_principal)]
