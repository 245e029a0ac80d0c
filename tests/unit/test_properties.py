"""Properties of the CSV import and the template renderer, over generated input: they never crash (bad
input is only ever a ValidationFailed), an import is never left half-done, and rendering is exact."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes import FakeClock, InMemoryAccounts, InMemoryOptOuts
from tests.fakes_workspace import Crash, InMemoryContacts, WriteBudget
from wacast.domain.accounts import Account, Principal, Role
from wacast.domain.contact_csv import parse_contacts_csv
from wacast.domain.contacts import is_variable_name
from wacast.domain.errors import ValidationFailed
from wacast.domain.templates import parse, render
from wacast.services.contacts import ContactService

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PHONES = st.sampled_from(
    ["9876543210", "98765 43211", "+14155550100", "0044 7911 123456", "12345", "", "+91 98765 43212", "abc"]
)
HEADERS = st.sampled_from(["phone", "Mobile No.", "name", "Full Name", "tags", "opt-in", "opted out", "city", "id"])
CELLS = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["yes", "no", "VIP, new", "a|b;c", '"', "\r\n", ";", ",", "=1+1", "#x", " "]),
    PHONES,
)


VALID_PHONES = st.integers(min_value=9_876_500_000, max_value=9_876_500_030).map(str)
CONSENT = st.sampled_from(["yes", "no", "", "Y", "maybe"])


@st.composite
def contact_rows(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """Mostly sensible rows (a phone, a name, tags, an opt-in), with repeats and a few bad cells."""
    header = draw(st.permutations(["phone", "name", "tags", "opt-in", "city"]))
    cell = {"phone": st.one_of(VALID_PHONES, PHONES), "name": st.text(max_size=6), "tags": CELLS, "opt-in": CONSENT}
    rows = draw(st.lists(st.tuples(*(cell.get(h, CELLS) for h in header)).map(list), max_size=12))
    return list(header), rows


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A CSV as a spreadsheet writes it (a header, rows, a delimiter, maybe a BOM), or a chaotic one,
    sometimes with trailing text that is not proper CSV."""
    chaotic = st.tuples(
        st.lists(HEADERS, min_size=1, max_size=5),
        st.lists(st.lists(st.one_of(PHONES, CELLS), max_size=6), max_size=12),
    )
    header, rows = draw(st.one_of(contact_rows(), chaotic))
    out = io.StringIO()
    delimiter, newline = draw(st.sampled_from([",", ";"])), draw(st.sampled_from(["\n", "\r\n"]))
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    text = draw(st.sampled_from(["", "\ufeff"])) + out.getvalue() + draw(st.sampled_from(["", "", '"', "\n\n"]))
    return text.encode()


@FAST
@given(st.one_of(st.binary(max_size=600), csv_files()))
def test_the_csv_reader_never_crashes_and_keeps_its_counts(data: bytes) -> None:
    try:
        parsed = parse_contacts_csv(data, "IN")
    except ValidationFailed as error:
        assert error.field == "file" and error.message
        return
    phones = [row.phone for row in parsed.rows]
    assert len(set(phones)) == len(phones) and all(p.startswith("+") and p[1:].isdigit() for p in phones)
    lines = [row.line for row in parsed.rows] + [r.line for r in parsed.rejected] + parsed.repeated_lines
    assert len(set(lines)) == len(lines) == parsed.total and all(line >= 2 for line in lines)


class World:
    """One account, a contacts service over fakes; `budget` items may be written before a 'crash'."""

    def __init__(self, budget: int | None = None) -> None:
        self.budget = WriteBudget(budget)
        self.contacts = InMemoryContacts(self.budget)
        self.optouts = InMemoryOptOuts(self.contacts, self.budget)
        accounts = InMemoryAccounts()
        clock = FakeClock()
        accounts.accounts["a1"] = Account(id="a1", name="Shop", created_at=clock.now())
        self.service = ContactService(self.contacts, self.optouts, accounts, clock)
        self.principal = Principal(account_id="a1", user_id="u1", role=Role.MEMBER)

    def state(self) -> tuple[dict[str, object], dict[str, object]]:
        return dict(self.contacts.items), dict(self.optouts.items)


@FAST
@given(csv_files())
def test_an_import_is_never_left_half_done(data: bytes) -> None:
    # given a clean import of the file
    clean = World()
    try:
        clean.service.import_csv(clean.principal, data)
    except ValidationFailed:
        assert clean.state() == ({}, {})  # a refused file writes nothing
        return
    # when the same import stops after 0, 1, 2 ... writes (until one runs through)
    for budget in range(100):
        crashed = World(budget)
        try:
            crashed.service.import_csv(crashed.principal, data)
        except Crash:
            # then what was written is safe: a stored contact marked opted out is on the opt-out list
            listed = crashed.optouts.items
            assert all(("a1", c.phone) in listed for c in crashed.contacts.items.values() if c.opted_out)
            # and a retry ends exactly where the clean import did
            crashed.budget.remaining = None
            crashed.service.import_csv(crashed.principal, data)
            assert crashed.state() == clean.state()
        else:
            assert crashed.state() == clean.state()
            break
    # and importing the same file once more changes nothing
    again = clean.service.import_csv(clean.principal, data)
    assert (again.imported, again.updated) == (0, 0) and crashed.state() == clean.state()


NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True)
LITERAL = st.text(st.characters(blacklist_characters="{}", blacklist_categories=("Cs",)), max_size=8)


@FAST
@given(st.text(max_size=80), st.dictionaries(NAMES, st.text(max_size=6), max_size=4))
def test_the_renderer_never_crashes(body: str, values: dict[str, str]) -> None:
    try:
        placeholders = parse(body)
        text = render(body, values)
    except ValidationFailed as error:
        assert error.field in ("body", "values") and error.message
        return
    assert all(is_variable_name(p.name) for p in placeholders) and isinstance(text, str)


@FAST
@given(
    st.lists(st.tuples(LITERAL, NAMES, st.one_of(st.none(), LITERAL)), max_size=6),
    LITERAL,
    st.dictionaries(NAMES, st.text(max_size=6)),
)
def test_rendering_is_each_value_or_its_default_in_place(
    parts: list[tuple[str, str, str | None]], tail: str, values: dict[str, str]
) -> None:
    body = "".join(
        text + "{{" + name + ("" if default is None else "|" + default) + "}}" for text, name, default in parts
    )
    body += tail
    missing = {name for _, name, default in parts if default is None and not values.get(name, "").strip()}
    try:
        rendered = render(body, values)
    except ValidationFailed as error:
        assert missing and error.details["missing"][0] in missing
        return
    expected = "".join(
        text + (values[name] if values.get(name, "").strip() else (default or "").strip())
        for text, name, default in parts
    )
    assert not missing and rendered == expected + tail
