"""In-memory fakes of the workspace ports (contacts, opt-outs, templates, API keys, sign-in attempts).
They keep the adapters' contracts, and can stop after N writes to play a crash."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from wacast.domain.accounts import ApiKey
from wacast.domain.contacts import Contact, canonical_tag, contact_id_for
from wacast.domain.errors import Conflict, NotFound, StaleState, Unavailable
from wacast.domain.optout import OptOut
from wacast.domain.templates import BUILTIN_TEMPLATES, Template


class Crash(Unavailable):
    """The process 'died' in the middle of a batch write."""


class WriteBudget:
    """Allows `remaining` more item writes (None: no limit), then raises Crash."""

    def __init__(self, remaining: int | None = None) -> None:
        self.remaining = remaining

    def spend(self) -> None:
        if self.remaining is not None:
            if self.remaining <= 0:
                raise Crash("crashed in the middle of a batch write")
            self.remaining -= 1


class InMemoryContacts:
    """ContactStore. Pages in id order; cursors are the last id (or an offset for id lists)."""

    def __init__(self, budget: WriteBudget | None = None) -> None:
        self.items: dict[tuple[str, str], Contact] = {}
        self.budget = budget or WriteBudget()

    def get(self, account_id: str, contact_id: str) -> Contact | None:
        return self.items.get((account_id, contact_id))

    def get_many(self, account_id: str, contact_ids: Sequence[str], *, consistent: bool = True) -> dict[str, Contact]:
        return {cid: self.items[(account_id, cid)] for cid in contact_ids if (account_id, cid) in self.items}

    def page(
        self,
        account_id: str,
        *,
        tag: str | None = None,
        import_batch: str | None = None,
        contact_ids: Sequence[str] | None = None,
        cursor: str | None = None,
        limit: int = 100,
        consistent: bool = True,  # an in-memory read is always current
    ) -> tuple[list[Contact], str | None]:
        if contact_ids is not None:
            offset = int(cursor or 0)
            found = self.get_many(account_id, contact_ids[offset : offset + limit])
            chosen = [c for c in found.values() if self._matches(c, tag, import_batch)]
            return chosen, str(offset + limit) if offset + limit < len(contact_ids) else None
        matching = sorted(
            (c for (acct, _), c in self.items.items() if acct == account_id and self._matches(c, tag, import_batch)),
            key=lambda c: c.id,
        )
        after = [c for c in matching if cursor is None or c.id > cursor]
        page = after[:limit]
        return page, page[-1].id if len(after) > limit else None

    def count(self, account_id: str, *, tag: str | None = None, import_batch: str | None = None) -> int:
        return sum(1 for (a, _), c in self.items.items() if a == account_id and self._matches(c, tag, import_batch))

    def create(self, contact: Contact) -> None:
        if (contact.account_id, contact.id) in self.items:
            raise Conflict("this phone is already a contact", details={"field": "phone", "contact_id": contact.id})
        self.items[(contact.account_id, contact.id)] = contact

    def replace(self, before: Contact, after: Contact) -> None:
        current = self.get(before.account_id, before.id)
        if current is None or current.updated_at != before.updated_at:
            raise StaleState("the contact changed meanwhile")
        self.items[(after.account_id, after.id)] = after

    def delete(self, account_id: str, contact_id: str) -> bool:
        return self.items.pop((account_id, contact_id), None) is not None

    def put_many(self, contacts: Sequence[Contact]) -> None:
        for contact in contacts:
            self.budget.spend()
            self.items[(contact.account_id, contact.id)] = contact

    def mirror(self, account_id: str, phone: str, opt_out: OptOut | None, at: datetime) -> bool:
        contact = self.get(account_id, contact_id_for(account_id, phone))
        if contact is None:
            return False
        self.items[(account_id, contact.id)] = contact.model_copy(
            update={
                "opted_out": opt_out is not None,
                "opted_out_at": opt_out.at if opt_out else None,
                "opted_out_source": opt_out.source if opt_out else None,
                "updated_at": at,
            }
        )
        return True

    @staticmethod
    def _matches(contact: Contact, tag: str | None, batch: str | None) -> bool:
        return (tag is None or canonical_tag(tag) in contact.tags) and (batch is None or contact.import_batch == batch)


class InMemoryTemplates:
    """TemplateStore, with the built-in templates."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Template] = {}

    def get(self, account_id: str, template_id: str) -> Template | None:
        return BUILTIN_TEMPLATES.get(template_id) or self.items.get((account_id, template_id))

    def page(self, account_id: str, *, cursor: str | None = None, limit: int = 50) -> tuple[list[Template], str | None]:
        own = sorted((t for (a, _), t in self.items.items() if a == account_id), key=lambda t: t.id)
        after = [t for t in own if cursor is None or t.id > cursor]
        return after[:limit], after[limit - 1].id if len(after) > limit else None

    def create(self, template: Template) -> None:
        assert template.account_id is not None
        self.items[(template.account_id, template.id)] = template

    def replace(self, template: Template) -> None:
        assert template.account_id is not None
        if (template.account_id, template.id) not in self.items:
            raise NotFound("no such template")
        self.items[(template.account_id, template.id)] = template

    def delete(self, account_id: str, template_id: str) -> bool:
        return self.items.pop((account_id, template_id), None) is not None


class InMemoryApiKeys:
    def __init__(self) -> None:
        self.items: dict[str, ApiKey] = {}

    def create(self, key: ApiKey) -> None:
        self.items[key.key_hash] = key

    def find_by_hash(self, key_hash: str) -> ApiKey | None:
        return self.items.get(key_hash)

    def list_for_account(self, account_id: str) -> list[ApiKey]:
        return [k for k in self.items.values() if k.account_id == account_id]

    def revoke(self, account_id: str, key_id: str) -> bool:
        for key_hash, key in list(self.items.items()):
            if key.account_id == account_id and key.id == key_id:
                del self.items[key_hash]
                return True
        return False


class InMemoryLoginAttempts:
    """The DynamoDB limiter's contract: `max_attempts` per email in fixed windows of `window_seconds`."""

    def __init__(self, max_attempts: int = 5, window_seconds: int = 900) -> None:
        self.max_attempts = max_attempts
        self.window_seconds = window_seconds
        self.counts: dict[tuple[str, int], int] = {}

    def reserve(self, email: str, now: datetime) -> float:
        window = int(now.timestamp()) // self.window_seconds
        if self.counts.get((email, window), 0) >= self.max_attempts:
            return max(1.0, (window + 1) * self.window_seconds - now.timestamp())
        self.counts[(email, window)] = self.counts.get((email, window), 0) + 1
        return 0.0

    def clear(self, email: str, now: datetime) -> None:
        self.counts.pop((email, int(now.timestamp()) // self.window_seconds), None)
