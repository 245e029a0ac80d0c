"""Account safety over HTTP, against moto: the identical-text rule (a warning at creation, a refusal at
start unless confirmed), spintax keeping bodies apart, the safety score, and a sender the governor cools
down (cooling_down in the API, its campaign paused with the reason, resumed by the user)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.integration.api_helpers import error_of, register
from tests.integration.services import Services
from wacast.domain.governor import AccountSignal, GovernorThresholds, cooling_for
from wacast.services.governor import GovernorService


def contacts(client: TestClient, headers: dict[str, str], tag: str, count: int, opted_in: int = 0) -> None:
    rows = "".join(f"+9198{i:08d},P{i},{tag}{';opted-in' if i < opted_in else ''}\n" for i in range(count))
    files = {"file": ("c.csv", f"phone,name,tags\n{rows}".encode(), "text/csv")}
    assert client.post("/api/contacts/import", files=files, headers=headers).json()["imported"] == count


def test_the_same_text_to_everyone_is_warned_about_then_refused_unless_confirmed(
    client: TestClient, services: Services
) -> None:
    headers = register(client)
    contacts(client, headers, "all", 30)
    draft = {"name": "Blast", "body": "Big sale today!", "audience": {"tags": ["all"]}}
    created = client.post("/api/campaigns", json=draft, headers=headers)
    assert created.status_code == 201, created.text
    assert "100% of the recipients" in created.json()["warnings"][0]
    campaign_id = created.json()["id"]

    refused = client.post(f"/api/campaigns/{campaign_id}/start", headers=headers)
    assert refused.status_code == 409
    error = error_of(refused)
    assert "confirm=true" in error["message"]
    assert client.get(f"/api/campaigns/{campaign_id}", headers=headers).json()["status"] == "draft"

    confirmed = client.post(f"/api/campaigns/{campaign_id}/start", json={"confirm": True}, headers=headers)
    assert confirmed.status_code == 202 and confirmed.json()["status"] == "running"


def test_variants_and_variables_keep_the_bodies_apart(client: TestClient) -> None:
    headers = register(client)
    contacts(client, headers, "all", 30)
    for body in ("{Hi|Hello|Hey} there, {our|the} {sale|offer} starts today!", "Hi {{name}}, the sale starts today!"):
        draft = {"name": "Varied", "body": body, "audience": {"tags": ["all"]}}
        created = client.post("/api/campaigns", json=draft, headers=headers)
        assert created.status_code == 201 and created.json()["warnings"] == [], body
        started = client.post(f"/api/campaigns/{created.json()['id']}/start", headers=headers)
        assert started.status_code == 202, started.text


def test_the_safety_score_names_what_lowers_it(client: TestClient) -> None:
    headers = register(client)
    contacts(client, headers, "all", 30, opted_in=30)
    fast = {"preset": "custom", "min_gap_ms": 1000, "max_gap_ms": 1000}
    risky = {"name": "Risky", "body": "Same text", "audience": {"tags": ["all"]}, "pacing": fast}
    safe = {"name": "Safe", "body": "{Hi|Hello|Hey} {{name}}!", "audience": {"tags": ["all"]}}
    scores = {}
    for draft in (risky, safe):
        campaign = client.post("/api/campaigns", json=draft, headers=headers).json()
        report = client.get(f"/api/campaigns/{campaign['id']}/safety", headers=headers)
        assert report.status_code == 200, report.text
        scores[draft["name"]] = report.json()
    factors = {r["factor"] for r in scores["Risky"]["reasons"]}
    assert {"pacing", "identical_bodies", "sender_age"} <= factors
    assert scores["Risky"]["grade"] == "risky" and scores["Risky"]["identical_share"] == 1.0
    assert scores["Safe"]["score"] > scores["Risky"]["score"] and scores["Safe"]["opted_in_share"] == 1.0
    assert all(r["message"] for r in scores["Risky"]["reasons"])


def test_a_cooling_sender_shows_in_the_api_pauses_its_campaign_and_resumes_by_the_user(
    client: TestClient, services: Services
) -> None:
    headers = register(client)
    contacts(client, headers, "all", 3)
    draft = {"name": "Spring", "body": "Hi {{name}}", "audience": {"tags": ["all"]}}
    campaign = client.post("/api/campaigns", json=draft, headers=headers).json()
    assert client.post(f"/api/campaigns/{campaign['id']}/start", headers=headers).status_code == 202
    services.queues.campaigns.receive(wait_seconds=1)  # the start's dispatch job
    sender_id = campaign["sender_id"]

    # given the session host's governor hears of a temporary ban (code 104, two hours)
    host = services.roots.host
    governor = GovernorService(host.senders, host.campaigns, host.campaign_states, host.campaign_jobs, host.clock)
    sender = host.senders.list_all()[0]
    now = host.clock.now()
    signal = AccountSignal(kind="temporary_ban", driver="neonize", code=104, expires_in_seconds=7200)
    governor.cool_down(sender, cooling_for(signal, now, GovernorThresholds()))

    # then the API shows it: the sender cooling down, until when and why; the campaign paused with the reason
    status = client.get(f"/api/senders/{sender_id}/status", headers=headers).json()
    assert status["state"] == "cooling_down" and status["cooling"]["code"] == 104
    assert status["cooling"]["reason"] == "temporary_ban"
    paused = client.get(f"/api/campaigns/{campaign['id']}", headers=headers).json()
    assert paused["status"] == "paused" and paused["paused_by"] == "governor" and "code 104" in paused["pause_reason"]
    refused = client.post(f"/api/campaigns/{campaign['id']}/resume", headers=headers)
    assert refused.status_code == 409 and "resume the sender first" in error_of(refused)["message"]

    # when the user resumes the sender, it sends again and the campaign the governor paused runs again
    resumed = client.post(f"/api/senders/{sender_id}/resume", headers=headers)
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"]["state"] != "cooling_down"
    assert resumed.json()["status"]["cooling"]["ended_by"] == "user"
    again = client.get(f"/api/campaigns/{campaign['id']}", headers=headers).json()
    assert again["status"] == "running" and again["pause_reason"] is None
    jobs = services.queues.campaigns.receive(wait_seconds=1)
    assert sorted(j.body["type"] for j in jobs) == ["dispatch", "requeue"]
    twice = client.post(f"/api/senders/{sender_id}/resume", headers=headers)
    assert twice.status_code == 409 and error_of(twice)["code"] == "conflict"
