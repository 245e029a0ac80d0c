"""Contacts of an account: create, read, change, delete, list, import and export.

A CSV import checks the whole file before it writes anything. Its writes are idempotent puts, in an
order that is safe to stop anywhere: first the new opt-outs (so a row that said no can never be sent
to, even if the import stops), then the contacts' tags, then the contacts. Running the same import
again after a crash completes it; running it again after success writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from wacast.domain.accounts import Principal
from wacast.domain.contact_csv import (
    RejectedRow,
    csv_line,
    export_header,
    export_row,
    import_batch_id,
    parse_contacts_csv,
)
from wacast.domain.contact_import import plan_import
from wacast.domain.contacts import Contact, check_attributes, check_name, contact_id_for, normalise_tags
from wacast.domain.errors import NotFound, StaleState
from wacast.domain.phones import normalise_phone
from wacast.observability import logger
from wacast.ports import AccountRepository, Clock, ContactRepository, ContactStore, OptOutRepository

UPDATE_ATTEMPTS = 3
EXPORT_PAGE = 100


def tag_filter(tag: str | None) -> str | None:
    """The normalised tag of a `?tag=` filter (None: no filter)."""
    tags = normalise_tags([tag], field="tag") if tag else []
    return tags[0] if tags else None


@dataclass(frozen=True)
class ImportReport:
    import_batch: str
    rows: int  # data rows in the file (blank lines aside)
    imported: int  # new contacts
    updated: int  # contacts this file changed
    duplicate: int  # rows that changed nothing: a phone repeated in the file, or a contact already so
    duplicate_in_file: int
    unchanged: int
    opted_out: int  # valid rows whose contact is opted out (stays so, or said no in the file)
    rejected: list[RejectedRow]
    ignored_columns: list[str]


class ContactService:
    """Contacts, scoped to the caller's account. A new contact starts opted out if its phone is on the list."""

    def __init__(
        self, contacts: ContactStore, optouts: OptOutRepository, accounts: AccountRepository, clock: Clock
    ) -> None:
        self.contacts = contacts
        self.optouts = optouts
        self.accounts = accounts
        self.clock = clock

    def create(
        self, principal: Principal, phone: str, name: str, attributes: Mapping[str, str], tags: Sequence[str]
    ) -> Contact:
        account = self.accounts.get(principal.account_id)
        if account is None:
            raise NotFound("account not found")
        e164 = normalise_phone(phone, account.settings.default_country)
        opt_out = self.optouts.find_many(account.id, [e164]).get(e164)
        now = self.clock.now()
        contact = Contact(
            id=contact_id_for(account.id, e164),
            account_id=account.id,
            phone=e164,
            name=check_name(name),
            attributes=check_attributes(attributes),
            tags=normalise_tags(tags),
            opted_out=opt_out is not None,
            opted_out_at=opt_out.at if opt_out else None,
            opted_out_source=opt_out.source if opt_out else None,
            created_at=now,
            updated_at=now,
        )
        self.contacts.create(contact)
        return contact

    def get(self, principal: Principal, contact_id: str) -> Contact:
        contact = self.contacts.get(principal.account_id, contact_id)
        if contact is None:
            raise NotFound("no such contact", details={"contact_id": contact_id})
        return contact

    def update(
        self,
        principal: Principal,
        contact_id: str,
        *,
        name: str | None = None,
        attributes: Mapping[str, str] | None = None,
        tags: Sequence[str] | None = None,
    ) -> Contact:
        """Change what is given (attributes and tags are replaced whole). Retries a lost race a few times."""
        changes: dict[str, object] = {}
        if name is not None:
            changes["name"] = check_name(name)
        if attributes is not None:
            changes["attributes"] = check_attributes(attributes)
        if tags is not None:
            changes["tags"] = normalise_tags(tags)
        for _ in range(UPDATE_ATTEMPTS):
            before = self.get(principal, contact_id)
            after = before.model_copy(update={**changes, "updated_at": self.clock.now()})
            if after.same_content(before):
                return before
            try:
                self.contacts.replace(before, after)
            except StaleState:
                continue
            return after
        raise StaleState("the contact kept changing: try again", details={"contact_id": contact_id})

    def delete(self, principal: Principal, contact_id: str) -> None:
        """Delete the contact. Its phone stays on the opt-out list if it was on it."""
        if not self.contacts.delete(principal.account_id, contact_id):
            raise NotFound("no such contact", details={"contact_id": contact_id})

    def page(
        self,
        principal: Principal,
        *,
        tag: str | None = None,
        import_batch: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[list[Contact], str | None]:
        return self.contacts.page(
            principal.account_id, tag=tag_filter(tag), import_batch=import_batch, cursor=cursor, limit=limit
        )

    def import_csv(self, principal: Principal, data: bytes) -> ImportReport:
        account = self.accounts.get(principal.account_id)
        if account is None:
            raise NotFound("account not found")
        parsed = parse_contacts_csv(data, account.settings.default_country)
        batch = import_batch_id(account.id, data)
        phones = [row.phone for row in parsed.rows]
        current = self.contacts.get_many(account.id, [contact_id_for(account.id, phone) for phone in phones])
        plan = plan_import(
            account.id, parsed, batch, current, self.optouts.find_many(account.id, phones), self.clock.now()
        )
        self.optouts.add_many(account.id, plan.new_opt_outs)
        self.contacts.put_many(plan.contacts)
        logger.info(
            "contacts imported",
            account_id=account.id,
            import_batch=batch,
            imported=plan.imported,
            updated=plan.updated,
            rejected=len(plan.rejected),
        )
        return ImportReport(
            import_batch=batch,
            rows=parsed.total,
            imported=plan.imported,
            updated=plan.updated,
            duplicate=len(parsed.repeated_lines) + plan.unchanged,
            duplicate_in_file=len(parsed.repeated_lines),
            unchanged=plan.unchanged,
            opted_out=plan.opted_out,
            rejected=plan.rejected,
            ignored_columns=parsed.ignored_columns,
        )

    def export_csv(
        self, principal: Principal, *, tag: str | None = None, import_batch: str | None = None
    ) -> Iterator[str]:
        """CSV lines: a header, then one line per contact (see `contact_export_lines`)."""
        return contact_export_lines(self.contacts, principal.account_id, tag_filter(tag), import_batch)


def contact_export_lines(
    contacts: ContactRepository, account_id: str, tag: str | None, import_batch: str | None, page: int = EXPORT_PAGE
) -> Iterator[str]:
    """CSV lines: a header, then one line per contact of the account (or of a normalised tag, or an import
    batch). Attribute columns are the keys any exported contact has (a first pass reads them), so the file
    reads back in with the same attributes. Pages through the contacts: memory stays flat."""

    def every() -> Iterator[Contact]:
        cursor: str | None = None
        while True:
            found, cursor = contacts.page(account_id, tag=tag, import_batch=import_batch, cursor=cursor, limit=page)
            yield from found
            if cursor is None:
                return

    keys = sorted({key for contact in every() for key in contact.attributes})
    yield csv_line(export_header(keys))
    for contact in every():
        yield csv_line(export_row(contact, keys))
