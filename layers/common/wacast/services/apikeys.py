"""API keys: created by owners and admins, shown once, stored as a hash, revoked at once."""

from __future__ import annotations

import uuid

from wacast.domain.accounts import ApiKey, Principal, Role
from wacast.domain.errors import Forbidden, NotFound, Unauthorized
from wacast.ports import ApiKeyRepository, Clock
from wacast.security import hash_api_key, new_api_key

HINT_LENGTH = 8
RANK = {Role.MEMBER: 0, Role.ADMIN: 1, Role.OWNER: 2}


class ApiKeyService:
    """Manages an account's API keys and resolves a key to the Principal it acts as."""

    def __init__(self, keys: ApiKeyRepository, clock: Clock) -> None:
        self.keys = keys
        self.clock = clock

    def create(self, principal: Principal, name: str, role: Role) -> tuple[ApiKey, str]:
        """The new key and its secret (returned this once, never stored)."""
        self._check_manager(principal)
        if role is Role.OWNER or RANK[role] > RANK[principal.role]:
            raise Forbidden(
                f"a key cannot have more rights than you: {role.value} is not allowed", details={"field": "role"}
            )
        secret = new_api_key()
        key = ApiKey(
            id=f"key_{uuid.uuid4().hex[:20]}",
            account_id=principal.account_id,
            name=name,
            role=role,
            key_hash=hash_api_key(secret),
            hint=secret[:HINT_LENGTH],
            created_by=principal.user_id,
            created_at=self.clock.now(),
        )
        self.keys.create(key)
        return key, secret

    def list(self, principal: Principal) -> list[ApiKey]:
        self._check_manager(principal)
        return sorted(self.keys.list_for_account(principal.account_id), key=lambda k: k.created_at)

    def revoke(self, principal: Principal, key_id: str) -> None:
        self._check_manager(principal)
        if not self.keys.revoke(principal.account_id, key_id):
            raise NotFound("no such API key", details={"key_id": key_id})

    def authenticate(self, secret: str) -> Principal:
        key = self.keys.find_by_hash(hash_api_key(secret))
        if key is None:
            raise Unauthorized("the API key is not valid (it may have been revoked)")
        return key.principal()

    @staticmethod
    def _check_manager(principal: Principal) -> None:
        if not principal.can_manage:
            raise Forbidden("only owners and admins manage API keys")
        if principal.api_key_id is not None:
            raise Forbidden("sign in as a user to manage API keys: an API key cannot")
