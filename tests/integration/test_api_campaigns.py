"""The campaign routes over HTTP, as an owner uses them: create, read, list, change, start (202, the
job is on the campaigns queue), pause, resume, cancel, delete, and the legacy routes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.integration.api_helpers import error_of, register
from tests.integration.services import Services


def contacts(client: TestClient, headers: dict[str, str], tag: str, count: int) -> None:
    rows = "".join(f"+9198{i:08d},P{i},{tag}\n" for i in range(count))
    files = {"file": ("c.csv", f"phone,name,tags\n{rows}".encode(), "text/csv")}
    assert client.post("/api/contacts/import", files=files, headers=headers).json()["imported"] == count


def test_a_campaign_from_draft_to_cancelled_over_http(client: TestClient, services: Services) -> None:
    headers = register(client)
    contacts(client, headers, "Spring", 3)
    draft = {"name": "Spring", "body": "Hi {{name}}", "audience": {"tags": ["SPRING"]}}
    created = client.post("/api/campaigns", json=draft, headers=headers)
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert (
        campaign["status"] == "draft" and campaign["audience_size"] == 3 and campaign["audience"]["tags"] == ["spring"]
    )
    assert client.get(f"/api/campaigns/{campaign['id']}", headers=headers).json()["name"] == "Spring"
    assert [c["id"] for c in client.get("/api/campaigns", headers=headers).json()["items"]] == [campaign["id"]]

    renamed = client.put(f"/api/campaigns/{campaign['id']}", json={**draft, "name": "Spring sale"}, headers=headers)
    assert renamed.status_code == 200 and renamed.json()["name"] == "Spring sale"

    started = client.post(f"/api/campaigns/{campaign['id']}/start", headers=headers)
    assert started.status_code == 202 and started.json()["status"] == "running" and started.json()["run"] == 1
    jobs = services.queues.campaigns.receive(wait_seconds=1)
    assert [j.body["campaign_id"] for j in jobs] == [campaign["id"]]  # the fan-out is the dispatcher's

    again = client.post(f"/api/campaigns/{campaign['id']}/start", headers=headers)
    assert again.status_code == 409 and error_of(again)["code"] == "conflict"
    changed = client.put(f"/api/campaigns/{campaign['id']}", json={**draft, "body": "Other text"}, headers=headers)
    assert changed.status_code == 409  # the message of a running campaign cannot change

    assert client.post(f"/api/campaigns/{campaign['id']}/pause", headers=headers).json()["status"] == "paused"
    assert client.post(f"/api/campaigns/{campaign['id']}/resume", headers=headers).status_code == 202
    assert client.post(f"/api/campaigns/{campaign['id']}/cancel", headers=headers).json()["status"] == "cancelled"
    assert client.delete(f"/api/campaigns/{campaign['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/campaigns/{campaign['id']}", headers=headers).status_code == 404


def test_bad_campaigns_are_refused_naming_the_field(client: TestClient) -> None:
    headers = register(client)
    both = {"name": "x", "body": "hi", "template_id": "builtin_welcome", "audience": {"tags": ["a"]}}
    assert client.post("/api/campaigns", json=both, headers=headers).status_code == 422
    no_audience = {"name": "x", "body": "hi", "audience": {}}
    response = client.post("/api/campaigns", json=no_audience, headers=headers)
    assert response.status_code == 422 and "audience" in error_of(response)["message"]
    bad_sender = {"name": "x", "body": "hi", "sender_id": "sndr_nope", "audience": {"tags": ["a"]}}
    response = client.post("/api/campaigns", json=bad_sender, headers=headers)
    assert response.status_code == 404 and error_of(response)["details"][0]["field"] == "sender_id"


def test_the_legacy_campaign_send_and_schedule_routes(client: TestClient, services: Services) -> None:
    headers = register(client)
    contacts(client, headers, "legacy", 1)
    draft = {"name": "Legacy", "body": "hi", "audience": {"tags": ["legacy"]}}
    first = client.post("/api/campaigns", json=draft, headers=headers).json()
    second = client.post("/api/campaigns", json=draft, headers=headers).json()

    sent = client.post("/api/messages/campaign-send", json={"campaignId": first["id"]}, headers=headers)
    accepted = {"campaignId": first["id"], "status": "running", "run": 1, "minGapMs": None}
    assert sent.status_code == 202 and sent.json() == accepted

    body = {"campaignId": second["id"], "scheduledTime": "2099-06-01T09:00:00Z"}
    scheduled = client.post("/api/messages/campaign-schedule", json=body, headers=headers)
    assert scheduled.status_code == 200 and scheduled.json()["kind"] == "once"
    assert scheduled.json()["nextRunAt"].startswith("2099-06-01T09:00:00")
    listed = client.get("/api/messages/scheduled", headers=headers).json()
    assert [x["campaignId"] for x in listed] == [second["id"]]
    removed = client.delete(f"/api/messages/schedule/{second['id']}", headers=headers)
    assert removed.status_code == 200 and removed.json()["status"] == "draft"
    assert client.get("/api/messages/scheduled", headers=headers).json() == []
