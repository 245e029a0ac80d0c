"""services/audience.py on an audience whose contact ids are stored apart from its campaign: a page reads
only the ids it needs (one chunk, two when the page straddles them), every contact is read once, in the
order given, and the whole list is read only when asked for."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from wacast.domain.campaigns import Audience, StoredContactIds
from wacast.domain.contacts import Contact
from wacast.services.audience import AudienceReader, Position

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
IDS = [f"c_{i:024x}" for i in range(250)]
STORED = StoredContactIds(campaign_id="cmp_1", version="v1", count=len(IDS), chunk_size=100)


class ChunkedIds:
    """The chunks of STORED, counting which were read."""

    def __init__(self, ids: list[str], stored: StoredContactIds) -> None:
        size = stored.chunk_size
        self.chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
        self.stored = stored
        self.chunks_read: list[int] = []

    def contact_ids(
        self, account_id: str, stored: StoredContactIds, offset: int = 0, limit: int | None = None
    ) -> list[str]:
        assert stored == self.stored and account_id == "a1"
        end = stored.count if limit is None else min(stored.count, offset + limit)
        if offset >= end:
            return []
        first, last = offset // stored.chunk_size, (end - 1) // stored.chunk_size
        self.chunks_read += range(first, last + 1)
        ids = [i for chunk in self.chunks[first : last + 1] for i in chunk]
        start = offset - first * stored.chunk_size
        return ids[start : start + end - offset]


class Contacts:
    """Every id is a contact except those in `missing`."""

    def __init__(self, missing: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.missing = missing

    def page(
        self,
        account_id: str,
        *,
        tag: str | None = None,
        import_batch: str | None = None,
        contact_ids: Sequence[str] | None = None,
        cursor: str | None = None,
        limit: int = 100,
        consistent: bool = True,
    ) -> tuple[list[Contact], str | None]:
        assert contact_ids is not None and cursor is None and len(contact_ids) <= limit
        found = [i for i in dict.fromkeys(contact_ids) if i not in self.missing]
        return [
            Contact(id=i, account_id=account_id, phone=f"+9198{n:08d}", created_at=NOW, updated_at=NOW)
            for n, i in enumerate(found)
        ], None

    def get(self, account_id: str, contact_id: str) -> Contact | None:
        raise AssertionError("not used")

    def count(self, account_id: str, *, tag: str | None = None, import_batch: str | None = None) -> int:
        raise AssertionError("not used")


def read_all(reader: AudienceReader, audience: Audience, limit: int) -> tuple[list[str], int]:
    ids, position, pages = [], Position(), 0
    for _ in range(100):
        page, next_position = reader.page("a1", audience, position, limit)
        ids += [c.id for c in page]
        pages += 1
        if next_position is None:
            return ids, pages
        position = next_position
    raise AssertionError("never ended")


def test_pages_of_a_stored_audience_read_one_chunk_each_and_everyone_once() -> None:
    store = ChunkedIds(IDS, STORED)
    reader = AudienceReader(Contacts(), store)
    ids, pages = read_all(reader, Audience.by_reference(STORED), limit=100)
    assert ids == IDS and pages == 3 and store.chunks_read == [0, 1, 2]


def test_short_pages_read_at_most_two_chunks_and_skip_missing_contacts() -> None:
    store = ChunkedIds(IDS, STORED)
    gone = {IDS[0], IDS[99], IDS[100], IDS[249]}
    reader = AudienceReader(Contacts(missing=gone), store)
    ids, pages = read_all(reader, Audience.by_reference(STORED), limit=30)
    assert ids == [i for i in IDS if i not in gone] and pages == 9
    assert store.chunks_read == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2]  # 90..119 and 180..209 straddle two chunks


def test_the_whole_list_is_read_only_when_asked_for_and_compares_as_the_given_one() -> None:
    store = ChunkedIds(IDS, STORED)
    reader = AudienceReader(Contacts(), store)
    by_reference = Audience.by_reference(STORED)
    assert by_reference.contact_ids is None and store.chunks_read == []
    whole = reader.with_contact_ids("a1", by_reference)
    assert whole.contact_ids == IDS and whole.stored == STORED and whole == Audience(contact_ids=IDS)
    assert reader.with_contact_ids("a1", whole) is whole and store.chunks_read == [0, 1, 2]
    tags = Audience(tags=["vip"])
    assert reader.with_contact_ids("a1", tags) is tags


def test_a_stored_audience_is_counted_from_its_chunks() -> None:
    reader = AudienceReader(Contacts(missing={IDS[5]}), ChunkedIds(IDS, STORED))
    assert reader.size("a1", Audience.by_reference(STORED)) == len(IDS) - 1


@pytest.mark.parametrize("cursor", ["at:", "at:-1", "at:1e3", "at:²", "eyJrIjoiaWRzIiwiYSI6MTAwfQ", "at:1234567"])
def test_a_position_that_is_not_an_offset_in_the_list_is_refused(cursor: str) -> None:
    reader = AudienceReader(Contacts(), ChunkedIds(IDS, STORED))
    with pytest.raises(ValueError, match="not a position"):
        reader.page("a1", Audience.by_reference(STORED), Position(0, cursor), 100)


class CountingContacts(Contacts):
    def __init__(self, missing: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        super().__init__(missing)
        self.read = 0

    def page(self, account_id: str, **kwargs: object) -> tuple[list[Contact], str | None]:  # type: ignore[override]
        ids = kwargs.get("contact_ids")
        assert isinstance(ids, list)
        self.read += len(ids)
        return super().page(account_id, contact_ids=ids, limit=len(ids))


def test_one_read_of_an_explicit_list_gives_its_size_and_its_unknown_ids() -> None:
    contacts = CountingContacts(missing={IDS[3], IDS[200]})
    reader = AudienceReader(contacts, ChunkedIds(IDS, STORED))
    assert reader.measure("a1", Audience(contact_ids=IDS)) == (248, [IDS[3], IDS[200]])
    assert contacts.read == len(IDS)


def test_an_explicit_list_is_read_only_until_somebody_is_found_to_know_it_is_not_empty() -> None:
    contacts = CountingContacts(missing=set(IDS[:30]))
    reader = AudienceReader(contacts, ChunkedIds(IDS, STORED))
    assert not reader.is_empty("a1", Audience.by_reference(STORED)) and contacts.read == 50
    nobody = CountingContacts(missing=set(IDS))
    assert AudienceReader(nobody, ChunkedIds(IDS, STORED)).is_empty("a1", Audience(contact_ids=IDS))
    assert nobody.read == len(IDS)
