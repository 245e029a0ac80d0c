"""The items of a contact.

contact: pk ACCT#{account}, sk CONTACT#{contact}; gsi1 IMPORT#{account}#{batch} / CONTACT#{contact} (sparse:
         only contacts an import wrote), so an import batch's contacts are one Query.
tag:     pk ACCT#{account}, sk CTAG#{tag}#{contact}: one small item per (contact, tag), so a tag's contacts
         are one Query too. Tags never hold '#' (the domain refuses it).
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute

from wacast.adapters.dynamo.attributes import PydanticAttribute
from wacast.adapters.dynamo.table import Gsi1, TableModel
from wacast.domain.contacts import Contact


class ContactModel(TableModel):
    id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    phone = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    attributes = PydanticAttribute(dict[str, str], sort_keys=True, default=dict, attr_name="attributes_json")
    tags = UnicodeSetAttribute(null=True)
    opted_out = BooleanAttribute(default=False)
    opted_out_at = UTCDateTimeAttribute(null=True)
    opted_out_source = UnicodeAttribute(null=True)
    import_batch = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    by_import = Gsi1()


class ContactTagModel(TableModel):
    contact_id = UnicodeAttribute()


def contact_key(account_id: str, contact_id: str) -> tuple[str, str]:
    return f"ACCT#{account_id}", f"CONTACT#{contact_id}"


def tag_prefix(tag: str) -> str:
    return f"CTAG#{tag}#"


def import_partition(account_id: str, batch: str) -> str:
    return f"IMPORT#{account_id}#{batch}"


def to_model(contact: Contact) -> ContactModel:
    model = ContactModel(
        *contact_key(contact.account_id, contact.id),
        id=contact.id,
        account_id=contact.account_id,
        phone=contact.phone,
        name=contact.name or None,
        attributes=contact.attributes,
        tags=set(contact.tags) or None,
        opted_out=contact.opted_out,
        opted_out_at=contact.opted_out_at,
        opted_out_source=contact.opted_out_source,
        import_batch=contact.import_batch,
        created_at=contact.created_at,
        updated_at=contact.updated_at,
    )
    if contact.import_batch:
        model.gsi1pk = import_partition(contact.account_id, contact.import_batch)
        model.gsi1sk = f"CONTACT#{contact.id}"
    return model


def to_domain(model: ContactModel) -> Contact:
    return Contact(
        id=model.id,
        account_id=model.account_id,
        phone=model.phone,
        name=model.name or "",
        attributes=model.attributes,
        tags=sorted(model.tags or ()),
        opted_out=model.opted_out,
        opted_out_at=model.opted_out_at,
        opted_out_source=model.opted_out_source,
        import_batch=model.import_batch,
        created_at=model.created_at,
        updated_at=model.updated_at,
    )


def tag_items(contact: Contact, tags: list[str] | None = None) -> list[ContactTagModel]:
    """The tag items of `contact` (of `tags` only, when given)."""
    pk, _ = contact_key(contact.account_id, contact.id)
    return [
        ContactTagModel(pk, tag_prefix(tag) + contact.id, contact_id=contact.id)
        for tag in (contact.tags if tags is None else tags)
    ]
