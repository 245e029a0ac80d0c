"""The single table: the base model every entity model derives from, its GSIs, and its binding.

The table name and region are bound in one place, `bind_table`, from settings. The endpoint is
botocore's own (`AWS_ENDPOINT_URL_DYNAMODB` or `AWS_ENDPOINT_URL` when set).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.connection.table import TableConnection
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from wacast.adapters.dynamo.connection import drop_clients, share_client
from wacast.domain.errors import Unavailable

TTL_ATTRIBUTE = "expires_at"


class Gsi1(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Gsi4(GlobalSecondaryIndex[Any]):
    """Keys only: a write that changes no key of the item writes nothing here."""

    class Meta:
        index_name = "gsi4"
        projection = KeysOnlyProjection()

    gsi4pk = UnicodeAttribute(hash_key=True)
    gsi4sk = UnicodeAttribute(range_key=True)


class Gsi6(GlobalSecondaryIndex[Any]):
    """Keys only, written once per item: a conversation (an account and a phone), both ways: the messages
    sent to that phone and the replies from it (CONV#{account}#{phone} / {created ms}_{id})."""

    class Meta:
        index_name = "gsi6"
        projection = KeysOnlyProjection()

    gsi6pk = UnicodeAttribute(hash_key=True)
    gsi6sk = UnicodeAttribute(range_key=True)


def conversation_key(account_id: str, phone: str) -> str:
    return f"CONV#{account_id}#{phone}"


class TableModel(Model):
    """Base of every entity model: same table, generic keys."""

    class Meta:
        table_name = "wacast"
        region = "us-east-1"
        host: str | None = None

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    expires_at = NumberAttribute(null=True)

    @classmethod
    def _get_connection(cls) -> TableConnection:
        """PynamoDB's connection of the model, on the process's one session and DynamoDB client."""
        return share_client(super()._get_connection())


def bind_table(table_name: str, region: str) -> None:
    """Point every model at the configured table. Call once per process, from bootstrap."""
    meta = TableModel.Meta
    if (meta.table_name, meta.region) == (table_name, region):
        return
    meta.table_name = table_name
    meta.region = region
    drop_connections()


def drop_connections() -> None:
    """Forget every model's connection: the next call makes a new one (with the endpoint botocore reads now)."""
    stack: list[type[Model]] = [TableModel]
    while stack:
        cls = stack.pop()
        cls._connection = None  # drop a connection made against the previous binding
        stack.extend(cls.__subclasses__())
    drop_clients()


def reason_codes(exc: TransactWriteError) -> list[str | None]:
    """The cancellation reason of each item of a failed transaction, in order (None: that item was fine)."""
    codes = [getattr(reason, "code", None) for reason in exc.cancellation_reasons]
    return [None if code in (None, "None") else code for code in codes]


def is_condition_failure(exc: Exception) -> bool:
    """True when a single-item write failed on its condition (not a throttle or an outage)."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


P = ParamSpec("P")
R = TypeVar("R")


def unavailable_on_failure(what: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Turn a DynamoDB failure the method does not handle itself (throttling, an outage) into Unavailable."""

    def decorate(method: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(method)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return method(*args, **kwargs)
            except PynamoDBException as exc:
                raise Unavailable(f"could not {what}: try again") from exc

        return wrapper

    return decorate
