"""Contacts as CSV: reading an upload into validated rows, and writing an export that reads back in.

Reading accepts UTF-8 with or without a BOM, `,` or `;` as the delimiter (whichever the header uses more),
quoted fields (with the delimiter, quotes or line breaks inside), and header aliases. Columns that are
not the phone, name, tags or opt-in become attributes. A row whose opt-in says no is imported as opted
out (and stays so), which keeps what the person said on record. Pure code: no I/O.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from wacast.domain.contact_columns import Columns, read_header
from wacast.domain.contacts import Contact, check_attributes, check_name, normalise_tags
from wacast.domain.errors import ValidationFailed
from wacast.domain.phones import normalise_phone

MAX_ROWS = 100_000
YES = frozenset({"yes", "y", "true", "1", "si", "sí", "ja", "oui", "sim", "haan", "ok", "opted in", "subscribed"})
NO = frozenset({"no", "n", "false", "0", "nein", "non", "nao", "não", "nahi", "opted out", "unsubscribed"})


@dataclass(frozen=True)
class ImportRow:
    """One valid row. `name` is None and attributes hold only cells that had a value."""

    line: int
    phone: str
    name: str | None
    attributes: dict[str, str]
    tags: list[str]
    opted_in: bool | None  # None: the file does not say


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str
    field: str | None = None


@dataclass
class ParsedFile:
    """What a file holds: valid rows (first occurrence of each phone), rejected rows, repeated phones."""

    rows: list[ImportRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    repeated_lines: list[int] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.rows) + len(self.rejected) + len(self.repeated_lines)


def import_batch_id(account_id: str, data: bytes) -> str:
    """The id of an import: the same file imported into the same account is the same batch."""
    return "imp_" + hashlib.sha256(account_id.encode() + b"\0" + data).hexdigest()[:20]


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            f"the file is not UTF-8 text (byte {exc.start}): save it as 'CSV UTF-8'", field="file"
        ) from exc


def sniff_delimiter(text: str) -> str:
    """`;` when the header line has more semicolons than commas (outside quotes), else `,`."""
    header, counts, quoted = re.split(r"[\r\n]", text, maxsplit=1)[0], {",": 0, ";": 0}, False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif ch in counts and not quoted:
            counts[ch] += 1
    return ";" if counts[";"] > counts[","] else ","


def records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(first line number, cells) of each record; a malformed file raises ValidationFailed with its line."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 1
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ValidationFailed(f"line {reader.line_num}: the CSV is malformed ({exc})", field="file") from exc


def parse_contacts_csv(data: bytes, default_country: str, *, max_rows: int = MAX_ROWS) -> ParsedFile:
    """Validate a whole file. Raises ValidationFailed(field='file') when the file itself is unusable;
    row problems become rejected rows."""
    text = decode(data)
    rows = records(text, sniff_delimiter(text))
    header = next((cells for _, cells in rows if any(cell.strip() for cell in cells)), None)
    if header is None:
        raise ValidationFailed("the file is empty: it needs a header line and rows", field="file")
    columns = read_header(header)
    parsed = ParsedFile(ignored_columns=columns.ignored)
    seen: set[str] = set()
    for line, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        if parsed.total >= max_rows:
            raise ValidationFailed(f"the file has more than {max_rows} rows: split it", field="file")
        try:
            row = read_row(line, cells, columns, default_country)
        except ValidationFailed as exc:
            parsed.rejected.append(RejectedRow(line, exc.message, exc.field))
            continue
        if row.phone in seen:
            parsed.repeated_lines.append(line)
        else:
            seen.add(row.phone)
            parsed.rows.append(row)
    return parsed


def read_row(line: int, cells: list[str], columns: Columns, default_country: str) -> ImportRow:
    if len(cells) > columns.width and any(cell.strip() for cell in cells[columns.width :]):
        raise ValidationFailed(f"the row has {len(cells)} cells but the header only {columns.width}")

    def cell(index: int | None) -> str:
        return cells[index].strip() if index is not None and index < len(cells) else ""

    phone = normalise_phone(cell(columns.phone), default_country, field=columns.phone_header)
    name = cell(columns.name) or " ".join(part for part in (cell(columns.first_name), cell(columns.last_name)) if part)
    attributes = {key: cell(index) for index, key in columns.attributes if cell(index)}
    tags = re.split(r"[,;|]", cell(columns.tags))
    return ImportRow(
        line=line,
        phone=phone,
        name=check_name(name) or None,
        attributes=check_attributes(attributes),
        tags=normalise_tags(tags),
        opted_in=_consent(cell(columns.consent), columns.consent_inverted),
    )


def _consent(value: str, inverted: bool) -> bool | None:
    folded = value.casefold()
    if not folded:
        return None
    if folded in YES or folded in NO:
        return (folded in YES) != inverted
    raise ValidationFailed(f"{value[:40]!r} is not yes or no", field="opt_in")


# -- export ----------------------------------------------------------------------------------------

EXPORT_COLUMNS = ("phone", "name", "tags", "opted_out", "opted_out_at", "opted_out_source", "import_batch", "id")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + value if value.startswith(FORMULA_START) else value


def export_header(attribute_keys: list[str]) -> list[str]:
    return [*EXPORT_COLUMNS, *attribute_keys]


def export_row(contact: Contact, attribute_keys: list[str]) -> list[str]:
    opted_out_at = contact.opted_out_at.isoformat() if contact.opted_out_at else ""
    fixed = [
        contact.phone,
        safe_cell(contact.name),
        safe_cell(", ".join(contact.tags)),
        "yes" if contact.opted_out else "no",
        opted_out_at,
        contact.opted_out_source or "",
        contact.import_batch or "",
        contact.id,
    ]
    return fixed + [safe_cell(contact.attributes.get(key, "")) for key in attribute_keys]


def csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()
