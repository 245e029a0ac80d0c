"""Accounts, API keys, sign-in limits, opt-outs and templates, as services over in-memory fakes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fakes import (
    FakeClock,
    InMemoryAccounts,
    InMemoryCampaignStates,
    InMemoryMessages,
    InMemoryOptOuts,
    InMemorySenders,
)
from tests.fakes_workspace import InMemoryApiKeys, InMemoryContacts, InMemoryLoginAttempts, InMemoryTemplates
from wacast.domain.accounts import Principal, Role
from wacast.domain.errors import Forbidden, NotFound, RateLimited, Unauthorized, ValidationFailed
from wacast.domain.events import IncomingEvent
from wacast.security import TokenService
from wacast.services.accounts import AccountService, SettingsChanges
from wacast.services.apikeys import ApiKeyService
from wacast.services.auth import AuthService
from wacast.services.contacts import ContactService
from wacast.services.events import EventsService
from wacast.services.optouts import OptOutService
from wacast.services.registration import Registration
from wacast.services.templates import TemplateService

PASSWORD = "a-long-password"


class World:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.accounts = InMemoryAccounts()
        self.keys = ApiKeyService(InMemoryApiKeys(), self.clock)
        self.attempts = InMemoryLoginAttempts(max_attempts=5, window_seconds=900)
        tokens = TokenService("s" * 40, timedelta(hours=1))
        registration = Registration(self.accounts, InMemorySenders(), self.clock, "simulated")
        self.auth = AuthService(
            self.accounts, tokens, self.keys, self.attempts, self.clock, registration, registration_open=True
        )
        self.contacts = InMemoryContacts()
        self.optouts = InMemoryOptOuts(self.contacts)
        self.opt_out_service = OptOutService(self.optouts, self.accounts, self.clock)
        self.contact_service = ContactService(self.contacts, self.optouts, self.accounts, self.clock)
        self.settings = AccountService(self.accounts)
        self.templates = TemplateService(InMemoryTemplates(), self.contacts, self.clock)
        session = self.auth.register("owner@example.com", PASSWORD, "Shop")
        self.owner = Principal(account_id=session.account.id, user_id=session.user.id, role=Role.OWNER)

    def member(self) -> Principal:
        user = self.auth.add_user(self.owner, "member@example.com", PASSWORD, Role.MEMBER)
        return Principal(account_id=user.account_id, user_id=user.id, role=user.role)


def test_five_failed_sign_ins_lock_the_email_until_the_window_ends() -> None:
    world = World()
    for _ in range(5):
        with pytest.raises(Unauthorized):
            world.auth.login("owner@example.com", "wrong-password")
    with pytest.raises(RateLimited) as caught:
        world.auth.login("OWNER@example.com", PASSWORD)  # even the right password, in any case
    assert caught.value.status == 429 and 0 < caught.value.retry_after_seconds <= 900
    assert "try again in" in caught.value.message
    world.clock.advance(caught.value.retry_after_seconds)
    assert world.auth.login("owner@example.com", PASSWORD).user.email == "owner@example.com"


def test_a_successful_sign_in_clears_earlier_failures() -> None:
    world = World()
    for _ in range(4):
        with pytest.raises(Unauthorized):
            world.auth.login("owner@example.com", "wrong-password")
    world.auth.login("owner@example.com", PASSWORD)
    for _ in range(4):
        with pytest.raises(Unauthorized):
            world.auth.login("owner@example.com", "wrong-password")
    world.auth.login("owner@example.com", PASSWORD)


def test_an_api_key_acts_for_its_account_with_its_role_until_revoked() -> None:
    world = World()
    key, secret = world.keys.create(world.owner, "zapier", Role.MEMBER)
    assert secret.startswith("wck_") and key.key_hash != secret and secret not in key.model_dump_json()
    principal = world.auth.authenticate(secret)
    assert (principal.account_id, principal.role, principal.api_key_id) == (world.owner.account_id, Role.MEMBER, key.id)
    assert [k.id for k in world.keys.list(world.owner)] == [key.id]
    world.keys.revoke(world.owner, key.id)
    with pytest.raises(Unauthorized, match="revoked"):
        world.auth.authenticate(secret)
    with pytest.raises(NotFound):
        world.keys.revoke(world.owner, key.id)


def test_members_and_api_keys_cannot_manage_keys_and_a_key_never_outranks_its_maker() -> None:
    world = World()
    member = world.member()
    with pytest.raises(Forbidden):
        world.keys.create(member, "mine", Role.MEMBER)
    with pytest.raises(Forbidden):
        world.keys.list(member)
    _, secret = world.keys.create(world.owner, "admin key", Role.ADMIN)
    with pytest.raises(Forbidden, match="API key"):
        world.keys.create(world.auth.authenticate(secret), "minted by a key", Role.MEMBER)
    with pytest.raises(Forbidden):
        world.keys.create(world.owner, "owner key", Role.OWNER)


def test_only_owners_and_admins_add_users_and_never_a_second_owner() -> None:
    world = World()
    member = world.member()
    with pytest.raises(Forbidden):
        world.auth.add_user(member, "x@example.com", PASSWORD, Role.MEMBER)
    with pytest.raises(Forbidden):
        world.auth.add_user(world.owner, "y@example.com", PASSWORD, Role.OWNER)
    assert world.auth.login("member@example.com", PASSWORD).user.role is Role.MEMBER


def test_settings_change_phone_reading_and_stop_keywords() -> None:
    world = World()
    changes = SettingsChanges.model_validate(
        {"default_country": "us", "stop_keywords": [" Basta ", "basta", "NO MORE"]}
    )
    settings = world.settings.update_settings(world.owner, changes)
    assert settings.default_country == "US" and settings.stop_keywords == ["Basta", "NO MORE"]
    contact = world.contact_service.create(world.owner, "(415) 555-0100", "", {}, [])
    assert contact.phone == "+14155550100"
    reset = world.settings.update_settings(world.owner, SettingsChanges.model_validate({"stop_keywords": None}))
    assert reset.stop_keywords is None and reset.default_country == "US"  # only what was sent changed
    with pytest.raises(ValidationFailed) as caught:
        world.settings.update_settings(world.owner, SettingsChanges.model_validate({"default_country": "XX"}))
    assert caught.value.field == "default_country"
    with pytest.raises(Forbidden):
        world.settings.update_settings(world.member(), SettingsChanges.model_validate({"default_country": "IN"}))


def test_a_stop_keyword_opts_the_writer_out_and_marks_their_contact() -> None:
    world = World()
    account_id = world.owner.account_id
    world.settings.update_settings(world.owner, SettingsChanges.model_validate({"stop_keywords": ["basta"]}))
    contact = world.contact_service.create(world.owner, "9876543210", "Asha", {}, [])
    events = EventsService(InMemoryMessages(), world.opt_out_service, world.accounts, InMemoryCampaignStates())

    def incoming(text: str) -> IncomingEvent:
        return IncomingEvent(
            account_id=account_id, sender_id="s1", sender_phone=contact.phone, text=text, at=world.clock.now()
        )

    assert not events.on_incoming(incoming("STOP"))  # the account replaced the defaults
    assert events.on_incoming(incoming("Basta!"))
    stored = world.contacts.get(account_id, contact.id)
    assert stored is not None and stored.opted_out and stored.opted_out_source == "keyword"
    assert world.optouts.is_opted_out(account_id, contact.phone)


def test_opt_out_of_a_stranger_then_adding_them_starts_opted_out_and_only_managers_opt_in() -> None:
    world = World()
    result = world.opt_out_service.opt_out(world.owner, "98765 43210", "website")
    assert result.contact_id is None and result.phone == "+919876543210"
    contact = world.contact_service.create(world.owner, "+919876543210", "Asha", {}, [])
    assert contact.opted_out and contact.opted_out_source == "website"
    with pytest.raises(Forbidden):
        world.opt_out_service.opt_in(world.member(), "+919876543210")
    assert world.opt_out_service.opt_in(world.owner, "+919876543210").contact_id == contact.id
    stored = world.contacts.get(world.owner.account_id, contact.id)
    assert stored is not None and not stored.opted_out


def test_templates_preview_for_a_contact_and_builtins_are_read_only() -> None:
    world = World()
    contact = world.contact_service.create(world.owner, "9876543210", "Asha Rao", {"order_id": "A-1"}, [])
    template = world.templates.create(world.owner, "Order", "Hi {{first_name}}, {{order_id}} is {{status|packed}}")
    preview = world.templates.preview(world.owner, template.id, contact_id=contact.id, values={"status": "out"})
    assert preview == "Hi Asha, A-1 is out"
    page, _ = world.templates.page(world.owner)
    assert page[-1].id == template.id and all(t.builtin for t in page[:-1])
    with pytest.raises(Forbidden):
        world.templates.update(world.owner, "builtin_welcome", name="Mine", body=None)
    with pytest.raises(Forbidden):
        world.templates.delete(world.owner, "builtin_welcome")


def test_closed_registration_refuses_sign_up_but_the_operator_can_create_an_owner() -> None:
    # given an installation whose sign-up is closed (the default on AWS)
    world = World()
    world.auth.registration_open = False
    # when a stranger signs up, then the operator's command creates an owner
    with pytest.raises(Forbidden):
        world.auth.register("stranger@example.com", PASSWORD, "Stranger")
    account, owner = world.auth.registration.create_owner("first@example.com", PASSWORD, "First")
    # then only the operator's owner exists, and can sign in
    assert world.accounts.get_user_by_email("stranger@example.com") is None
    session = world.auth.login("first@example.com", PASSWORD)
    assert (session.account.id, session.user.role) == (account.id, Role.OWNER) and owner.email == "first@example.com"
