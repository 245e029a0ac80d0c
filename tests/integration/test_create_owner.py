"""`make owner`: on a stack whose sign-up is closed, the operator's command creates the first owner, who
can then sign in; sign-up itself stays refused."""

from __future__ import annotations

import pytest

import deploy.create_owner as create_owner
from local.inprocess import Roots
from wacast.domain.errors import Forbidden


def test_the_operator_creates_the_first_owner_who_signs_in(roots: Roots, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a stack with sign-up closed (the default on AWS)
    roots.api.auth.registration_open = False
    with pytest.raises(Forbidden):
        roots.api.auth.register("someone@example.com", "a-long-password", "Someone")
    monkeypatch.setattr(create_owner, "table_of", lambda stack, region: roots.api.settings.table_name)
    monkeypatch.setenv("WACAST_OWNER_PASSWORD", "a-long-password")
    # when the operator runs the command
    create_owner.main(["--stack-name", "wacast-dev", "--email", "Owner@Example.com", "--account-name", "Shop"])
    # then the owner signs in, with no simulated sender (a real stack links real numbers)
    session = roots.api.auth.login("owner@example.com", "a-long-password")
    assert session.account.name == "Shop" and session.account.default_sender_id is None
    # and a second run for the same email is refused, naming the problem
    with pytest.raises(SystemExit, match="could not create the owner"):
        create_owner.main(["--stack-name", "wacast-dev", "--email", "owner@example.com"])


def test_a_short_password_is_refused_before_anything_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WACAST_OWNER_PASSWORD", "short")
    with pytest.raises(SystemExit, match="8 characters"):
        create_owner.ask_password()
    monkeypatch.delenv("WACAST_OWNER_PASSWORD")
    answers = iter(["a-long-password", "another-password"])
    with pytest.raises(SystemExit, match="differ"):
        create_owner.ask_password(lambda _: next(answers))
