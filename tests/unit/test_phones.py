"""Phone numbers as people type them become E.164, read with the account's default country."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wacast.domain.errors import ValidationFailed
from wacast.domain.phones import check_region, normalise_phone


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("98765 43210", "IN", "+919876543210"),
        ("(415) 555-0100", "US", "+14155550100"),
        ("415.555.0100", "us", "+14155550100"),  # the country code in any case
        ("07911 123456", "GB", "+447911123456"),
        ("+1 415 555 0100", "IN", "+14155550100"),  # a '+' number ignores the default country
        ("00 1 415 555 0100", "IN", "+14155550100"),  # so does an international 00 prefix
        ("  +55 11 91234-5678 ", None, "+5511912345678"),
        ("+٩١٩٨٧٦٥٤٣٢١٠", None, "+919876543210"),  # Arabic-Indic digits
    ],
)
def test_what_people_type_becomes_e164(raw: str, country: str | None, e164: str) -> None:
    assert normalise_phone(raw, country) == e164


@pytest.mark.parametrize(
    ("raw", "country"),
    [("", "IN"), ("   ", "IN"), ("not a number", "IN"), ("98765", "IN"), ("9876543210", None), ("+999 1234", "IN")],
)
def test_what_is_not_a_valid_number_is_refused_naming_the_field(raw: str, country: str | None) -> None:
    with pytest.raises(ValidationFailed) as caught:
        normalise_phone(raw, country, field="Mobile")
    assert caught.value.field == "Mobile" and caught.value.details == {"field": "Mobile"}


def test_a_national_number_means_different_numbers_in_different_countries() -> None:
    assert normalise_phone("020 7946 0958", "GB") == "+442079460958"
    assert normalise_phone("020 7946 0958", "IN") == "+912079460958"


@pytest.mark.parametrize(("code", "region"), [("in", "IN"), (" US ", "US"), ("GB", "GB")])
def test_a_default_country_is_an_iso_code_phonenumbers_knows(code: str, region: str) -> None:
    assert check_region(code) == region


@pytest.mark.parametrize("code", ["XX", "", "IND", "1"])
def test_an_unknown_country_is_refused(code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_region(code)
    assert caught.value.field == "default_country"


@pytest.mark.parametrize(
    "raw",
    [
        "98765abcde",
        "1-800-FLOWERS",
        "+91 98765 4321O",
        "98765 43210 ext 12",
        "+91-98765-43210#",
        "9876543210*",
        "++91 98765 43210",
    ],
)
def test_letters_and_symbols_are_refused_never_read_as_keypad_digits(raw: str) -> None:
    with pytest.raises(ValidationFailed, match="not a phone number") as caught:
        normalise_phone(raw, "IN", field="phone")
    assert caught.value.field == "phone"


def test_a_phone_sent_as_a_json_number_is_read_as_its_digits() -> None:
    assert normalise_phone(919876543210, "IN") == "+919876543210"
    assert normalise_phone(9876543210, "IN") == "+919876543210"


@given(st.text(min_size=1, max_size=24).filter(lambda t: any(c.isalpha() for c in t)))
def test_no_input_with_a_letter_is_ever_accepted(raw: str) -> None:
    with pytest.raises(ValidationFailed):
        normalise_phone(raw, "IN")


@given(st.from_regex(r"(\+|00)?[0-9 .()\-]{4,20}", fullmatch=True), st.sampled_from(["IN", "US", "GB", "BR", None]))
def test_every_accepted_input_round_trips_to_the_same_e164(raw: str, country: str | None) -> None:
    try:
        e164 = normalise_phone(raw, country)
    except ValidationFailed:
        return
    assert e164.startswith("+") and e164[1:].isdigit()
    assert normalise_phone(e164, country) == e164 == normalise_phone(e164, None)
