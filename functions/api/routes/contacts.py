"""Contacts: create, read, change, delete, and list (paged, by tag or import batch)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from routes.deps import PrincipalDep, ServicesDep
from routes.errors import ERRORS
from routes.fields import PhoneIn
from wacast.domain.contacts import MAX_NAME, MAX_TAGS, Contact

router = APIRouter(prefix="/api/contacts", tags=["contacts"], responses=ERRORS)

ContactId = Annotated[str, Path(max_length=64)]
IMPORT_BATCH = r"^imp_[0-9a-f]{20}$"


class ContactIn(BaseModel):
    phone: PhoneIn
    name: str = Field(default="", max_length=MAX_NAME, examples=["Asha Rao"])
    attributes: dict[str, str] = Field(
        default_factory=dict, description="values templates use: {{key}}", examples=[{"city": "Pune"}]
    )
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS, examples=[["vip", "new customer"]])


class ContactPatch(BaseModel):
    """Only what is sent changes; `attributes` and `tags` are replaced whole. The phone never changes
    (a contact is its phone): create another contact instead."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=MAX_NAME)
    attributes: dict[str, str] | None = None
    tags: list[str] | None = Field(default=None, max_length=MAX_TAGS)


class ContactOut(BaseModel):
    id: str
    phone: str
    name: str
    attributes: dict[str, str]
    tags: list[str]
    opted_out: bool
    opted_out_at: datetime | None
    opted_out_source: str | None
    import_batch: str | None
    created_at: datetime
    updated_at: datetime


class ContactPage(BaseModel):
    items: list[ContactOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null at the end")


def contact_out(contact: Contact) -> ContactOut:
    return ContactOut.model_validate(contact, from_attributes=True)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_contact(body: ContactIn, principal: PrincipalDep, services: ServicesDep) -> ContactOut:
    """A phone is one contact: creating it twice is 409, naming the existing contact."""
    contact = services.contacts.create(principal, body.phone, body.name, body.attributes, body.tags)
    return contact_out(contact)


@router.get("")
def list_contacts(
    principal: PrincipalDep,
    services: ServicesDep,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    import_batch: Annotated[str | None, Query(pattern=IMPORT_BATCH)] = None,
    cursor: Annotated[str | None, Query(max_length=256)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> ContactPage:
    contacts, next_cursor = services.contacts.page(
        principal, tag=tag, import_batch=import_batch, cursor=cursor, limit=limit
    )
    return ContactPage(items=[contact_out(c) for c in contacts], next_cursor=next_cursor)


@router.get("/{contact_id}")
def get_contact(contact_id: ContactId, principal: PrincipalDep, services: ServicesDep) -> ContactOut:
    return contact_out(services.contacts.get(principal, contact_id))


@router.patch("/{contact_id}")
def update_contact(
    contact_id: ContactId, body: ContactPatch, principal: PrincipalDep, services: ServicesDep
) -> ContactOut:
    contact = services.contacts.update(
        principal, contact_id, name=body.name, attributes=body.attributes, tags=body.tags
    )
    return contact_out(contact)


@router.delete("/{contact_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_contact(contact_id: ContactId, principal: PrincipalDep, services: ServicesDep) -> None:
    """Delete a contact. An opt-out of its phone stays: it belongs to the phone, not the contact."""
    services.contacts.delete(principal, contact_id)
