"""Opaque page cursors. A cursor holds only where the last page stopped (an item id or an offset) and the
kind of listing it belongs to; the partition is always rebuilt from the caller's account, so a cursor can
never reach another account's items."""

from __future__ import annotations

import base64
import binascii
import json
import re

from wacast.domain.errors import ValidationFailed

ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
MAX_CURSOR = 256


def encode_cursor(kind: str, after: str | int) -> str:
    raw = json.dumps({"k": kind, "a": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _bad(kind: str) -> ValidationFailed:
    return ValidationFailed(
        f"not a cursor of this {kind} listing: pass next_cursor from the previous page", field="cursor"
    )


def decode_cursor(cursor: str | None, kind: str) -> str | int | None:
    """The position a cursor of `kind` holds (None for the first page). Raises ValidationFailed(field='cursor')."""
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR:
        raise _bad(kind)
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise _bad(kind) from exc
    if not isinstance(data, dict) or data.get("k") != kind:
        raise _bad(kind)
    after = data.get("a")
    if isinstance(after, int) and not isinstance(after, bool) and after >= 0:
        return after
    if isinstance(after, str) and ID.match(after):
        return after
    raise _bad(kind)


def cursor_id(cursor: str | None, kind: str) -> str | None:
    """The item id a cursor of `kind` stops after."""
    after = decode_cursor(cursor, kind)
    if isinstance(after, int):
        raise _bad(kind)
    return after


def cursor_offset(cursor: str | None, kind: str) -> int:
    """The offset a cursor of `kind` stops at (0 for the first page)."""
    after = decode_cursor(cursor, kind)
    if isinstance(after, str):
        raise _bad(kind)
    return after or 0
