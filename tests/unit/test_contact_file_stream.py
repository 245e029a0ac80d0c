"""A contacts file read as a stream (the S3 import) gives exactly what reading it whole gives, wherever the
chunks of the download happen to cut it: inside a UTF-8 character, between a CR and its LF, inside a quoted
field with a line break."""

from __future__ import annotations

import io

import pytest

from wacast.domain.contact_csv import (
    ContactFileReader,
    ImportRow,
    RejectedRow,
    RepeatedRow,
    import_batch_id,
    parse_contacts_csv,
    text_lines,
)
from wacast.domain.errors import ValidationFailed

FILE = (
    "\ufeffphone;name;city;opt in\r\n"
    '9876543210;Zoë;"Pune\r\nWest";yes\r\n'
    "\r\n"
    "not-a-phone;Bad;;\r"
    "+91 98765 43210;again;;\r"
    "9876543211;Ravi;Delhi;no\n"
    "9876543212;Meera;;maybe"
).encode()


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64, 10_000])
def test_lines_split_as_a_whole_file_splits_them_whatever_the_chunks(size: int) -> None:
    whole = list(io.StringIO(FILE.decode("utf-8-sig"), newline=""))
    assert list(text_lines(chunks(FILE, size))) == whole


@pytest.mark.parametrize("size", [1, 3, 10_000])
def test_the_streamed_rows_are_the_rows_of_the_whole_file(size: int) -> None:
    parsed = parse_contacts_csv(FILE, "IN")
    reader = ContactFileReader(chunks(FILE, size), "IN")
    entries = list(reader)
    assert [e for e in entries if isinstance(e, ImportRow)] == parsed.rows
    assert [e for e in entries if isinstance(e, RejectedRow)] == parsed.rejected
    assert [e.line for e in entries if isinstance(e, RepeatedRow)] == parsed.repeated_lines
    assert [r.line for r in parsed.rejected] == [5, 8] and parsed.repeated_lines == [6]
    assert parsed.rows[0].attributes == {"city": "Pune\r\nWest"} and parsed.rows[1].opted_in is False
    assert parsed.rejected[0].cells == ("not-a-phone", "Bad", "", "")  # the row as the file has it
    assert reader.header == ["phone", "name", "city", "opt in"]


def test_a_byte_that_is_not_utf8_is_named_by_its_offset_in_the_file() -> None:
    data = "phone\n98765\u00e9\n".encode() + b"\xff\n"
    for size in (1, 4, 100):
        with pytest.raises(ValidationFailed) as refused:
            list(ContactFileReader(chunks(data, size), "IN"))
        assert refused.value.field == "file" and f"byte {len(data) - 2}" in refused.value.message


def test_too_many_rows_fail_the_file_as_a_whole() -> None:
    data = ("phone\n" + "".join(f"98765{i:05d}\n" for i in range(4))).encode()
    with pytest.raises(ValidationFailed, match="more than 3 rows"):
        list(ContactFileReader([data], "IN", max_rows=3))


def test_the_batch_of_a_file_is_its_content_hash_in_that_account() -> None:
    assert import_batch_id("a1", FILE) == import_batch_id("a1", FILE) != import_batch_id("a2", FILE)
