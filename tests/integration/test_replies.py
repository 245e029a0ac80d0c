"""Replies against moto: what a campaign's recipients answer is stored, linked to the message it answers,
counted once in the campaign's funnel (from the table's stream), and shown in conversations, which can
be answered with a direct send."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.integration.api_helpers import error_of
from tests.integration.campaign_world import CampaignWorld
from tests.integration.services import Services
from wacast.domain.campaigns import CampaignStatus
from wacast.domain.events import IncomingEvent


@pytest.fixture
def world(services: Services) -> Iterator[CampaignWorld]:
    w = CampaignWorld(services)
    yield w
    w.close()


def incoming(world: CampaignWorld, phone: str, text: str, at: datetime) -> IncomingEvent:
    return IncomingEvent(
        account_id=world.principal.account_id, sender_id=world.sender.id, sender_phone=phone, text=text, at=at
    )


def test_replies_reach_the_funnel_and_the_conversations(world: CampaignWorld, client: TestClient) -> None:
    # given a campaign sent to three contacts
    world.contacts(3, "spring")
    campaign = world.campaign("spring", body="Hi {{name}}, 10% off today")
    world.services.campaigns.start(world.principal, campaign.id)
    world.run_until(lambda: world.reload(campaign).status is CampaignStatus.COMPLETED)
    sent = {m.phone: m for m in world.messages(campaign)}
    now = datetime.now(UTC)

    # when two of them answer (one twice, the same event delivered twice; one with a stop keyword),
    # and a stranger writes
    yes = incoming(world, "+919800000000", "Yes please", now)
    world.services.events.handle(yes)
    world.services.events.handle(yes)
    world.services.events.handle(incoming(world, "+919800000000", "When does it end?", now + timedelta(milliseconds=1)))
    world.services.events.handle(incoming(world, "+919800000001", "STOP", now + timedelta(milliseconds=2)))
    world.services.events.handle(incoming(world, "+919811111111", "who is this?", now + timedelta(milliseconds=3)))

    # then the campaign counts two messages replied (each once), in its funnel and rates
    headers = {"Authorization": f"Bearer {world.services.auth.login('owner@example.com', 'a-long-password').token}"}
    world.pump_counters()
    stats = client.get(f"/api/campaigns/{campaign.id}/stats", headers=headers).json()
    assert stats["replied"] == 2
    assert stats["funnel"] == {
        "total": 3,
        "sent": 3,
        "delivered": stats["funnel"]["delivered"],
        "read": 0,
        "replied": 2,
    }
    assert stats["rates"]["reply"] == round(2 / 3, 4)

    # and the conversations list the writers, the latest first, the stranger too
    listing = client.get("/api/conversations", headers=headers).json()
    assert [c["phone"] for c in listing["items"]] == ["+919811111111", "+919800000001", "+919800000000"]
    first = listing["items"][2]
    assert first["replies"] == 2 and first["last_text"] == "When does it end?" and first["contact_id"]
    assert listing["items"][0]["contact_id"] is None
    page = client.get("/api/conversations?limit=1", headers=headers).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = client.get(f"/api/conversations?limit=5&cursor={page['next_cursor']}", headers=headers).json()
    assert [c["phone"] for c in rest["items"]] == ["+919800000001", "+919800000000"]

    # and one conversation shows both ways, newest first, each reply linked to what it answers
    thread = client.get("/api/conversations/+919800000000/messages", headers=headers).json()
    assert [(e["direction"], e["text"]) for e in thread["items"]] == [
        ("in", "When does it end?"),
        ("in", "Yes please"),
        ("out", sent["+919800000000"].body),
    ]
    assert {e["in_reply_to"] for e in thread["items"][:2]} == {sent["+919800000000"].id}
    assert {e["campaign_id"] for e in thread["items"]} == {campaign.id}

    # when the user answers from the conversation: a direct send from the sender it was written to
    answer = client.post("/api/conversations/+919800000000/messages", json={"message": "Sunday!"}, headers=headers)
    assert answer.status_code in (200, 202), answer.text
    assert answer.json()["phone"] == "+919800000000" and answer.json()["senderId"] == world.sender.id
    world.pump_outbox()
    thread = client.get("/api/conversations/+919800000000/messages?limit=2", headers=headers).json()
    assert [(e["direction"], e["text"]) for e in thread["items"]] == [("out", "Sunday!"), ("in", "When does it end?")]
    older = client.get(
        f"/api/conversations/+919800000000/messages?limit=5&cursor={thread['next_cursor']}", headers=headers
    ).json()
    assert [e["text"] for e in older["items"]] == ["Yes please", sent["+919800000000"].body]
    assert client.get("/api/conversations", headers=headers).json()["items"][0]["phone"] == "+919800000000"

    # then the one who wrote STOP is opted out (and the reply still stored), and cannot be answered
    stop = client.get("/api/conversations/+919800000001/messages", headers=headers).json()
    assert stop["items"][0]["text"] == "STOP"
    refused = client.post("/api/conversations/+919800000001/messages", json={"message": "bye"}, headers=headers)
    assert refused.status_code == 409 or refused.status_code == 422, refused.text
    error_of(refused)
    missing = client.get("/api/conversations/+919899999999/messages", headers=headers)
    assert missing.status_code == 404 and error_of(missing)["code"]
