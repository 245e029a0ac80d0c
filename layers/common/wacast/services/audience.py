"""Reads a campaign's audience page by page, from a position that survives between Lambda runs.

A multi-tag audience is read tag after tag; a contact is yielded only under the first of the
audience's tags it carries, so nobody is counted or messaged twice and no state is needed for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from wacast.domain.campaigns import Audience
from wacast.domain.contacts import Contact
from wacast.ports import ContactRepository

MAX_PAGES = 10_000  # bounds every loop here: 10k pages of 100 contacts


@dataclass(frozen=True)
class Position:
    index: int = 0  # which tag of a multi-tag audience
    cursor: str | None = None


class AudienceReader:
    """The contacts of an audience, in pages, resumable from a Position."""

    def __init__(self, contacts: ContactRepository) -> None:
        self.contacts = contacts

    def size(self, account_id: str, audience: Audience) -> int:
        """How many contacts the audience has now (before the campaign starts)."""
        if audience.import_batch is not None:
            return self.contacts.count(account_id, import_batch=audience.import_batch)
        if audience.tags is not None and len(audience.tags) == 1:
            return self.contacts.count(account_id, tag=audience.tags[0])
        total, position = 0, Position()
        for _ in range(MAX_PAGES):
            page, next_position = self.page(account_id, audience, position, limit=100)
            total += len(page)
            if next_position is None:
                return total
            position = next_position
        raise RuntimeError("audience too large to count")

    def unknown_contacts(self, account_id: str, audience: Audience) -> list[str]:
        """The ids of an explicit audience that name no contact of the account, in the order given."""
        if not audience.contact_ids:
            return []
        found: set[str] = set()
        position: Position | None = Position()
        for _ in range(MAX_PAGES):
            if position is None:
                break
            page, position = self.page(account_id, audience, position, limit=100)
            found.update(c.id for c in page)
        return [i for i in audience.contact_ids if i not in found]

    def page(
        self, account_id: str, audience: Audience, position: Position, limit: int, *, consistent: bool = True
    ) -> tuple[list[Contact], Position | None]:
        """Up to `limit` contacts from `position`, and the position after them (None at the end). With
        `consistent` False the contacts may be read as they were a moment ago (half the read units)."""
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
