"""The contacts repository: every read is a GetItem, a BatchGet or a Query on the caller's account."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.pagination import ResultIterator
from pynamodb.transactions import TransactWrite

from wacast.adapters.dynamo.contact_items import (
    ContactModel,
    ContactTagModel,
    contact_key,
    import_partition,
    tag_items,
    tag_prefix,
    to_domain,
    to_model,
)
from wacast.adapters.dynamo.cursors import cursor_id, cursor_offset, encode_cursor
from wacast.adapters.dynamo.table import TableModel, reason_codes, unavailable_on_failure
from wacast.domain.contacts import CONTACT_ID, Contact, canonical_tag
from wacast.domain.errors import Conflict, StaleState, Unavailable

CONTACT_PREFIX = "CONTACT#"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


class DynamoContactRepository:
    """Contacts and their tag items in DynamoDB (implements ContactStore)."""

    def __init__(self, connection: Connection | None = None) -> None:
        self._connection = connection

    def _conn(self) -> Connection:
        return self._connection or ContactModel._get_connection().connection

    # -- reads -----------------------------------------------------------------------------------

    @unavailable_on_failure("read the contact")
    def get(self, account_id: str, contact_id: str) -> Contact | None:
        if not CONTACT_ID.match(contact_id):
            return None
        try:
            return to_domain(ContactModel.get(*contact_key(account_id, contact_id), consistent_read=True))
        except ContactModel.DoesNotExist:
            return None

    @unavailable_on_failure("read the contacts")
    def get_many(self, account_id: str, contact_ids: Sequence[str], *, consistent: bool = True) -> dict[str, Contact]:
        """The stored contacts of `contact_ids`, by id. Consistent unless asked (a request that validates ids
        must see a contact made a moment ago; a campaign's fan-out may read them a moment late, at half the
        read units)."""
        keys = [contact_key(account_id, cid) for cid in dict.fromkeys(contact_ids) if CONTACT_ID.match(cid)]
        return {m.id: to_domain(m) for m in ContactModel.batch_get(keys, consistent_read=consistent)}

    @unavailable_on_failure("list the contacts")
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
        """`consistent` is for the items read by key (a list of ids, a tag's contacts); the queries of the
        whole list and of an import batch (an index) are eventually consistent either way."""
        tag = canonical_tag(tag) if tag is not None else None
        if contact_ids is not None:
            return self._page_of_ids(account_id, contact_ids, tag, import_batch, cursor, limit, consistent)
        if import_batch is not None:
            return self._page_of_batch(account_id, import_batch, tag, cursor, limit)
        if tag is not None:
            return self._page_of_tag(account_id, tag, cursor, limit, consistent)
        pk, _ = contact_key(account_id, "")
        after = cursor_id(cursor, "contacts")
        start = {"pk": _s(pk), "sk": _s(CONTACT_PREFIX + after)} if after else None
        found = ContactModel.query(
            pk, ContactModel.sk.startswith(CONTACT_PREFIX), limit=limit, last_evaluated_key=start
        )
        return self._finish(found, "contacts")

    @unavailable_on_failure("count the contacts")
    def count(self, account_id: str, *, tag: str | None = None, import_batch: str | None = None) -> int:
        pk, _ = contact_key(account_id, "")
        tag = canonical_tag(tag) if tag is not None else None
        if import_batch is not None:
            return ContactModel.by_import.count(
                import_partition(account_id, import_batch), filter_condition=self._has_tag(tag)
            )
        if tag is not None:
            return ContactTagModel.count(pk, ContactTagModel.sk.startswith(tag_prefix(tag)))
        return ContactModel.count(pk, ContactModel.sk.startswith(CONTACT_PREFIX))

    def _page_of_ids(
        self,
        account_id: str,
        contact_ids: Sequence[str],
        tag: str | None,
        batch: str | None,
        cursor: str | None,
        limit: int,
        consistent: bool,
    ) -> tuple[list[Contact], str | None]:
        offset = cursor_offset(cursor, "ids")
        chunk = list(contact_ids[offset : offset + limit])
        found = self.get_many(account_id, chunk, consistent=consistent)
        contacts = [found[cid] for cid in dict.fromkeys(chunk) if cid in found]
        contacts = [c for c in contacts if _matches(c, tag, batch)]
        more = offset + limit < len(contact_ids)
        return contacts, encode_cursor("ids", offset + limit) if more else None

    def _page_of_batch(
        self, account_id: str, batch: str, tag: str | None, cursor: str | None, limit: int
    ) -> tuple[list[Contact], str | None]:
        partition = import_partition(account_id, batch)
        after = cursor_id(cursor, "batch")
        start = None
        if after:
            pk, sk = contact_key(account_id, after)
            start = {"gsi1pk": _s(partition), "gsi1sk": _s(sk), "pk": _s(pk), "sk": _s(sk)}
        found = ContactModel.by_import.query(
            partition, filter_condition=self._has_tag(tag), limit=limit, last_evaluated_key=start
        )
        return self._finish(found, "batch")

    def _page_of_tag(
        self, account_id: str, tag: str, cursor: str | None, limit: int, consistent: bool
    ) -> tuple[list[Contact], str | None]:
        pk, _ = contact_key(account_id, "")
        after = cursor_id(cursor, "tag")
        start = {"pk": _s(pk), "sk": _s(tag_prefix(tag) + after)} if after else None
        items = ContactTagModel.query(
            pk, ContactTagModel.sk.startswith(tag_prefix(tag)), limit=limit, last_evaluated_key=start
        )
        ids = [item.contact_id for item in items]
        found = self.get_many(account_id, ids, consistent=consistent)
        next_key = items.last_evaluated_key
        next_cursor = encode_cursor("tag", next_key["sk"]["S"].rsplit("#", 1)[1]) if next_key else None
        return [found[cid] for cid in ids if cid in found], next_cursor

    @staticmethod
    def _has_tag(tag: str | None) -> Condition | None:
        return ContactModel.tags.contains(tag) if tag is not None else None

    @staticmethod
    def _finish(found: ResultIterator[ContactModel], kind: str) -> tuple[list[Contact], str | None]:
        contacts = [to_domain(m) for m in found]
        next_key = found.last_evaluated_key
        return contacts, encode_cursor(kind, next_key["sk"]["S"].removeprefix(CONTACT_PREFIX)) if next_key else None

    # -- writes ----------------------------------------------------------------------------------

    @unavailable_on_failure("create the contact")
    def create(self, contact: Contact) -> None:
        try:
            with TransactWrite(connection=self._conn()) as tx:
                tx.save(to_model(contact), condition=ContactModel.pk.does_not_exist())
                for item in tag_items(contact):
                    tx.save(item)
        except TransactWriteError as exc:
            if reason_codes(exc)[:1] == ["ConditionalCheckFailed"]:
                raise Conflict(
                    "this phone is already a contact", details={"field": "phone", "contact_id": contact.id}
                ) from exc
            raise Unavailable("could not create the contact") from exc

    @unavailable_on_failure("update the contact")
    def replace(self, before: Contact, after: Contact) -> None:
        removed = [t for t in before.tags if t not in after.tags]
        added = [t for t in after.tags if t not in before.tags]
        try:
            with TransactWrite(connection=self._conn()) as tx:
                tx.save(to_model(after), condition=ContactModel.updated_at == before.updated_at)
                for item in tag_items(after, added):
                    tx.save(item)
                for item in tag_items(before, removed):
                    tx.delete(item)
        except TransactWriteError as exc:
            if reason_codes(exc)[:1] == ["ConditionalCheckFailed"]:
                raise StaleState("the contact changed meanwhile", details={"contact_id": before.id}) from exc
            raise Unavailable("could not update the contact") from exc

    @unavailable_on_failure("delete the contact")
    def delete(self, account_id: str, contact_id: str) -> bool:
        contact = self.get(account_id, contact_id)
        if contact is None:
            return False
        try:
            with TransactWrite(connection=self._conn()) as tx:
                tx.delete(to_model(contact), condition=ContactModel.updated_at == contact.updated_at)
                for item in tag_items(contact):
                    tx.delete(item)
        except TransactWriteError as exc:
            if reason_codes(exc)[:1] == ["ConditionalCheckFailed"]:
                raise StaleState("the contact changed meanwhile", details={"contact_id": contact_id}) from exc
            raise Unavailable("could not delete the contact") from exc
        return True

    def put_many(self, contacts: Sequence[Contact]) -> None:
        """Tags first, then the contacts: a contact that is stored always has its tag items, so a retry
        that finds it unchanged and skips it leaves nothing missing."""
        write_batches(item for contact in contacts for item in tag_items(contact))
        write_batches(to_model(contact) for contact in contacts)


def write_batches(items: Iterable[TableModel]) -> None:
    """Put items with BatchWriteItem, 25 a call (unprocessed items are retried)."""
    try:
        with TableModel.batch_write() as batch:
            for item in items:
                batch.save(item)
    except PynamoDBException as exc:
        raise Unavailable("could not write a batch: retry, it is idempotent") from exc


def _matches(contact: Contact, tag: str | None, batch: str | None) -> bool:
    return (tag is None or tag in contact.tags) and (batch is None or contact.import_batch == batch)
