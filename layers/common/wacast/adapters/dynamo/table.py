"""The single table: the base model every entity model derives from, its GSIs, and its binding.

The table name, endpoint and region are bound in one place, `bind_table`, from settings.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from wacast.domain.errors import ValidationFailed

TTL_ATTRIBUTE = "expires_at"


class Gsi1(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Gsi2(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class Gsi3(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "gsi3"
        projection = AllProjection()

    gsi3pk = UnicodeAttribute(hash_key=True)
    gsi3sk = UnicodeAttribute(range_key=True)


class TableModel(Model):
    """Base of every entity model: same table, generic keys."""

    class Meta:
        table_name = "wacast"
        region = "us-east-1"
        host: str | None = None

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    expires_at = NumberAttribute(null=True)


def bind_table(table_name: str, region: str, endpoint_url: str | None) -> None:
    """Point every model at the configured table. Call once per process, from bootstrap."""
    meta = TableModel.Meta
    if (meta.table_name, meta.region, meta.host) == (table_name, region, endpoint_url):
        return
    meta.table_name = table_name
    meta.region = region
    meta.host = endpoint_url
    stack: list[type[Model]] = [TableModel]
    while stack:
        cls = stack.pop()
        cls._connection = None  # drop a connection made against the previous binding
        stack.extend(cls.__subclasses__())


def encode_cursor(last_evaluated_key: dict[str, Any] | None) -> str | None:
    """An opaque, URL-safe cursor from a DynamoDB LastEvaluatedKey (None when there is no next page)."""
    if not last_evaluated_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_evaluated_key, sort_keys=True).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The LastEvaluatedKey a cursor stands for. Raises ValidationFailed for a cursor we did not issue."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (ValueError, binascii.Error) as exc:
        raise ValidationFailed("this cursor is not valid", field="cursor") from exc
    if not isinstance(key, dict) or not all(isinstance(v, dict) and len(v) == 1 for v in key.values()):
        raise ValidationFailed("this cursor is not valid", field="cursor")
    return key
