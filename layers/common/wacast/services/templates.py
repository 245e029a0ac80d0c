"""Templates of an account, the built-in starters, and previews."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from wacast.domain.accounts import Principal
from wacast.domain.errors import Forbidden, NotFound, ValidationFailed
from wacast.domain.templates import BUILTIN_TEMPLATES, Template, contact_values, render, variables
from wacast.ports import Clock, ContactRepository, TemplateStore

MAX_NAME = 120


def _check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise ValidationFailed(f"a template name has 1 to {MAX_NAME} characters", field="name")
    return name


class TemplateService:
    """Templates are checked when saved: a body that does not parse is refused, naming where."""

    def __init__(self, templates: TemplateStore, contacts: ContactRepository, clock: Clock) -> None:
        self.templates = templates
        self.contacts = contacts
        self.clock = clock

    def create(self, principal: Principal, name: str, body: str) -> Template:
        now = self.clock.now()
        template = Template(
            id=f"tpl_{uuid.uuid4().hex[:20]}",
            account_id=principal.account_id,
            name=_check_name(name),
            body=body,
            variables=variables(body),
            created_at=now,
            updated_at=now,
        )
        self.templates.create(template)
        return template

    def get(self, principal: Principal, template_id: str) -> Template:
        template = self.templates.get(principal.account_id, template_id)
        if template is None:
            raise NotFound("no such template", details={"template_id": template_id})
        return template

    def page(
        self, principal: Principal, *, cursor: str | None = None, limit: int = 50
    ) -> tuple[list[Template], str | None]:
        """The account's templates; the first page starts with the built-in ones."""
        own, next_cursor = self.templates.page(principal.account_id, cursor=cursor, limit=limit)
        return ([*BUILTIN_TEMPLATES.values(), *own] if cursor is None else own), next_cursor

    def update(self, principal: Principal, template_id: str, *, name: str | None, body: str | None) -> Template:
        template = self._own(principal, template_id)
        changes: dict[str, object] = {"updated_at": self.clock.now()}
        if name is not None:
            changes["name"] = _check_name(name)
        if body is not None:
            changes.update(body=body, variables=variables(body))
        updated = template.model_copy(update=changes)
        self.templates.replace(updated)
        return updated

    def delete(self, principal: Principal, template_id: str) -> None:
        self._own(principal, template_id)
        if not self.templates.delete(principal.account_id, template_id):
            raise NotFound("no such template", details={"template_id": template_id})

    def preview(
        self, principal: Principal, template_id: str, *, contact_id: str | None, values: Mapping[str, str]
    ) -> str:
        """The template rendered for a contact of the account and/or sample values (values win)."""
        template = self.get(principal, template_id)
        merged: dict[str, str] = {}
        if contact_id is not None:
            contact = self.contacts.get(principal.account_id, contact_id)
            if contact is None:
                raise NotFound("no such contact", details={"field": "contact_id", "contact_id": contact_id})
            merged.update(contact_values(contact))
        merged.update(values)
        return render(template.body, merged)

    def _own(self, principal: Principal, template_id: str) -> Template:
        template = self.get(principal, template_id)
        if template.builtin:
            raise Forbidden("built-in templates are read-only: create a template from its body")
        return template
