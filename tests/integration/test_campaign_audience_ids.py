"""A campaign's contact ids live apart from the campaign item (adapters/dynamo/audience_ids.py), so the
item the delivery path reads before every send and rewrites with every counter update stays ~1 KB,
whatever the audience. Against moto: the API's create, read, list, change and delete of such a campaign,
10,000 ids, an item written with its ids inline before this still read (and rewritten chunked when its
audience changes), and a campaign to contact ids dispatched to everyone once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from local.dynamo_units import item_size
from tests.integration.api_helpers import register
from tests.integration.campaign_world import NO_GAP, CampaignWorld, S, counters_match
from tests.integration.services import Services
from wacast.adapters.dynamo.audience_ids import AudienceChunkModel, DynamoAudienceIds, chunk_prefix
from wacast.adapters.dynamo.campaigns import CampaignModel, DynamoCampaignRepository, _to_model, campaign_key
from wacast.domain.campaigns import DELETABLE, EDITABLE, Audience, Campaign, CampaignDraft, CampaignStatus
from wacast.domain.errors import Conflict, Unavailable
from wacast.services.audience import AudienceReader

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SMALL_ITEM = 1_500  # bytes: the campaign item, counters and dispatch state included


def chunks_of(account_id: str, campaign_id: str) -> dict[str, list[str]]:
    """The chunk items of the campaign, by sort key (every version)."""
    found = AudienceChunkModel.query(
        f"ACCT#{account_id}", AudienceChunkModel.sk.startswith(chunk_prefix(campaign_id)), consistent_read=True
    )
    return {c.sk: list(c.contact_ids) for c in found}


def raw_item(account_id: str, campaign_id: str) -> dict[str, Any]:
    pk, sk = campaign_key(account_id, campaign_id)
    item: dict[str, Any] = CampaignModel._get_connection().get_item(pk, sk, consistent_read=True)["Item"]
    return item


def contact_ids(services: Services, account_id: str) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    for _ in range(100):
        page, cursor = services.repos.contacts.page(account_id, cursor=cursor, limit=100)
        ids += [c.id for c in page]
        if cursor is None:
            return ids
    raise AssertionError("too many pages")


def import_contacts(client: TestClient, headers: dict[str, str], count: int) -> None:
    rows = "".join(f"+9198{i:08d},P{i},picked\n" for i in range(count))
    files = {"file": ("c.csv", f"phone,name,tags\n{rows}".encode(), "text/csv")}
    assert client.post("/api/contacts/import", files=files, headers=headers).json()["imported"] == count


def test_a_contact_id_campaign_over_http_from_create_to_delete(client: TestClient, services: Services) -> None:
    headers = register(client)
    import_contacts(client, headers, 250)
    account = client.get("/api/auth/me", headers=headers).json()["account"]["id"]
    ids = contact_ids(services, account)[::-1]  # any order: the order given is kept
    draft = {"name": "Picked", "body": "Hi {{name}}", "audience": {"contact_ids": ids}}

    created = client.post("/api/campaigns", json=draft, headers=headers)
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert campaign["audience"] == {"contact_ids": ids, "tags": None, "import_batch": None}
    assert campaign["audience_size"] == 250
    cid = campaign["id"]
    chunks = chunks_of(account, cid)
    assert [len(c) for c in chunks.values()] == [100, 100, 50] and sum(chunks.values(), []) == ids
    item = raw_item(account, cid)
    assert "audience_json" not in item and item_size(item) < SMALL_ITEM

    assert client.get(f"/api/campaigns/{cid}", headers=headers).json()["audience"]["contact_ids"] == ids
    listed = client.get("/api/campaigns", headers=headers).json()["items"]
    assert [(c["id"], c["audience"]["contact_ids"]) for c in listed] == [(cid, ids)]

    renamed = client.put(f"/api/campaigns/{cid}", json={**draft, "name": "Renamed"}, headers=headers)
    assert renamed.status_code == 200 and renamed.json()["audience"]["contact_ids"] == ids
    assert chunks_of(account, cid) == chunks  # the same audience is not written again

    fewer = ids[:120]
    changed = client.put(f"/api/campaigns/{cid}", json={**draft, "audience": {"contact_ids": fewer}}, headers=headers)
    assert changed.status_code == 200 and changed.json()["audience_size"] == 120
    assert client.get(f"/api/campaigns/{cid}", headers=headers).json()["audience"]["contact_ids"] == fewer
    after = chunks_of(account, cid)
    assert not set(after) & set(chunks) and sum(after.values(), []) == fewer  # the old version is gone

    by_tag = client.put(f"/api/campaigns/{cid}", json={**draft, "audience": {"tags": ["picked"]}}, headers=headers)
    assert by_tag.status_code == 200 and by_tag.json()["audience"]["tags"] == ["picked"]
    assert chunks_of(account, cid) == {} and "aud_ids" not in raw_item(account, cid)

    again = client.put(f"/api/campaigns/{cid}", json=draft, headers=headers)
    assert again.status_code == 200 and len(chunks_of(account, cid)) == 3
    assert client.delete(f"/api/campaigns/{cid}", headers=headers).status_code == 204
    assert chunks_of(account, cid) == {}


def big_campaign(count: int, campaign_id: str = "cmp_big") -> Campaign:
    ids = [f"c_{i:024x}" for i in range(count)]
    return Campaign(
        id=campaign_id,
        account_id="acct_big",
        name="Ten thousand",
        sender_id="s1",
        body="Hi",
        audience=Audience(contact_ids=ids),
        audience_size=count,
        created_at=NOW,
        updated_at=NOW,
    )


def test_ten_thousand_ids_leave_the_campaign_item_small_and_read_back_whole(services: Services) -> None:
    repo, store = DynamoCampaignRepository(), DynamoAudienceIds()
    campaign = big_campaign(10_000)
    ids = campaign.audience.contact_ids
    assert ids is not None
    repo.create(campaign)

    item = raw_item(campaign.account_id, campaign.id)
    assert item_size(item) < SMALL_ITEM, item_size(item)  # it was ~284 KB with the ids inline
    assert services.repos.campaign_states.status_of(campaign.account_id, campaign.id) is CampaignStatus.DRAFT

    read = repo.get(campaign.account_id, campaign.id)
    assert read is not None and read.audience.contact_ids is None and read.audience.stored is not None
    assert read.audience.stored.count == 10_000 and read.audience.stored.chunks == 100
    reader = AudienceReader(services.repos.contacts, store)
    assert reader.with_contact_ids(campaign.account_id, read.audience) == campaign.audience
    assert store.contact_ids(campaign.account_id, read.audience.stored, 9_950, 100) == ids[9_950:]
    assert store.contact_ids(campaign.account_id, read.audience.stored, 150, 100) == ids[150:250]

    with pytest.raises(ValueError, match="by reference"):  # never an empty audience written for a copy
        repo.create(read.model_copy(update={"id": "cmp_copy"}))
    assert repo.get(campaign.account_id, "cmp_copy") is None
    with pytest.raises(Conflict):  # the same id again: refused, and its chunks do not stay
        repo.create(campaign)
    assert len(chunks_of(campaign.account_id, campaign.id)) == 100

    repo.delete(campaign.account_id, campaign.id, DELETABLE)
    assert repo.get(campaign.account_id, campaign.id) is None and chunks_of(campaign.account_id, campaign.id) == {}


def test_a_missing_chunk_is_an_error_never_a_shorter_audience(services: Services) -> None:
    repo, store = DynamoCampaignRepository(), DynamoAudienceIds()
    campaign = big_campaign(250, "cmp_hole")
    repo.create(campaign)
    read = repo.get(campaign.account_id, campaign.id)
    assert read is not None and read.audience.stored is not None
    middle = sorted(chunks_of(campaign.account_id, campaign.id))[1]
    AudienceChunkModel(f"ACCT#{campaign.account_id}", middle).delete()
    for offset, limit in ((0, None), (150, 10), (90, 20)):
        with pytest.raises(Unavailable):
            store.contact_ids(campaign.account_id, read.audience.stored, offset, limit)
    assert store.contact_ids(campaign.account_id, read.audience.stored, 200, 100) == [
        f"c_{i:024x}" for i in range(200, 250)
    ]


def test_a_change_made_from_a_stale_read_of_the_audience_is_a_conflict(services: Services) -> None:
    repo = DynamoCampaignRepository()
    campaign = big_campaign(150, "cmp_race")
    repo.create(campaign)
    stale = repo.get(campaign.account_id, campaign.id)
    assert stale is not None and stale.audience.stored is not None
    other = Audience(contact_ids=[f"c_{i:024x}" for i in range(7)])
    repo.save_definition(stale.model_copy(update={"audience": other}), EDITABLE)
    with pytest.raises(Conflict, match="changed meanwhile"):  # it would overwrite the size of the new audience
        repo.save_definition(stale.model_copy(update={"name": "Renamed"}), EDITABLE)
    now = repo.get(campaign.account_id, campaign.id)
    assert now is not None and now.name == campaign.name and now.audience.stored is not None
    assert (
        now.audience.stored.count == 7
        and sum(chunks_of(campaign.account_id, campaign.id).values(), []) == other.contact_ids
    )


@pytest.fixture
def world(services: Services) -> Iterator[CampaignWorld]:
    w = CampaignWorld(services)
    yield w
    w.close()


def test_an_item_with_its_ids_inline_is_still_read_and_a_change_writes_them_apart(world: CampaignWorld) -> None:
    campaigns, ids = world.services.campaigns, world.contacts(5, "old")
    draft = CampaignDraft(name="Old", body="Hi", audience=Audience(contact_ids=ids[:3]), pacing=NO_GAP)
    created = campaigns.create(world.principal, draft)
    _to_model(created).save()  # the same campaign, as its item was written before the ids moved apart
    assert "audience_json" in raw_item(created.account_id, created.id)

    read = campaigns.get(world.principal, created.id)
    assert read.audience.contact_ids == ids[:3] and read.audience.stored is None
    assert campaigns.with_contact_ids(read) is read  # nothing more to read

    campaigns.update(world.principal, created.id, draft.model_copy(update={"name": "Renamed"}))
    item = raw_item(created.account_id, created.id)
    assert "audience_json" not in item and item["aud_ids"]["S"]  # written the new way from now on
    again = campaigns.with_contact_ids(campaigns.get(world.principal, created.id))
    assert again.name == "Renamed" and again.audience.contact_ids == ids[:3]


@pytest.mark.parametrize("inline", [False, True], ids=["chunked", "inline (an item written before)"])
def test_a_campaign_to_contact_ids_messages_each_of_them_once(world: CampaignWorld, inline: bool) -> None:
    world.import_contacts(260, "all")
    everyone = contact_ids(world.services, world.principal.account_id)
    picked = everyone[5:255][::-1]  # 250: three chunks, the last one short; ten contacts left out
    draft = CampaignDraft(name="Picked", body="Hi {{name}}", audience=Audience(contact_ids=picked), pacing=NO_GAP)
    campaign = world.services.campaigns.create(world.principal, draft)
    if inline:
        _to_model(campaign).save()
    assert campaign.audience_size == 250

    world.services.campaigns.start(world.principal, campaign.id)
    world.run_until(lambda: world.reload(campaign).status is CampaignStatus.COMPLETED, timeout=180)

    messages = world.messages(campaign)
    assert sorted(m.contact_id or "" for m in messages) == sorted(picked)
    sent = Counter(world.sent_phones())
    assert len(sent) == 250 and set(sent.values()) == {1}
    assert Counter(m.status for m in messages)[S.FAILED] == 0
    counters_match(world.reload(campaign), messages)
