"""Annotated dependencies: the services, and the principal every request is scoped to."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from wacast.bootstrap import Services, get_services
from wacast.domain.accounts import Principal
from wacast.domain.errors import Unauthorized

_bearer = HTTPBearer(auto_error=False, description="A JWT from /api/auth/login")

ServicesDep = Annotated[Services, Depends(get_services)]


def current_principal(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Principal:
    """The caller. Every route that touches account data depends on this and passes it down."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("sign in: send Authorization: Bearer <token>")
    return services.auth.authenticate(credentials.credentials)


PrincipalDep = Annotated[Principal, Depends(current_principal)]
