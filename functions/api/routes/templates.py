"""Message templates: `{{variable}}` placeholders with optional defaults (`{{name|there}}`), checked when
saved, previewed against a contact or sample values. Built-in starters are readable by every account."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from routes.deps import PrincipalDep, ServicesDep
from routes.errors import ERRORS
from wacast.domain.templates import MAX_BODY, Template

router = APIRouter(prefix="/api/templates", tags=["templates"], responses=ERRORS)

TemplateId = Annotated[str, Path(max_length=64)]


class TemplateIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    body: str = Field(min_length=1, max_length=MAX_BODY, examples=["Hi {{first_name|there}}, your order {{order_id}}"])


class TemplatePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=120)
    body: str | None = Field(default=None, min_length=1, max_length=MAX_BODY)


class TemplateOut(BaseModel):
    id: str
    name: str
    body: str
    variables: list[str]
    builtin: bool
    created_at: datetime
    updated_at: datetime


class TemplatePage(BaseModel):
    items: list[TemplateOut]
    next_cursor: str | None


class PreviewRequest(BaseModel):
    contact_id: str | None = Field(default=None, max_length=64, description="a contact of the account")
    values: dict[str, str] = Field(default_factory=dict, description="sample values (they win over the contact's)")


class PreviewOut(BaseModel):
    text: str


def _out(template: Template) -> TemplateOut:
    return TemplateOut.model_validate(template, from_attributes=True)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_template(body: TemplateIn, principal: PrincipalDep, services: ServicesDep) -> TemplateOut:
    """A body that does not parse is 422, naming the line and column of the problem."""
    return _out(services.templates.create(principal, body.name, body.body))


@router.get("")
def list_templates(
    principal: PrincipalDep,
    services: ServicesDep,
    cursor: Annotated[str | None, Query(max_length=256)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> TemplatePage:
    """The account's templates; the first page starts with the built-in ones."""
    templates, next_cursor = services.templates.page(principal, cursor=cursor, limit=limit)
    return TemplatePage(items=[_out(t) for t in templates], next_cursor=next_cursor)


@router.get("/{template_id}")
def get_template(template_id: TemplateId, principal: PrincipalDep, services: ServicesDep) -> TemplateOut:
    return _out(services.templates.get(principal, template_id))


@router.patch("/{template_id}")
def update_template(
    template_id: TemplateId, body: TemplatePatch, principal: PrincipalDep, services: ServicesDep
) -> TemplateOut:
    """Built-in templates are read-only (403)."""
    return _out(services.templates.update(principal, template_id, name=body.name, body=body.body))


@router.delete("/{template_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_template(template_id: TemplateId, principal: PrincipalDep, services: ServicesDep) -> None:
    services.templates.delete(principal, template_id)


@router.post("/{template_id}/preview")
def preview_template(
    template_id: TemplateId, body: PreviewRequest, principal: PrincipalDep, services: ServicesDep
) -> PreviewOut:
    """The text a contact would get. A variable with no value and no default is 422, naming it."""
    text = services.templates.preview(principal, template_id, contact_id=body.contact_id, values=body.values)
    return PreviewOut(text=text)
