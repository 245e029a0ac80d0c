"""Message templates: text with `{{variable}}` placeholders and optional defaults (`{{name|there}}`).

`{{` opens a placeholder and `}}` closes it; a variable name is a letter or `_` then letters, digits or
`_`; what follows the first `|`, trimmed, is the default. A value that is missing or blank falls
back to the default; with no default, rendering raises MissingVariable. Rendering is one pass: values
are never read as templates. Pure code: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from wacast.domain.contacts import Contact, is_variable_name
from wacast.domain.errors import ValidationFailed

MAX_BODY = 4096
OPEN, CLOSE, DEFAULT_SEPARATOR = "{{", "}}", "|"


@dataclass(frozen=True)
class Placeholder:
    name: str
    default: str | None
    start: int  # offset of its `{{`
    end: int  # offset just past its `}}`


class MissingVariable(ValidationFailed):
    """A variable has no value and no default."""

    name: str

    def __init__(self, name: str, missing: list[str]) -> None:
        listed = ", ".join(missing)
        super().__init__(
            f"no value for {{{{{name}}}}} and no default (missing: {listed})",
            field="values",
            details={"field": "values", "variable": name, "missing": missing},
        )
        self.name = name


def position(body: str, offset: int) -> dict[str, int]:
    """Where `offset` is, for a person: 1-based line and column, and the 0-based offset."""
    line = body.count("\n", 0, offset) + 1
    column = offset - (body.rfind("\n", 0, offset) + 1) + 1
    return {"offset": offset, "line": line, "column": column}


def _syntax_error(body: str, offset: int, problem: str) -> ValidationFailed:
    where = position(body, offset)
    return ValidationFailed(
        f"line {where['line']}, column {where['column']}: {problem}",
        field="body",
        details={"field": "body", "position": where},
    )


def parse(body: str) -> list[Placeholder]:
    """Every placeholder of `body`, in order. Raises ValidationFailed(field='body') naming the position."""
    if len(body) > MAX_BODY:
        raise _syntax_error(body, MAX_BODY, f"a template has at most {MAX_BODY} characters")
    found: list[Placeholder] = []
    cursor = 0
    while True:
        opening, closing = body.find(OPEN, cursor), body.find(CLOSE, cursor)
        if closing != -1 and (opening == -1 or closing < opening):
            raise _syntax_error(body, closing, "'}}' closes nothing: open a placeholder with '{{'")
        if opening == -1:
            return found
        end = body.find(CLOSE, opening + len(OPEN))
        nested = body.find(OPEN, opening + len(OPEN))
        if end == -1:
            raise _syntax_error(body, opening, "'{{' is never closed with '}}'")
        if nested != -1 and nested < end:
            raise _syntax_error(body, nested, "a placeholder cannot contain '{{'")
        found.append(_placeholder(body, opening, end))
        cursor = end + len(CLOSE)


def _placeholder(body: str, opening: int, closing: int) -> Placeholder:
    inner = body[opening + len(OPEN) : closing]
    raw_name, separator, default = inner.partition(DEFAULT_SEPARATOR)
    name = raw_name.strip()
    if not name:
        raise _syntax_error(body, opening, "a placeholder needs a variable name, e.g. {{name}}")
    if not is_variable_name(name):
        raise _syntax_error(
            body, opening + len(OPEN) + raw_name.index(name[0]), f"{name[:40]!r} is not a variable name"
        )
    return Placeholder(name, default.strip() if separator else None, opening, closing + len(CLOSE))


def variables(body: str) -> list[str]:
    """The variable names `body` uses, each once, in order of first use."""
    return list(dict.fromkeys(p.name for p in parse(body)))


def render(body: str, values: Mapping[str, str]) -> str:
    """`body` with each placeholder replaced by its value, or its default when the value is blank."""
    placeholders = parse(body)
    missing = [p.name for p in placeholders if p.default is None and not (values.get(p.name) or "").strip()]
    if missing:
        unique = list(dict.fromkeys(missing))
        raise MissingVariable(unique[0], unique)
    parts: list[str] = []
    cursor = 0
    for p in placeholders:
        value = values.get(p.name) or ""
        parts += [body[cursor : p.start], value if value.strip() else (p.default or "")]
        cursor = p.end
    parts.append(body[cursor:])
    return "".join(parts)


def contact_values(contact: Contact) -> dict[str, str]:
    """What a template can say about a contact: its attributes, then name, first_name and phone (these
    three win over attributes of the same name, unless they are blank)."""
    values = dict(contact.attributes)
    first_name = contact.name.split()[0] if contact.name.split() else ""
    for key, value in (("name", contact.name), ("first_name", first_name), ("phone", contact.phone)):
        if value:
            values[key] = value
    return values


class Template(BaseModel):
    """A saved template. Built-in templates belong to no account (`account_id` None) and are read-only."""

    id: str
    account_id: str | None
    name: str
    body: str
    variables: list[str] = Field(default_factory=list)
    builtin: bool = False
    created_at: datetime
    updated_at: datetime


BUILTIN_AT = datetime(2026, 1, 1, tzinfo=UTC)


def _builtin(slug: str, name: str, body: str) -> Template:
    return Template(
        id=f"builtin_{slug}",
        account_id=None,
        name=name,
        body=body,
        variables=variables(body),
        builtin=True,
        created_at=BUILTIN_AT,
        updated_at=BUILTIN_AT,
    )


BUILTIN_TEMPLATES: dict[str, Template] = {
    t.id: t
    for t in (
        _builtin("welcome", "Welcome", "Hi {{first_name|there}}, thanks for joining {{business|us}}!"),
        _builtin(
            "order_update",
            "Order update",
            "Hi {{first_name|there}}, your order {{order_id}} is {{order_status|on its way}}.",
        ),
        _builtin(
            "appointment_reminder",
            "Appointment reminder",
            "Hello {{name|there}}, a reminder of your appointment on {{date}} at {{time}}. Reply STOP to opt out.",
        ),
        _builtin(
            "offer",
            "Offer",
            "Hi {{first_name|there}}! {{offer|Our new collection is here}}. Reply STOP to stop these messages.",
        ),
    )
}
