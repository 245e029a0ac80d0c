"""Values stored as JSON in DynamoDB items (PydanticAttribute): an item keeps its attribute names, reads
back as it was written, reads the items the previous hand-written mappers wrote, and is no larger."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter

from local.dynamo_units import item_size
from wacast.adapters.dynamo.accounts import AccountModel, _account, _account_model
from wacast.adapters.dynamo.audience_ids import CHUNK_SIZE, AudienceChunkModel, chunk_key
from wacast.adapters.dynamo.campaigns import CampaignModel, _to_domain, _to_model
from wacast.adapters.dynamo.contact_items import ContactModel
from wacast.adapters.dynamo.contact_items import to_domain as contact_of
from wacast.adapters.dynamo.contact_items import to_model as contact_item
from wacast.adapters.dynamo.senders import SenderModel, _model, _sender
from wacast.domain.accounts import Account, AccountSettings
from wacast.domain.campaigns import Audience, Campaign, DispatchState, StoredContactIds
from wacast.domain.contacts import Contact
from wacast.domain.pacing import PacerState, PacingPolicy, PacingPreset
from wacast.domain.schedules import CampaignSchedule
from wacast.domain.senders import DriverSession, Sender, SenderState
from wacast.services.dispatch import PAGE as DISPATCH_PAGE

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

CAMPAIGN = Campaign(
    id="cmp_1",
    account_id="a1",
    name="Spring sale",
    sender_id="s1",
    body="Hi {{name}}",
    audience=Audience(tags=["vip", "new"]),
    pacing=PacingPolicy(preset=PacingPreset.CUSTOM, min_gap_ms=8000, max_gap_ms=12000, daily_cap=500),
    dispatch=DispatchState(seq=4, cursor="c-9", audience_index=1, pacer=PacerState(seed=7, drawn=120, next_at=NOW)),
    schedule=CampaignSchedule(kind="cron", expression="cron(0 9 ? * MON-FRI *)", timezone="Asia/Kolkata", name="n"),
    created_at=NOW,
    updated_at=NOW,
)
SENDER = Sender(
    id="s1",
    account_id="a1",
    phone="+919800000001",
    drivers=["neonize", "webjs"],
    pacing=PacingPolicy(preset=PacingPreset.SAFE),
    state=SenderState.CONNECTED,
    driver_states={"neonize": DriverSession(state=SenderState.CONNECTED, since=NOW), "webjs": DriverSession()},
    created_at=NOW,
)
CONTACT = Contact(
    id="k1",
    account_id="a1",
    phone="+919800000002",
    name="Asha",
    attributes={"city": "Pune", "greeting": "नमस्ते", "amount": "₹500"},
    created_at=NOW,
    updated_at=NOW,
)
ACCOUNT = Account(
    id="a1", name="Shop", settings=AccountSettings(default_country="GB", stop_keywords=["STOP"]), created_at=NOW
)

#: What the mappers before PydanticAttribute wrote, attribute by attribute.
PREVIOUS: dict[str, dict[str, str]] = {
    "campaign": {
        "audience_json": CAMPAIGN.audience.model_dump_json(exclude_none=True),
        "pacing_json": PacingPolicy.model_validate(CAMPAIGN.pacing).model_dump_json(),
        "dispatch_json": CAMPAIGN.dispatch.model_dump_json(),
        "schedule_json": CampaignSchedule.model_validate(CAMPAIGN.schedule).model_dump_json(),
    },
    "sender": {
        "drivers_json": json.dumps(SENDER.drivers),
        "pacing_json": SENDER.pacing.model_dump_json(),
        "driver_states_json": TypeAdapter(dict[str, DriverSession]).dump_json(SENDER.driver_states).decode(),
    },
    "contact": {"attributes_json": json.dumps(CONTACT.attributes, ensure_ascii=False, sort_keys=True)},
    "account": {"settings_json": ACCOUNT.settings.model_dump_json()},
}


def item(model: Any) -> dict[str, Any]:
    return dict(model.serialize())


def with_previous(stored: dict[str, Any], kind: str) -> dict[str, Any]:
    return {**stored, **{name: {"S": text} for name, text in PREVIOUS[kind].items()}}


def test_a_campaign_item_reads_back_as_written_and_as_it_was_written_before() -> None:
    stored = item(_to_model(CAMPAIGN, None))
    assert set(PREVIOUS["campaign"]) <= set(stored)
    assert _to_domain(CampaignModel.from_raw_data(stored)) == CAMPAIGN
    assert _to_domain(CampaignModel.from_raw_data(with_previous(stored, "campaign"))) == CAMPAIGN


def test_a_sender_item_reads_back_as_written_and_as_it_was_written_before() -> None:
    stored = item(_model(SENDER))
    assert set(PREVIOUS["sender"]) <= set(stored)
    assert _sender(SenderModel.from_raw_data(stored)) == SENDER
    assert _sender(SenderModel.from_raw_data(with_previous(stored, "sender"))) == SENDER


def test_a_contact_item_keeps_its_attributes_unicode_and_in_key_order() -> None:
    stored = item(contact_item(CONTACT))
    assert stored["attributes_json"]["S"] == '{"amount":"₹500","city":"Pune","greeting":"नमस्ते"}'
    assert contact_of(ContactModel.from_raw_data(stored)) == CONTACT
    assert contact_of(ContactModel.from_raw_data(with_previous(stored, "contact"))) == CONTACT


def test_an_account_item_reads_back_and_an_item_without_settings_has_the_defaults() -> None:
    stored = item(_account_model(ACCOUNT))
    assert _account(AccountModel.from_raw_data(stored)) == ACCOUNT
    assert _account(AccountModel.from_raw_data(with_previous(stored, "account"))) == ACCOUNT
    bare = {name: value for name, value in stored.items() if name != "settings_json"}
    assert _account(AccountModel.from_raw_data(bare)).settings == AccountSettings()


def test_no_stored_value_is_larger_than_the_previous_mappers_wrote() -> None:
    written = {
        "campaign": item(_to_model(CAMPAIGN, None)),
        "sender": item(_model(SENDER)),
        "contact": item(contact_item(CONTACT)),
        "account": item(_account_model(ACCOUNT)),
    }
    for kind, previous in PREVIOUS.items():
        for name, text in previous.items():
            assert len(written[kind][name]["S"].encode()) <= len(text.encode()), (kind, name)


def test_a_contact_id_audience_is_not_on_the_campaign_item_which_stays_small() -> None:
    ids = [f"c_{i:024x}" for i in range(10_000)]
    campaign = CAMPAIGN.model_copy(update={"audience": Audience(contact_ids=ids), "audience_size": len(ids)})
    where = StoredContactIds(campaign_id=campaign.id, version="0a1b2c3d", count=len(ids), chunk_size=CHUNK_SIZE)
    stored = item(_to_model(campaign, where))
    assert "audience_json" not in stored and not any(c in json.dumps(stored) for c in ids[:3])
    assert item_size(stored) < 1_500  # whatever the audience (the inline form: ~284 KB)
    assert item_size(stored) <= item_size(item(_to_model(CAMPAIGN, None)))  # no larger than with two tags
    inline = item(_to_model(campaign))
    assert item_size(inline) > 250 * 1024
    read = _to_domain(CampaignModel.from_raw_data(stored))
    assert read.audience.contact_ids is None and read.audience.stored == where
    assert read.model_copy(update={"audience": campaign.audience}) == campaign


def test_a_campaign_item_written_with_its_contact_ids_inline_still_reads_them() -> None:
    ids = [f"c_{i:024x}" for i in range(200)]
    campaign = CAMPAIGN.model_copy(update={"audience": Audience(contact_ids=ids)})
    previous = {**item(_to_model(campaign, None))}
    read = _to_domain(CampaignModel.from_raw_data(previous))
    assert read.audience.contact_ids == ids and read.audience.stored is None and read == campaign


def test_a_chunk_of_contact_ids_is_one_read_unit_and_one_dispatcher_page() -> None:
    ids = [f"c_{i:024x}" for i in range(CHUNK_SIZE)]
    where = StoredContactIds(campaign_id="cmp_" + "f" * 20, version="0a1b2c3d", count=len(ids), chunk_size=CHUNK_SIZE)
    chunk = item(AudienceChunkModel(*chunk_key("acct_" + "f" * 20, where, 99), contact_ids=ids))
    assert item_size(chunk) < 4 * 1024 and CHUNK_SIZE == DISPATCH_PAGE
    assert not chunk["sk"]["S"].startswith("CAMPAIGN#")  # not in the campaign listing's begins_with
