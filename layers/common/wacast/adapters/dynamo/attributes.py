"""A PynamoDB attribute for values pydantic validates: a model, or a type such as `list[str]` or
`dict[str, DriverSession]`, stored as one JSON string."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import TypeAdapter
from pynamodb.attributes import Attribute
from pynamodb.constants import STRING

T = TypeVar("T")


class PydanticAttribute(Attribute[T]):
    """Stores a value as its compact JSON (a DynamoDB string) and reads it back validated, so an entity
    model holds domain values and its mappers copy them as they are.

    `exclude_none` leaves unset optional fields out of the JSON (a smaller item). `sort_keys` writes a
    dict's keys in order, so the stored text (and the dict read back) does not depend on how it was built.
    """

    attr_type = STRING

    def __init__(self, of: type[T], *, exclude_none: bool = False, sort_keys: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._adapter: TypeAdapter[T] = TypeAdapter(of)
        self._exclude_none = exclude_none
        self._sort_keys = sort_keys

    def serialize(self, value: T) -> str:
        if self._sort_keys:
            data = self._adapter.dump_python(value, mode="json", exclude_none=self._exclude_none)
            return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return self._adapter.dump_json(value, exclude_none=self._exclude_none).decode()

    def deserialize(self, value: str) -> T:
        return self._adapter.validate_json(value)
