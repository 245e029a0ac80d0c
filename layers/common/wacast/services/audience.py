"""Reads a campaign's audience page by page, from a position that survives between Lambda runs.

A multi-tag audience is read tag after tag; a contact is yielded only under the first of the
audience's tags it carries, so nobody is counted or messaged twice and no state is needed for it.

A contact-id audience read from the store carries its ids by reference (`Audience.stored`): a page reads
only the ids it needs (one chunk of 100, two at most: ports.AudienceIdStore); its position is the offset
in the list. `with_contact_ids` reads them all, for what shows or compares the whole list (the API).
"""

from __future__ import annotations

from dataclasses import dataclass

from wacast.domain.campaigns import Audience
from wacast.domain.contacts import Contact
from wacast.ports import AudienceIdStore, ContactRepository

MAX_PAGES = 10_000  # bounds every loop here: 10k pages of 100 contacts
#: How many ids `is_empty` reads at a time (most lists have somebody among their first ids).
FIRST_LOOK = 25
#: The position in a stored list of contact ids: this prefix and the offset of the next id.
AT = "at:"


@dataclass(frozen=True)
class Position:
    index: int = 0  # which tag of a multi-tag audience
    cursor: str | None = None


class AudienceReader:
    """The contacts of an audience, in pages, resumable from a Position."""

    def __init__(self, contacts: ContactRepository, ids: AudienceIdStore) -> None:
        self.contacts = contacts
        self.ids = ids

    def with_contact_ids(self, account_id: str, audience: Audience) -> Audience:
        """The audience with its contact ids read, if it holds them by reference (else as it is)."""
        stored = audience.stored
        if stored is None or audience.contact_ids is not None:
            return audience
        return audience.with_contact_ids(self.ids.contact_ids(account_id, stored), stored)

    def size(self, account_id: str, audience: Audience) -> int:
        """How many contacts the audience has now (before the campaign starts)."""
        if audience.import_batch is not None:
            return self.contacts.count(account_id, import_batch=audience.import_batch)
        if audience.tags is not None and len(audience.tags) == 1:
            return self.contacts.count(account_id, tag=audience.tags[0])
        return len(self._all_ids(account_id, audience))

    def measure(self, account_id: str, audience: Audience) -> tuple[int, list[str]]:
        """`size`, and the ids of an explicit audience that name no contact of the account (in the order
        given), in one read of the list."""
        if audience.contact_ids is None:
            return self.size(account_id, audience), []
        found = self._all_ids(account_id, audience)
        return len(found), [i for i in audience.contact_ids if i not in found]

    def _all_ids(self, account_id: str, audience: Audience) -> set[str]:
        """The ids of every contact the audience has now, read page by page."""
        found: set[str] = set()
        position = Position()
        for _ in range(MAX_PAGES):
            page, next_position = self.page(account_id, audience, position, limit=100)
            found.update(c.id for c in page)
            if next_position is None:
                return found
            position = next_position
        raise RuntimeError("audience too large to count")

    def is_empty(self, account_id: str, audience: Audience) -> bool:
        """True if the audience has nobody now. A list of ids is read only until somebody is found (a tag
        or an import batch is counted: a count reads small items, cheaper than contacts)."""
        if audience.contact_ids is None and audience.stored is None:
            return self.size(account_id, audience) == 0
        position: Position | None = Position()
        for _ in range(MAX_PAGES):
            if position is None:
                return True
            page, position = self.page(account_id, audience, position, limit=FIRST_LOOK)
            if page:
                return False
        raise RuntimeError("audience too large to read")

    def page(
        self, account_id: str, audience: Audience, position: Position, limit: int, *, consistent: bool = True
    ) -> tuple[list[Contact], Position | None]:
        """Up to `limit` contacts from `position`, and the position after them (None at the end). With
        `consistent` False the contacts may be read as they were a moment ago (half the read units)."""
        if audience.contact_ids is None and audience.stored is not None:
            return self._page_of_stored(account_id, audience, position, limit, consistent)
        if audience.tags is None:
            contacts, cursor = self.contacts.page(
                account_id,
                import_batch=audience.import_batch,
                contact_ids=audience.contact_ids,
                cursor=position.cursor,
                limit=limit,
                consistent=consistent,
            )
            return contacts, (Position(0, cursor) if cursor else None)
        tag = audience.tags[position.index]
        contacts, cursor = self.contacts.page(
            account_id, tag=tag, cursor=position.cursor, limit=limit, consistent=consistent
        )
        earlier = set(audience.tags[: position.index])
        contacts = [c for c in contacts if not earlier.intersection(c.tags)]
        if cursor is not None:
            return contacts, Position(position.index, cursor)
        if position.index + 1 < len(audience.tags):
            return contacts, Position(position.index + 1, None)
        return contacts, None

    def _page_of_stored(
        self, account_id: str, audience: Audience, position: Position, limit: int, consistent: bool
    ) -> tuple[list[Contact], Position | None]:
        stored = audience.stored
        assert stored is not None
        offset = _offset(position.cursor)
        ids = self.ids.contact_ids(account_id, stored, offset, limit)
        if not ids:
            return [], None
        contacts, _ = self.contacts.page(account_id, contact_ids=ids, limit=len(ids), consistent=consistent)
        after = offset + len(ids)
        return contacts, (Position(0, f"{AT}{after}") if after < stored.count else None)


def _offset(cursor: str | None) -> int:
    """The offset a position in a stored list of ids holds (0: the start)."""
    if cursor is None:
        return 0
    digits = cursor.removeprefix(AT)
    if not cursor.startswith(AT) or not (digits.isascii() and digits.isdigit()) or len(digits) > 6:
        raise ValueError(f"not a position in a list of contact ids: {cursor!r}")
    return int(digits)
