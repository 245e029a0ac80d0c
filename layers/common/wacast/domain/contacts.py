"""Contacts: one per (account, E.164 phone). The id is derived from both, so the same phone is always the
same contact, re-imports are idempotent and two contacts can never share a phone."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime

from pydantic import BaseModel, Field

from wacast.domain.errors import ValidationFailed

MAX_NAME = 200
MAX_TAGS = 20
MAX_TAG_LENGTH = 40
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_KEY = 64
MAX_ATTRIBUTE_VALUE = 1000

CONTACT_ID = re.compile(r"^c_[0-9a-f]{24}$")
TAG_PUNCTUATION = frozenset(" .:-")


def is_word_char(ch: str) -> bool:
    """A letter, digit, `_` or combining mark (so names in Devanagari or Arabic script keep their vowels)."""
    return ch.isalnum() or ch == "_" or unicodedata.category(ch).startswith("M")


def is_variable_name(text: str) -> bool:
    """A template variable name: a letter or `_`, then word characters ('name', 'city_2', 'शहर')."""
    return bool(text) and (text[0].isalpha() or text[0] == "_") and all(is_word_char(ch) for ch in text)


def is_tag(text: str) -> bool:
    """A tag: word characters, spaces and `. : -`, starting with a word character (never `#`)."""
    return bool(text) and is_word_char(text[0]) and all(is_word_char(ch) or ch in TAG_PUNCTUATION for ch in text)


class Contact(BaseModel):
    """Someone an account may message. `opted_out*` mirror the account's opt-out list for this phone."""

    id: str
    account_id: str
    phone: str = Field(description="E.164")
    name: str = ""
    attributes: dict[str, str] = Field(default_factory=dict, description="free values templates can use")
    tags: list[str] = Field(default_factory=list)
    opted_out: bool = False
    opted_out_at: datetime | None = None
    opted_out_source: str | None = None
    import_batch: str | None = Field(default=None, description="the CSV import that created or last updated it")
    created_at: datetime
    updated_at: datetime

    def same_content(self, other: Contact) -> bool:
        """Equal but for `updated_at`: writing `other` over `self` would change nothing a user sees."""
        return self.model_dump(exclude={"updated_at"}) == other.model_dump(exclude={"updated_at"})


def contact_id_for(account_id: str, phone: str) -> str:
    """The id of the contact with E.164 `phone` in `account_id`."""
    return "c_" + hashlib.sha256(f"{account_id}:{phone}".encode()).hexdigest()[:24]


def canonical_tag(tag: str) -> str:
    """How a tag is stored and looked up: spaces collapsed, lower case ('  New  Customer' -> 'new customer')."""
    return " ".join(tag.split()).casefold()


def normalise_tags(tags: Iterable[str], *, field: str = "tags") -> list[str]:
    """Tags trimmed, lower-cased, each once, sorted. Raises ValidationFailed naming `field`."""
    out: set[str] = set()
    for raw in tags:
        tag = canonical_tag(raw)
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH or not is_tag(tag):
            raise ValidationFailed(
                f"not a tag: {raw[:60]!r} (up to {MAX_TAG_LENGTH} letters, digits, spaces or _ - . :)", field=field
            )
        out.add(tag)
        if len(out) > MAX_TAGS:
            raise ValidationFailed(f"a contact has at most {MAX_TAGS} tags", field=field)
    return sorted(out)


def check_name(name: str, *, field: str = "name") -> str:
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise ValidationFailed(f"a name has at most {MAX_NAME} characters", field=field)
    return name


def check_attributes(attributes: Mapping[str, str], *, field: str = "attributes") -> dict[str, str]:
    """Attribute keys are template variable names; values are short text."""
    if len(attributes) > MAX_ATTRIBUTES:
        raise ValidationFailed(f"a contact has at most {MAX_ATTRIBUTES} attributes", field=field)
    for key, value in attributes.items():
        if len(key) > MAX_ATTRIBUTE_KEY or not is_variable_name(key):
            raise ValidationFailed(
                f"not an attribute name: {key[:70]!r} (a letter or _, then letters, digits or _)", field=field
            )
        if len(value) > MAX_ATTRIBUTE_VALUE:
            raise ValidationFailed(f"{key}: a value has at most {MAX_ATTRIBUTE_VALUE} characters", field=field)
    return dict(attributes)


def attribute_key(header: str) -> str:
    """The attribute key a CSV header names: 'City Name' -> 'city_name' ('' when nothing usable is left)."""
    chars = [ch if is_word_char(ch) else " " for ch in header.strip().casefold()]
    key = "_".join("".join(chars).split()).strip("_")
    if key and not is_variable_name(key):
        key = "_" + key
    return key[:MAX_ATTRIBUTE_KEY]
