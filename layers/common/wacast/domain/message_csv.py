"""A campaign's messages as CSV: one row per message, with the text it was sent (safe for spreadsheets)."""

from __future__ import annotations

from wacast.domain.contact_csv import safe_cell
from wacast.domain.messages import Message

EXPORT_COLUMNS = [
    "message_id",
    "phone",
    "contact_id",
    "body",
    "status",
    "run",
    "attempts",
    "driver",
    "fallback_used",
    "last_error",
    "updated_at",
]


def export_row(m: Message) -> list[str]:
    return [
        m.id,
        m.phone,
        m.contact_id or "",
        safe_cell(m.body),
        m.status.value,
        str(m.run),
        str(m.attempts),
        m.driver or "",
        "true" if m.fallback_used else "false",
        safe_cell(m.last_error or ""),
        m.updated_at.isoformat(),
    ]
