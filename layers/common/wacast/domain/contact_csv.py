"""Contacts as CSV: reading an upload into validated rows, and writing an export that reads back in.

Reading accepts UTF-8 with or without a BOM, `,` or `;` as the delimiter (whichever the header uses more),
quoted fields (with the delimiter, quotes or line breaks inside), and header aliases. Columns that are
not the phone, name, tags or opt-in become attributes. A row whose opt-in says no is imported as opted
out (and stays so), which keeps what the person said on record. Pure code: no I/O.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import hashlib
import io
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

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
    #: the row as the file has it (for the rejected-rows CSV of an import job)
    cells: tuple[str, ...] = dataclasses.field(default=(), compare=False, repr=False)


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


def batch_hasher(account_id: str) -> Any:
    """The running hash of an import's content (feed it the file's bytes): see `batch_id`."""
    return hashlib.sha256(account_id.encode() + b"\0")


def batch_id(hasher: Any) -> str:
    return "imp_" + str(hasher.hexdigest())[:20]


def import_batch_id(account_id: str, data: bytes) -> str:
    """The id of an import: the same file imported into the same account is the same batch."""
    hasher = batch_hasher(account_id)
    hasher.update(data)
    return batch_id(hasher)


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8(exc.start) from exc


def _not_utf8(offset: int) -> ValidationFailed:
    return ValidationFailed(f"the file is not UTF-8 text (byte {offset}): save it as 'CSV UTF-8'", field="file")


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)")


def _split_lines(buffer: str, final: bool) -> tuple[list[str], str]:
    """Complete lines of `buffer` (with their endings) and the rest. A trailing lone CR waits for the next
    chunk, which may start with its LF."""
    # The regex runs only up to the last line ending: on the unfinished line after it, it would retry at
    # every position, quadratic in that line's length (a 45 KB cell took seconds).
    search = buffer[:-1] if not final and buffer.endswith("\r") else buffer
    end = max(search.rfind("\n"), search.rfind("\r")) + 1
    return _LINE.findall(buffer, 0, end), buffer[end:]


def text_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """The lines of a UTF-8 file (a BOM is dropped) read chunk by chunk, split as `io.StringIO(newline="")`
    splits them (CR, LF or CRLF, kept at the end of each line): memory stays at one chunk."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    consumed, carry = 0, ""
    for chunk in chunks:
        pending = len(decoder.getstate()[0])
        try:
            carry += decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise _not_utf8(consumed - pending + exc.start) from exc
        consumed += len(chunk)
        lines, carry = _split_lines(carry, final=False)
        yield from lines
    try:
        carry += decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise _not_utf8(consumed - len(decoder.getstate()[0]) + exc.start) from exc
    lines, rest = _split_lines(carry, final=True)
    yield from lines
    if rest:
        yield rest


def sniff_delimiter(text: str) -> str:
    """`;` when the header line has more semicolons than commas (outside quotes), else `,`."""
    header, counts, quoted = re.split(r"[\r\n]", text, maxsplit=1)[0], {",": 0, ";": 0}, False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif ch in counts and not quoted:
            counts[ch] += 1
    return ";" if counts[";"] > counts[","] else ","


def records(lines: Iterable[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(first line number, cells) of each record; a malformed file raises ValidationFailed with its line."""
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    line = 1
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ValidationFailed(f"line {reader.line_num}: the CSV is malformed ({exc})", field="file") from exc


@dataclass(frozen=True)
class RepeatedRow:
    """A row whose phone an earlier row of the file already has."""

    line: int


FileEntry = ImportRow | RejectedRow | RepeatedRow


class ContactFileReader:
    """A contacts file read as a stream: the header at once (`columns`, `ignored_columns`), then each data
    row, in order, as an ImportRow (the first row of its phone), a RejectedRow or a RepeatedRow. Holds one
    chunk of the file and the set of phones seen, never the rows. Raises ValidationFailed(field='file') when
    the file itself is unusable (not UTF-8, malformed, empty, too many rows)."""

    def __init__(self, chunks: Iterable[bytes], default_country: str, *, max_rows: int = MAX_ROWS) -> None:
        lines = text_lines(chunks)
        first = next(lines, "")
        self._records = records(itertools.chain([first] if first else [], lines), sniff_delimiter(first))
        header = next((cells for _, cells in self._records if any(cell.strip() for cell in cells)), None)
        if header is None:
            raise ValidationFailed("the file is empty: it needs a header line and rows", field="file")
        self.header = header
        self.columns = read_header(header)
        self.ignored_columns = self.columns.ignored
        self.default_country = default_country
        self.max_rows = max_rows

    def __iter__(self) -> Iterator[FileEntry]:
        seen: set[str] = set()
        total = 0
        for line, cells in self._records:
            if not any(cell.strip() for cell in cells):
                continue
            if total >= self.max_rows:
                raise ValidationFailed(f"the file has more than {self.max_rows} rows: split it", field="file")
            total += 1
            try:
                row = read_row(line, cells, self.columns, self.default_country)
            except ValidationFailed as exc:
                yield RejectedRow(line, exc.message, exc.field, tuple(cells))
                continue
            if row.phone in seen:
                yield RepeatedRow(line)
            else:
                seen.add(row.phone)
                yield row


def parse_contacts_csv(data: bytes, default_country: str, *, max_rows: int = MAX_ROWS) -> ParsedFile:
    """Validate a whole file held in memory. Raises ValidationFailed(field='file') when the file itself is
    unusable; row problems become rejected rows."""
    reader = ContactFileReader([data], default_country, max_rows=max_rows)
    parsed = ParsedFile(ignored_columns=reader.ignored_columns)
    for entry in reader:
        if isinstance(entry, ImportRow):
            parsed.rows.append(entry)
        elif isinstance(entry, RejectedRow):
            parsed.rejected.append(entry)
        else:
            parsed.repeated_lines.append(entry.line)
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
