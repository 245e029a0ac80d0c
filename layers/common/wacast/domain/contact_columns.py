"""The header of a contacts CSV: which column is the phone, the name, the tags, the opt-in, and which
columns become attributes. Headers match case, spacing and punctuation aside ('Mobile No.' is 'mobile no')."""

from __future__ import annotations

from dataclasses import dataclass, field

from wacast.domain.contacts import MAX_ATTRIBUTES, attribute_key
from wacast.domain.errors import ValidationFailed

PHONE = ("phone", "mobile", "number", "whatsapp", "whatsapp number", "phone number", "mobile number", "mobile no")
PHONE_MORE = ("phone no", "cell", "cell phone", "tel", "telephone", "msisdn", "contact number", "wa number", "e164")
NAME = ("name", "full name", "fullname", "contact name", "customer name", "display name")
FIRST_NAME = ("first name", "firstname", "given name")
LAST_NAME = ("last name", "lastname", "surname", "family name")
TAGS = ("tags", "tag", "labels", "label", "groups", "group", "segments", "segment")
OPT_IN = ("opt in", "optin", "opted in", "consent", "subscribed", "whatsapp opt in", "marketing consent")
OPT_OUT = ("opted out", "opt out", "optout", "unsubscribed", "do not contact", "dnc")
#: Columns an export writes that describe the stored contact, not the person: ignored on import.
EXPORT_ONLY = ("id", "contact id", "opted out at", "opted out source", "import batch", "created at", "updated at")

ROLES: dict[str, str] = {
    **dict.fromkeys((*PHONE, *PHONE_MORE), "phone"),
    **dict.fromkeys(NAME, "name"),
    **dict.fromkeys(FIRST_NAME, "first_name"),
    **dict.fromkeys(LAST_NAME, "last_name"),
    **dict.fromkeys(TAGS, "tags"),
    **dict.fromkeys(OPT_IN, "opt_in"),
    **dict.fromkeys(OPT_OUT, "opt_out"),
    **dict.fromkeys(EXPORT_ONLY, "ignored"),
}


def header_form(header: str) -> str:
    """'Mobile No.' -> 'mobile no': how a header is compared with the aliases."""
    return attribute_key(header).replace("_", " ").strip()


@dataclass
class Columns:
    width: int
    phone: int | None = None
    phone_header: str = "phone"
    name: int | None = None
    first_name: int | None = None
    last_name: int | None = None
    tags: int | None = None
    consent: int | None = None
    consent_inverted: bool = False  # an opt-out column: 'yes' means opted out
    attributes: list[tuple[int, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def read_header(header: list[str]) -> Columns:
    """Map each header cell to its role. Raises ValidationFailed(field='file') when the header is unusable."""
    columns = Columns(width=len(header))
    taken: dict[str, str] = {}
    for index, raw in enumerate(header):
        form = header_form(raw)
        role = ROLES.get(form) or ("attribute" if form else "ignored")
        if role == "ignored":
            if raw.strip():
                columns.ignored.append(raw.strip())
            continue
        slot = f"attribute {attribute_key(raw)}" if role == "attribute" else role
        slot = "consent" if role in ("opt_in", "opt_out") else slot
        if slot in taken:
            raise ValidationFailed(
                f"the columns {taken[slot]!r} and {raw.strip()!r} mean the same thing: keep one", field="file"
            )
        taken[slot] = raw.strip()
        _assign(columns, index, raw, role)
    if columns.phone is None:
        raise ValidationFailed(
            "no phone column: name one 'phone', 'mobile', 'number' or 'whatsapp'", field="file", details=_found(header)
        )
    if len(columns.attributes) > MAX_ATTRIBUTES:
        raise ValidationFailed(f"at most {MAX_ATTRIBUTES} attribute columns", field="file")
    return columns


def _assign(columns: Columns, index: int, raw: str, role: str) -> None:
    if role == "phone":
        columns.phone, columns.phone_header = index, raw.strip()
    elif role == "attribute":
        columns.attributes.append((index, attribute_key(raw)))
    elif role in ("opt_in", "opt_out"):
        columns.consent, columns.consent_inverted = index, role == "opt_out"
    else:
        setattr(columns, role, index)


def _found(header: list[str]) -> dict[str, object]:
    return {"field": "file", "columns": [cell.strip()[:60] for cell in header[:MAX_ATTRIBUTES]]}
