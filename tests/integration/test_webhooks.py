"""Webhooks against moto and a receiver on loopback that fails, stalls, then succeeds: every event reaches
the endpoint at least once with a valid signature, retried on the planned backoff; a delivery that keeps
failing is dead after its last try, a 4xx stops at once, an endpoint that keeps failing is disabled (and the
account's other endpoints hear of it), a dead delivery can be replayed; no private address is accepted."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from local.inprocess import Roots, build_roots, provision
from tests.integration.api_helpers import error_of
from tests.integration.campaign_world import CampaignWorld
from tests.integration.services import Services
from tests.integration.webhook_receiver import Receiver, WebhookPump
from wacast.domain.campaigns import CampaignStatus
from wacast.domain.events import IncomingEvent
from wacast.domain.senders import SenderState
from wacast.domain.webhooks import SUBSCRIBABLE, EventType, verify

TUNING = {
    "WACAST_SEND_WAIT_SECONDS": "0",
    "WACAST_WEBHOOK_MAX_ATTEMPTS": "4",
    "WACAST_WEBHOOK_BACKOFF_BASE_SECONDS": "1",
    "WACAST_WEBHOOK_BACKOFF_FACTOR": "2",
    "WACAST_WEBHOOK_TIMEOUT_SECONDS": "1",
    "WACAST_WEBHOOK_ENDPOINT_CACHE_SECONDS": "0",
    "WACAST_WEBHOOK_DISABLE_AFTER_DEAD": "2",
}


@pytest.fixture
def roots(moto_endpoint: str) -> Roots:
    """This module's stack: fast retries (1 s, 2 s...), 4 tries, a 1 s request timeout."""
    return build_roots(provision(moto_endpoint, f"it-{uuid.uuid4().hex[:10]}"), tuning=TUNING)


@pytest.fixture
def world(services: Services) -> Iterator[CampaignWorld]:
    w = CampaignWorld(services)
    yield w
    w.close()


@pytest.fixture
def headers(world: CampaignWorld) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.services.auth.login('owner@example.com', 'a-long-password').token}"}


def schedule(path: str, nth: int) -> str:
    """/hook: fails, then stalls past the timeout, then succeeds. /down: always 503. /gone: 410. /ok: 200."""
    if path == "/hook":
        return {1: "fail", 2: "stall"}.get(nth, "ok")
    return {"/down": "503", "/gone": "410"}.get(path, "ok")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(schedule)
    yield r
    r.close()


