"""Request fields several routes share."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema


def _number_as_digits(value: Any) -> Any:
    """JavaScript clients send phones as JSON numbers: read one as its digits."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


#: A phone number as a client sends it; the service reads it (digits and separators only, never letters).
PhoneIn = Annotated[
    str,
    BeforeValidator(_number_as_digits),
    Field(min_length=3, max_length=32),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "minLength": 3, "maxLength": 32}, {"type": "integer", "minimum": 0}],
            "description": "E.164 (+919876543210), or national in the account's country (98765 43210): digits "
            "with spaces, -, ., () and a leading + or 00. Letters are refused, never read as keypad digits.",
            "examples": ["+919876543210", "98765 43210"],
        }
    ),
]
