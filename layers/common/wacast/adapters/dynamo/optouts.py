"""The opt-out list: pk ACCT#{account}, sk OPTOUT#{e164 phone}. One item per opted-out number, so a
send path checks it with one GetItem (or a BatchGet for many), whether or not the number is a contact.

The contact of a phone (its id is derived from the phone) mirrors the list: an opt-out or opt-in writes
the list item and the contact in one transaction, or, when there is no contact, writes the list item on
condition that there still is none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from wacast.adapters.dynamo.contact_items import ContactModel, contact_key
from wacast.adapters.dynamo.contacts import write_batches
from wacast.adapters.dynamo.table import TableModel, reason_codes, unavailable_on_failure
from wacast.domain.contacts import contact_id_for
from wacast.domain.errors import Unavailable
from wacast.domain.optout import OptOut

MIRROR_ATTEMPTS = 5
CONTACT_MISSING = [None, "ConditionalCheckFailed"]


class OptOutModel(TableModel):
    phone = UnicodeAttribute()
    source = UnicodeAttribute()
    at = UTCDateTimeAttribute()


def optout_key(account_id: str, phone: str) -> tuple[str, str]:
    return f"ACCT#{account_id}", f"OPTOUT#{phone}"


def _model(account_id: str, opt_out: OptOut) -> OptOutModel:
    pk, sk = optout_key(account_id, opt_out.phone)
    return OptOutModel(pk, sk, phone=opt_out.phone, source=opt_out.source, at=opt_out.at)


class DynamoOptOutRepository:
    """Opt-outs in DynamoDB, mirrored on contacts."""

    def __init__(self, connection: Connection | None = None) -> None:
        self._connection = connection

    @unavailable_on_failure("read the opt-out list")
    def is_opted_out(self, account_id: str, phone: str) -> bool:
        try:
            OptOutModel.get(*optout_key(account_id, phone), consistent_read=True, attributes_to_get=["pk"])
        except OptOutModel.DoesNotExist:
            return False
        return True

    @unavailable_on_failure("read the opt-out list")
    def find_many(self, account_id: str, phones: Sequence[str]) -> dict[str, OptOut]:
        keys = [optout_key(account_id, phone) for phone in dict.fromkeys(phones)]
        return {
            m.phone: OptOut(phone=m.phone, source=m.source, at=m.at)
            for m in OptOutModel.batch_get(keys, consistent_read=True)
        }

    @unavailable_on_failure("read the opt-out list")
    def opted_out_among(self, account_id: str, phones: Sequence[str]) -> set[str]:
        """Eventually consistent (half the read units): its one caller, the campaign fan-out, only marks the
        opted-out SKIPPED early; an opt-out it misses by a moment is caught by the session host, which
        checks `is_opted_out` (consistent) right before each send."""
        keys = [optout_key(account_id, phone) for phone in dict.fromkeys(phones)]
        found = OptOutModel.batch_get(keys, consistent_read=False, attributes_to_get=["pk", "sk", "phone"])
        return {m.phone for m in found}

    @unavailable_on_failure("update the opt-out list")
    def opt_out(self, account_id: str, phone: str, source: str, at: datetime) -> bool:
        item = _model(account_id, OptOut(phone=phone, source=source, at=at))
        actions: list[Action] = [
            ContactModel.opted_out.set(True),
            ContactModel.opted_out_at.set(at),
            ContactModel.opted_out_source.set(source),
            ContactModel.updated_at.set(at),
        ]
        return self._with_contact(account_id, phone, lambda tx: tx.save(item), actions)

    @unavailable_on_failure("update the opt-out list")
    def opt_in(self, account_id: str, phone: str, at: datetime) -> bool:
        item = OptOutModel(*optout_key(account_id, phone))
        actions: list[Action] = [
            ContactModel.opted_out.set(False),
            ContactModel.opted_out_at.remove(),
            ContactModel.opted_out_source.remove(),
            ContactModel.updated_at.set(at),
        ]
        return self._with_contact(account_id, phone, lambda tx: tx.delete(item), actions)

    def add_many(self, account_id: str, opt_outs: Sequence[OptOut]) -> None:
        write_batches(_model(account_id, opt_out) for opt_out in opt_outs)

    def _with_contact(
        self, account_id: str, phone: str, write_list: Callable[[TransactWrite], None], contact_actions: list[Action]
    ) -> bool:
        """Apply the list write with the contact update, or alone when there is no contact. True: a contact."""
        pk, sk = contact_key(account_id, contact_id_for(account_id, phone))
        conn = self._connection or OptOutModel._get_connection().connection
        for _ in range(MIRROR_ATTEMPTS):
            try:
                with TransactWrite(connection=conn) as tx:
                    write_list(tx)
                    tx.update(ContactModel(pk, sk), actions=contact_actions, condition=ContactModel.pk.exists())
                return True
            except TransactWriteError as exc:
                _unless_contact_missing(exc)
            try:
                with TransactWrite(connection=conn) as tx:
                    write_list(tx)
                    tx.condition_check(ContactModel, pk, sk, condition=ContactModel.pk.does_not_exist())
                return False
            except TransactWriteError as exc:
                _unless_contact_missing(exc)  # the contact was created meanwhile: mirror on it
        raise Unavailable("the contact of this phone kept changing: try again", details={"field": "phone"})


def _unless_contact_missing(exc: TransactWriteError) -> None:
    """Carry on when the transaction failed only on the contact's condition (or lost a race); else raise."""
    codes = reason_codes(exc)
    if codes != CONTACT_MISSING and "TransactionConflict" not in codes:
        raise Unavailable("could not update the opt-out list") from exc
