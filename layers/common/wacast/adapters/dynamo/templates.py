"""Templates: pk ACCT#{account}, sk TEMPLATE#{template}. Built-in templates live in the domain, not the
table: `get` answers them for every account."""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DeleteError, PutError
from pynamodb.expressions.condition import Condition

from wacast.adapters.dynamo.cursors import cursor_id, encode_cursor
from wacast.adapters.dynamo.table import TableModel, is_condition_failure, unavailable_on_failure
from wacast.domain.errors import Conflict, NotFound, Unavailable
from wacast.domain.templates import BUILTIN_TEMPLATES, Template

PREFIX = "TEMPLATE#"


class TemplateModel(TableModel):
    id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    name = UnicodeAttribute()
    body = UnicodeAttribute()
    variables = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


def template_key(account_id: str, template_id: str) -> tuple[str, str]:
    return f"ACCT#{account_id}", PREFIX + template_id


def _model(template: Template) -> TemplateModel:
    assert template.account_id is not None, "built-in templates are not stored"
    data = template.model_dump(exclude={"builtin"})
    return TemplateModel(*template_key(template.account_id, template.id), **data)


def _template(model: TemplateModel) -> Template:
    return Template(
        id=model.id,
        account_id=model.account_id,
        name=model.name,
        body=model.body,
        variables=[str(v) for v in model.variables or []],
        created_at=model.created_at,
        updated_at=model.updated_at,
    )


class DynamoTemplateRepository:
    """An account's templates in DynamoDB, plus the built-in ones (implements TemplateStore)."""

    @unavailable_on_failure("read the template")
    def get(self, account_id: str, template_id: str) -> Template | None:
        if template_id in BUILTIN_TEMPLATES:
            return BUILTIN_TEMPLATES[template_id]
        if len(template_id) > 64:
            return None
        try:
            return _template(TemplateModel.get(*template_key(account_id, template_id), consistent_read=True))
        except TemplateModel.DoesNotExist:
            return None

    @unavailable_on_failure("list the templates")
    def page(self, account_id: str, *, cursor: str | None = None, limit: int = 50) -> tuple[list[Template], str | None]:
        pk, _ = template_key(account_id, "")
        after = cursor_id(cursor, "templates")
        start = {"pk": {"S": pk}, "sk": {"S": PREFIX + after}} if after else None
        found = TemplateModel.query(pk, TemplateModel.sk.startswith(PREFIX), limit=limit, last_evaluated_key=start)
        templates = [_template(m) for m in found]
        next_key = found.last_evaluated_key
        return templates, encode_cursor("templates", next_key["sk"]["S"].removeprefix(PREFIX)) if next_key else None

    @unavailable_on_failure("save the template")
    def create(self, template: Template) -> None:
        self._put(template, TemplateModel.pk.does_not_exist(), Conflict("a template with this id exists"))

    @unavailable_on_failure("save the template")
    def replace(self, template: Template) -> None:
        self._put(template, TemplateModel.pk.exists(), NotFound("no such template", details={"id": template.id}))

    @unavailable_on_failure("delete the template")
    def delete(self, account_id: str, template_id: str) -> bool:
        try:
            TemplateModel(*template_key(account_id, template_id)).delete(condition=TemplateModel.pk.exists())
        except DeleteError as exc:
            if is_condition_failure(exc):
                return False
            raise Unavailable("could not delete the template") from exc
        return True

    @staticmethod
    def _put(template: Template, condition: Condition, on_condition: Exception) -> None:
        try:
            _model(template).save(condition=condition)
        except PutError as exc:
            if is_condition_failure(exc):
                raise on_condition from exc
            raise Unavailable("could not save the template") from exc
