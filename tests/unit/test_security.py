from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fakes import T0
from wacast.domain.accounts import Principal, Role
from wacast.domain.errors import Unauthorized, ValidationFailed
from wacast.domain.optout import is_stop_keyword
from wacast.domain.phones import normalise_phone
from wacast.security import TokenService, hash_password, verify_password

SECRET = "s" * 40
ALICE = Principal(account_id="a1", user_id="u1", role=Role.OWNER, email="a@x.io")


def test_passwords_are_hashed_with_argon2_and_verified() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2") and "correct" not in hashed
    assert verify_password(hashed, "correct horse")
    assert not verify_password(hashed, "wrong horse")
    assert not verify_password(None, "anything")


def test_tokens_round_trip_and_expire() -> None:
    tokens = TokenService(SECRET, timedelta(minutes=5))
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    token, expires = tokens.issue(ALICE, now)
    assert tokens.verify(token) == ALICE and expires == now + timedelta(minutes=5)
    old, _ = tokens.issue(ALICE, now - timedelta(minutes=10))
    with pytest.raises(Unauthorized, match="expired"):
        tokens.verify(old)


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token, _ = TokenService("x" * 40, timedelta(minutes=5)).issue(ALICE, T0.replace(year=2100))
    with pytest.raises(Unauthorized):
        TokenService(SECRET, timedelta(minutes=5)).verify(token)


def test_a_short_secret_is_refused_at_start() -> None:
    with pytest.raises(ValueError):
        TokenService("short", timedelta(minutes=5))


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("+91 98765 43210", None, "+919876543210"),
        ("098765 43210", "IN", "+919876543210"),
        ("0044 20 7946 0958", None, "+442079460958"),
    ],
)
def test_phones_are_normalised_to_e164(raw: str, country: str | None, e164: str) -> None:
    assert normalise_phone(raw, country) == e164


def test_a_bad_phone_names_its_field() -> None:
    with pytest.raises(ValidationFailed) as err:
        normalise_phone("12", "IN", field="phone")
    assert err.value.field == "phone"


@pytest.mark.parametrize("text", ["STOP", " stop! ", "Unsubscribe", "ARRÊT", "बंद", "cancelar"])
def test_stop_keywords_in_several_languages(text: str) -> None:
    assert is_stop_keyword(text)


@pytest.mark.parametrize("text", ["please don't stop", "stopwatch", "", "hello"])
def test_ordinary_messages_are_not_stop_keywords(text: str) -> None:
    assert not is_stop_keyword(text)