def register(client: TestClient, headers: dict[str, str], url: str, events: list[str]) -> dict[str, Any]:
    response = client.post("/api/webhooks", json={"url": url, "events": events}, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_every_event_is_delivered_signed_after_a_failure_and_a_stall(
    world: CampaignWorld, client: TestClient, headers: dict[str, str], receiver: Receiver, roots: Roots
) -> None:
    # given an endpoint for every event, its secret shown once
    endpoint = register(client, headers, receiver.url("/hook"), [e.value for e in SUBSCRIBABLE])
    secret = endpoint["secret"]
    assert (
        secret.startswith("whsec_")
        and "secret" not in client.get(f"/api/webhooks/{endpoint['id']}", headers=headers).json()
    )

    # when a campaign runs, a contact answers, another writes STOP and opts back in, a campaign is paused,
    # and the sender disconnects
    world.contacts(2, "hooks")
    campaign = world.campaign("hooks")
    world.services.campaigns.start(world.principal, campaign.id)
    world.run_until(lambda: world.reload(campaign).status is CampaignStatus.COMPLETED)
    world.settle_receipts()  # the DELIVERED receipts too
    at = world.messages(campaign)[0].updated_at
    for phone, text in (("+919800000000", "thanks!"), ("+919800000001", "STOP")):
        world.services.events.handle(
            IncomingEvent(
                account_id=world.principal.account_id, sender_id=world.sender.id, sender_phone=phone, text=text, at=at
            )
        )
    world.services.opt_outs.opt_in(world.principal, "+919800000001")
    world.contacts(1, "later", start=50)
    other = world.campaign("later")
    world.services.campaigns.start(world.principal, other.id)
    world.services.campaigns.pause(world.principal, other.id)
    sender = world.services.senders.get(world.principal.account_id, world.sender.id)
    assert sender is not None
    world.services.senders.save_state(sender.model_copy(update={"state": SenderState.DISCONNECTED}))

    # then each event reaches the endpoint: first a 500, then a stall past the timeout, then a 200
    pump = WebhookPump(roots)

    def all_answered() -> bool:
        seen = receiver.requests("/hook")
        ids = {s.headers["Wacast-Event-Id"] for s in seen}
        answered = {s.headers["Wacast-Event-Id"] for s in seen if s.action == "ok"}
        types = {s.headers["Wacast-Event-Type"] for s in seen}
        return bool(ids) and ids == answered and types >= {e.value for e in SUBSCRIBABLE} - {"webhook.disabled"}

    pump.until(all_answered, timeout=90)
    seen = receiver.requests("/hook")
    assert {s.headers["Wacast-Event-Type"] for s in seen} == {e.value for e in SUBSCRIBABLE} - {"webhook.disabled"}
    statuses = {s.event["data"]["status"] for s in seen if s.event["type"] == "message.status"}
    assert {"SENDING", "SENT", "DELIVERED"} <= statuses
    received = next(
        s.event for s in seen if s.event["type"] == "message.received" and s.event["data"]["text"] == "thanks!"
    )
    assert received["data"]["phone"] == "+919800000000" and received["data"]["campaign_id"] == campaign.id

    by_event: dict[str, list[Any]] = {}
    for s in seen:
        # every request carries a valid signature over its exact body, and its event's id
        assert verify(s.headers["Wacast-Signature"], secret, s.body, now=int(time.time()), tolerance_seconds=600)
        assert not verify(s.headers["Wacast-Signature"], "whsec_wrong", s.body, now=int(time.time()))
        assert s.event["id"] == s.headers["Wacast-Event-Id"]
        by_event.setdefault(s.event["id"], []).append(s)
    for tries in by_event.values():
        # the same event id each time; tries 1, 2, 3; waits of the policy between them (1 s, then 1-2 s)
        assert [t.action for t in tries] == ["fail", "stall", "ok"]
        assert [t.headers["Wacast-Attempt"] for t in tries] == ["1", "2", "3"]
        assert tries[1].at - tries[0].at >= 0.9
        assert tries[2].at - tries[1].at >= 1.0 + 0.9  # the 1 s timeout, then at least half of 2 s

    # and the delivery log says so: delivered at the third try, with the answer's code and latency
    log = client.get(f"/api/webhooks/{endpoint['id']}/deliveries?limit=100", headers=headers).json()["items"]
    assert len(log) == len(by_event)
    assert all(d["status"] == "delivered" and d["attempts"] == 3 and d["response_code"] == 200 for d in log)
    assert [d["id"] for d in log] == sorted((d["id"] for d in log), reverse=True)  # newest first


def test_dead_after_the_last_try_4xx_at_once_disabled_then_replayed(
    world: CampaignWorld, client: TestClient, headers: dict[str, str], receiver: Receiver, roots: Roots
) -> None:
    down = register(client, headers, receiver.url("/down"), ["contact.opted_out"])
    gone = register(client, headers, receiver.url("/gone"), ["contact.opted_out"])
    watcher = register(client, headers, receiver.url("/ok"), ["webhook.disabled"])
    pump = WebhookPump(roots)

    # when two contacts opt out (contacts: moto streams a failed transaction's write, DynamoDB does not)
    world.contacts(2, "optouts", start=7)
    world.services.opt_outs.opt_out(world.principal, "+919800000007", "api")
    world.services.opt_outs.opt_out(world.principal, "+919800000008", "api")

    def log(endpoint: dict[str, Any]) -> list[dict[str, Any]]:
        response = client.get(f"/api/webhooks/{endpoint['id']}/deliveries", headers=headers)
        return list(response.json()["items"])

    pump.until(lambda: len(log(down)) == 2 and all(d["status"] == "dead" for d in log(down)), timeout=60)

    # then the 503s were tried 4 times each and are dead; the 410s once
    assert len(receiver.requests("/down")) == 8 and len(receiver.requests("/gone")) == 2
    assert all(d["attempts"] == 4 and d["response_code"] == 503 and d["next_attempt_at"] is None for d in log(down))
    assert all(d["status"] == "dead" and d["attempts"] == 1 and d["response_code"] == 410 for d in log(gone))
    # and the endpoint that kept failing is disabled with a reason, which its account's other endpoint hears
    disabled = client.get(f"/api/webhooks/{down['id']}", headers=headers).json()
    assert disabled["enabled"] is False and "in a row" in disabled["disabled_reason"]
    assert client.get(f"/api/webhooks/{gone['id']}", headers=headers).json()["enabled"] is False  # 410s too
    pump.until(lambda: len(receiver.requests("/ok")) == 2, timeout=20)
    notices = receiver.requests("/ok")
    assert {n.event["type"] for n in notices} == {"webhook.disabled"}
    assert {n.event["data"]["endpoint_id"] for n in notices} == {down["id"], gone["id"]}
    assert all(verify(n.headers["Wacast-Signature"], watcher["secret"], n.body, int(time.time())) for n in notices)

    # when its receiver is fixed, the endpoint enabled, and a dead delivery replayed
    dead = log(down)[0]
    refused = client.post(f"/api/webhooks/{down['id']}/deliveries/{dead['id']}/replay", headers=headers)
    assert refused.status_code == 409 and error_of(refused)["code"]  # enable it first
    receiver.plan = lambda path, nth: "ok"
    enabled = client.patch(f"/api/webhooks/{down['id']}", json={"enabled": True}, headers=headers).json()
    assert enabled["enabled"] is True and enabled["disabled_reason"] is None and enabled["consecutive_dead"] == 0
    replay = client.post(f"/api/webhooks/{down['id']}/deliveries/{dead['id']}/replay", headers=headers)
    assert replay.status_code == 202 and replay.json()["status"] == "pending", replay.text
    pump.until(lambda: next(d for d in log(down) if d["id"] == dead["id"])["status"] == "delivered", timeout=20)
    again = next(d for d in log(down) if d["id"] == dead["id"])
    assert again["attempts"] == 1 and again["replay"] == 1 and again["event_id"] == dead["event_id"]
    assert receiver.requests("/down")[-1].headers["Wacast-Event-Id"] == dead["event_id"]  # the receiver dedups on it
    twice = client.post(f"/api/webhooks/{down['id']}/deliveries/{dead['id']}/replay", headers=headers)
    assert twice.status_code == 409  # only a dead delivery is replayed

    # and "send a test event" reaches the endpoint it was asked for, alone
    test = client.post(f"/api/webhooks/{watcher['id']}/test", headers=headers)
    assert test.status_code == 202
    pump.until(lambda: any(s.event["type"] == "webhook.test" for s in receiver.requests("/ok")), timeout=20)
    assert not any(s.event["type"] == "webhook.test" for s in receiver.requests("/down"))


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/hook",  # private
        "http://169.254.169.254/latest/meta-data",  # link-local: the cloud's metadata service
        "http://[::ffff:192.168.1.1]/hook",  # a private IPv4 inside IPv6
        "http://100.64.0.1/hook",  # carrier-grade NAT
        "ftp://example.com/hook",
        "http://user:pw@127.0.0.1/hook",
    ],
)
def test_endpoints_at_private_addresses_are_refused(client: TestClient, headers: dict[str, str], url: str) -> None:
    response = client.post("/api/webhooks", json={"url": url, "events": ["message.status"]}, headers=headers)
    assert response.status_code == 422, response.text
    assert error_of(response)["details"][0]["field"] == "url"


def test_the_secret_rotates_with_an_overlap(client: TestClient, headers: dict[str, str], receiver: Receiver) -> None:
    endpoint = register(client, headers, receiver.url("/ok"), ["message.status"])
    rotated = client.post(
        f"/api/webhooks/{endpoint['id']}/rotate-secret", json={"overlap_seconds": 3600}, headers=headers
    )
    assert rotated.status_code == 200 and rotated.json()["secret"] != endpoint["secret"]
    assert rotated.json()["previous_secret_expires_at"] is not None
    events = client.get("/api/webhooks", headers=headers).json()
    assert [e["id"] for e in events] == [endpoint["id"]] and "secret" not in events[0]
    assert (
        client.post(
            "/api/webhooks", json={"url": receiver.url("/x"), "events": ["webhook.test"]}, headers=headers
        ).status_code
        == 422
    )
    assert EventType.WEBHOOK_TEST not in SUBSCRIBABLE
