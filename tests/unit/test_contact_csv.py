"""Reading contacts CSVs as people save them (Excel, Google Sheets, exports of other tools), and
writing exports that read back in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wacast.domain.contact_csv import (
    csv_line,
    export_header,
    export_row,
    import_batch_id,
    parse_contacts_csv,
)
from wacast.domain.contacts import Contact
from wacast.domain.errors import ValidationFailed


def parse(text: str, country: str = "IN", **kwargs: int):  # type: ignore[no-untyped-def]
    return parse_contacts_csv(text.encode(), country, **kwargs)


def file_error(text: str | bytes) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        parse_contacts_csv(text if isinstance(text, bytes) else text.encode(), "IN")
    assert caught.value.field == "file"
    return caught.value


def test_excel_style_file_with_bom_semicolons_and_quoted_fields() -> None:
    text = (
        "\ufeffMobile No.;Full Name;Tags;City Name\r\n"
        '98765 43210;"Sharma; Anil";"VIP, new";Pune\r\n'
        '"+1 (415) 555-0100";"Li ""Lucky"" Wei";;"San\r\nFrancisco"\r\n'
    )
    parsed = parse(text)
    assert [r.phone for r in parsed.rows] == ["+919876543210", "+14155550100"]
    first, second = parsed.rows
    assert (first.name, first.tags, first.attributes) == ("Sharma; Anil", ["new", "vip"], {"city_name": "Pune"})
    assert second.name == 'Li "Lucky" Wei' and second.attributes == {"city_name": "San\r\nFrancisco"}
    assert parsed.rejected == [] and parsed.total == 2


def test_commas_and_header_aliases_and_split_names() -> None:
    parsed = parse("WhatsApp,First Name,Last Name,Plan\n+447911123456,Ada,Lovelace,gold\n")
    (row,) = parsed.rows
    assert (row.phone, row.name, row.attributes) == ("+447911123456", "Ada Lovelace", {"plan": "gold"})


def test_rejected_rows_carry_their_line_even_after_a_multiline_field() -> None:
    text = 'phone,note\n9876543210,"two\nlines"\n12345,short\n\n9876543211,x,surplus\n9876543212,ok\n'
    parsed = parse(text)
    assert [r.line for r in parsed.rejected] == [4, 6]  # line 5 is blank; the header is line 1
    assert parsed.rejected[0].field == "phone" and "12345" in parsed.rejected[0].reason
    assert "3 cells" in parsed.rejected[1].reason
    assert [r.line for r in parsed.rows] == [2, 7]


def test_the_same_phone_twice_is_kept_once() -> None:
    parsed = parse("phone,name\n+919876543210,First\n09876543210,Second\n98765-43210,Third\n")
    assert [r.name for r in parsed.rows] == ["First"] and parsed.repeated_lines == [3, 4]


@pytest.mark.parametrize(
    ("header", "value", "opted_in"),
    [("Opt-in", "yes", True), ("Consent", "NO", False), ("opted out", "yes", False), ("Unsubscribed", "no", True)],
)
def test_the_opt_in_column_is_honoured(header: str, value: str, opted_in: bool) -> None:
    (row,) = parse(f"phone,{header}\n9876543210,{value}\n").rows
    assert row.opted_in is opted_in


def test_an_opt_in_value_that_is_neither_yes_nor_no_rejects_the_row() -> None:
    parsed = parse("phone,opt in\n9876543210,maybe\n9876543211,\n")
    assert [(r.line, r.field) for r in parsed.rejected] == [(2, "opt_in")]
    assert parsed.rows[0].opted_in is None  # an empty cell says nothing


def test_export_only_columns_are_ignored_and_reported() -> None:
    parsed = parse("phone,id,created at,,city\n9876543210,c_1,2026-01-01,,Pune\n")
    assert parsed.ignored_columns == ["id", "created at"] and parsed.rows[0].attributes == {"city": "Pune"}


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("name,city\nAnil,Pune\n", "no phone column"),
        ("phone,mobile\n1,2\n", "mean the same thing"),
        ("phone,City,city\n1,2,3\n", "mean the same thing"),
        ("", "empty"),
        (" \n\n", "empty"),
        ('phone,name\n9876543210,"unclosed\n', "line"),
        (b"phone,name\n9876543210,Jos\xe9\n", "not UTF-8"),
    ],
)
def test_unusable_files_are_refused_whole(content: str | bytes, says: str) -> None:
    assert says in file_error(content).message


def test_a_file_over_the_row_limit_is_refused() -> None:
    rows = "".join(f"98765{i:05d}\n" for i in range(11))
    with pytest.raises(ValidationFailed, match="more than 10 rows"):
        parse("phone\n" + rows, max_rows=10)
    assert len(parse("phone\n" + rows[: 11 * 10], max_rows=10).rows) == 10


def test_cr_only_line_endings() -> None:
    assert [r.phone for r in parse("phone;name\r9876543210;A\r9876543211;B\r").rows] == [
        "+919876543210",
        "+919876543211",
    ]


def test_the_batch_id_is_the_file_and_the_account() -> None:
    assert import_batch_id("a1", b"x") == import_batch_id("a1", b"x") != import_batch_id("a1", b"y")
    assert import_batch_id("a1", b"x") != import_batch_id("a2", b"x")


def test_an_export_reads_back_in_and_never_runs_as_a_formula() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    contact = Contact(
        id="c_" + "1" * 24,
        account_id="a1",
        phone="+919876543210",
        name="=HYPERLINK(evil)",
        attributes={"city": "Pune, MH", "plan": "@gold"},
        tags=["new", "vip"],
        opted_out=True,
        opted_out_at=now,
        opted_out_source="keyword",
        created_at=now,
        updated_at=now,
    )
    keys = ["city", "plan"]
    text = csv_line(export_header(keys)) + csv_line(export_row(contact, keys))
    (row,) = parse(text).rows
    assert row.name == "'=HYPERLINK(evil)" and row.attributes == {"city": "Pune, MH", "plan": "'@gold"}
    assert (row.phone, row.tags, row.opted_in) == (contact.phone, contact.tags, False)
