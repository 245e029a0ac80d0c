"""API keys, as two items written together:

record: pk ACCT#{account}, sk APIKEY#{key id}    (an account lists and revokes its keys)
lookup: pk APIKEY#{sha256 of the key}, sk APIKEY (a request finds its key with one consistent GetItem)

Revoking deletes both in one transaction, so a revoked key stops working at once.
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from wacast.adapters.dynamo.table import TableModel, reason_codes, unavailable_on_failure
from wacast.domain.accounts import ApiKey, Role
from wacast.domain.errors import Conflict, Unavailable


class ApiKeyModel(TableModel):
    id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    key_hash = UnicodeAttribute()
    hint = UnicodeAttribute()
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


def record_key(account_id: str, key_id: str) -> tuple[str, str]:
    return f"ACCT#{account_id}", f"APIKEY#{key_id}"


def lookup_key(key_hash: str) -> tuple[str, str]:
    return f"APIKEY#{key_hash}", "APIKEY"


def _models(key: ApiKey) -> tuple[ApiKeyModel, ApiKeyModel]:
    data = {**key.model_dump(), "role": key.role.value}
    return ApiKeyModel(*record_key(key.account_id, key.id), **data), ApiKeyModel(*lookup_key(key.key_hash), **data)


def _key(model: ApiKeyModel) -> ApiKey:
    return ApiKey(
        id=model.id,
        account_id=model.account_id,
        name=model.name,
        role=Role(model.role),
        key_hash=model.key_hash,
        hint=model.hint,
        created_by=model.created_by,
        created_at=model.created_at,
    )


class DynamoApiKeyRepository:
    """API keys in DynamoDB."""

    def __init__(self, connection: Connection | None = None) -> None:
        self._connection = connection

    def _conn(self) -> Connection:
        return self._connection or ApiKeyModel._get_connection().connection

    @unavailable_on_failure("create the API key")
    def create(self, key: ApiKey) -> None:
        record, lookup = _models(key)
        try:
            with TransactWrite(connection=self._conn()) as tx:
                tx.save(record, condition=ApiKeyModel.pk.does_not_exist())
                tx.save(lookup, condition=ApiKeyModel.pk.does_not_exist())
        except TransactWriteError as exc:
            if "ConditionalCheckFailed" in reason_codes(exc):
                raise Conflict("this API key exists already: create another") from exc
            raise Unavailable("could not create the API key") from exc

    @unavailable_on_failure("check the API key")
    def find_by_hash(self, key_hash: str) -> ApiKey | None:
        try:
            return _key(ApiKeyModel.get(*lookup_key(key_hash), consistent_read=True))
        except ApiKeyModel.DoesNotExist:
            return None

    @unavailable_on_failure("list the API keys")
    def list_for_account(self, account_id: str) -> list[ApiKey]:
        pk, _ = record_key(account_id, "")
        return [_key(m) for m in ApiKeyModel.query(pk, ApiKeyModel.sk.startswith("APIKEY#"), consistent_read=True)]

    @unavailable_on_failure("revoke the API key")
    def revoke(self, account_id: str, key_id: str) -> bool:
        try:
            key = _key(ApiKeyModel.get(*record_key(account_id, key_id), consistent_read=True))
        except ApiKeyModel.DoesNotExist:
            return False
        record, lookup = _models(key)
        try:
            with TransactWrite(connection=self._conn()) as tx:
                tx.delete(record, condition=ApiKeyModel.pk.exists())
                tx.delete(lookup)
        except TransactWriteError as exc:
            if reason_codes(exc)[:1] == ["ConditionalCheckFailed"]:
                return False  # revoked meanwhile
            raise Unavailable("could not revoke the API key") from exc
        return True
