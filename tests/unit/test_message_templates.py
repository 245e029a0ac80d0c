"""Message templates: placeholders with defaults, errors that say where, and rendering for a contact."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wacast.domain.contacts import Contact
from wacast.domain.errors import ValidationFailed
from wacast.domain.templates import (
    BUILTIN_TEMPLATES,
    MissingVariable,
    Placeholder,
    contact_values,
    parse,
    render,
    variables,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_placeholders_with_and_without_defaults() -> None:
    assert parse("Hi {{ name | there }}, order {{order_id}}") == [
        Placeholder("name", "there", 3, 21),
        Placeholder("order_id", None, 29, 41),
    ]
    assert variables("{{a}} {{b|x}} {{a}}") == ["a", "b"]


def test_rendering_uses_values_then_defaults() -> None:
    body = "Hi {{name|there}}, your order {{order_id}} ships {{when|soon}}."
    assert render(body, {"name": "Asha", "order_id": "42"}) == "Hi Asha, your order 42 ships soon."
    assert render(body, {"name": "  ", "order_id": "42"}) == "Hi there, your order 42 ships soon."  # blank = none
    assert render("{{x|}}!", {}) == "!"  # an empty default is allowed


def test_a_value_is_never_read_as_a_template() -> None:
    assert render("{{a}} {{b}}", {"a": "{{b}}", "b": "}}"}) == "{{b}} }}"


def test_every_missing_variable_is_named() -> None:
    with pytest.raises(MissingVariable) as caught:
        render("{{order_id}} for {{name|you}} on {{date}} {{order_id}}", {})
    assert caught.value.name == "order_id" and caught.value.details["missing"] == ["order_id", "date"]
    assert isinstance(caught.value, ValidationFailed) and caught.value.status == 422


@pytest.mark.parametrize(
    ("body", "line", "column", "says"),
    [
        ("Hi {{name", 1, 4, "never closed"),
        ("Hi name}}", 1, 8, "closes nothing"),
        ("Hi {{}}", 1, 4, "needs a variable name"),
        ("Hello\nthere {{first name}}", 2, 9, "not a variable name"),
        ("line one\n\n  {{ 9lives }}", 3, 6, "not a variable name"),
        ("{{a {{b}} }}", 1, 5, "cannot contain"),
        ("{{{name}}}", 1, 3, "not a variable name"),
    ],
)
def test_bad_syntax_is_refused_naming_line_and_column(body: str, line: int, column: int, says: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(body)
    error = caught.value
    assert error.field == "body" and says in error.message
    assert error.details["position"]["line"] == line and error.details["position"]["column"] == column
    assert error.message.startswith(f"line {line}, column {column}:")


def test_single_braces_and_unicode_names_are_fine() -> None:
    assert render("{json} {{शहर|?}} {{_x}}", {"शहर": "पुणे", "_x": "1"}) == "{json} पुणे 1"


def contact(full_name: str, **attributes: str) -> Contact:
    return Contact(
        id="c_" + "0" * 24,
        account_id="a1",
        phone="+919876543210",
        name=full_name,
        attributes=attributes,
        created_at=NOW,
        updated_at=NOW,
    )


def test_contact_values_offer_name_first_name_phone_and_attributes() -> None:
    values = contact_values(contact("Asha Rao", city="Pune", name="ignored"))
    assert values == {"name": "Asha Rao", "first_name": "Asha", "phone": "+919876543210", "city": "Pune"}
    nameless = contact_values(contact("", first_name="From CSV"))
    assert nameless["first_name"] == "From CSV" and "name" not in nameless
    assert render("Hi {{first_name|there}}", contact_values(contact(""))) == "Hi there"


def test_builtin_templates_parse_and_render_for_a_contact_with_only_a_phone() -> None:
    assert len(BUILTIN_TEMPLATES) >= 3
    for template in BUILTIN_TEMPLATES.values():
        assert template.builtin and template.account_id is None and template.variables == variables(template.body)
    welcome = BUILTIN_TEMPLATES["builtin_welcome"]
    assert render(welcome.body, contact_values(contact(""))) == "Hi there, thanks for joining us!"
