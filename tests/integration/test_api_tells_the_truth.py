"""The API tells the truth (issue 10), over HTTP in-process against moto: no guessed phone numbers,
legacy fields that keep their meaning, the sent text on record, one error shape, and unknown ids named."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.api_helpers import PASSWORD, error_of, register
from tests.integration.services import Services
from wacast.domain.campaign_jobs import CAMPAIGN_JOB
from wacast.domain.messages import MessageStatus

NO_GAP = {"preset": "custom", "min_gap_ms": 0, "max_gap_ms": 0}


def contacts(client: TestClient, headers: dict[str, str], count: int, tag: str = "t") -> list[str]:
    ids = []
    for i in range(count):
        body = {"phone": f"+9198765{i:05d}", "name": f"Person {i}", "tags": [tag], "attributes": {"city": "Pune"}}
        created = client.post("/api/contacts", json=body, headers=headers)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    return ids


def campaign(client: TestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    draft = {"name": "C", "body": "Hi {{name}} from {{city}}", "audience": {"tags": ["t"]}, "pacing": NO_GAP, **fields}
    created = client.post("/api/campaigns", json=draft, headers=headers)
    assert created.status_code == 201, created.text
    return dict(created.json())


def dispatch(services: Services) -> None:
    """Run the campaign jobs waiting on the campaigns queue (the dispatcher function's work)."""
    for _ in range(10):
        batch = services.queues.campaigns.receive(wait_seconds=0)
        if not batch:
            return
        for job in batch:
            services.dispatcher.jobs.run(CAMPAIGN_JOB.validate_python(job.body))
            services.queues.campaigns.delete(job)


# -- 1. no guessed phone numbers --------------------------------------------------------------------


@pytest.mark.parametrize("phone", ["98765abcde", "1-800-FLOWERS", "+91 98765 4321O"])
def test_letters_in_a_phone_are_refused_everywhere(client: TestClient, phone: str) -> None:
    headers = register(client)
    sent = client.post("/api/messages/send", json={"phone": phone, "message": "x"}, headers=headers)
    assert sent.status_code == 422 and error_of(sent)["details"][0]["field"] == "phone", sent.text
    contact = client.post("/api/contacts", json={"phone": phone, "name": "X"}, headers=headers)
    assert contact.status_code == 422 and error_of(contact)["details"][0]["field"] == "phone"
    rows = f"phone,name\n{phone},Vanity\n+919876500001,Real\n"
    report = client.post("/api/contacts/import", files={"file": ("c.csv", rows.encode(), "text/csv")}, headers=headers)
    assert report.status_code == 200 and report.json()["imported"] == 1, report.text
    assert [r["line"] for r in report.json()["rejected"]] == [2]
    assert client.get("/api/contacts", headers=headers).json()["items"][0]["phone"] == "+919876500001"


def test_a_phone_sent_as_a_json_number_is_read(client: TestClient) -> None:
    headers = register(client)
    sent = client.post("/api/messages/queue", json={"phone": 919876543210, "message": "x"}, headers=headers)
    assert sent.status_code == 202 and sent.json()["phone"] == "+919876543210"


# -- 2. delayMs keeps its meaning ---------------------------------------------------------------------


def test_delay_ms_is_validated_and_becomes_the_runs_least_gap(client: TestClient, services: Services) -> None:
    headers = register(client)
    contacts(client, headers, 3)
    c = campaign(client, headers)
    bad = client.post("/api/messages/campaign-send", json={"campaignId": c["id"], "delayMs": "abc"}, headers=headers)
    assert bad.status_code == 422 and error_of(bad)["details"][0]["field"] == "delayMs"
    zero = client.post("/api/messages/campaign-send", json={"campaignId": c["id"], "delayMs": 0}, headers=headers)
    assert zero.status_code == 422 and error_of(zero)["details"][0]["field"] == "delayMs"
    started = client.post("/api/messages/campaign-send", json={"campaignId": c["id"], "delayMs": 5000}, headers=headers)
    assert started.status_code == 202 and started.json()["minGapMs"] == 5000, started.text
    assert client.get(f"/api/campaigns/{c['id']}", headers=headers).json()["pacing"]["min_gap_ms"] == 5000
    dispatch(services)
    planned = sorted(m.send_at for m in services.messages.list_by_campaign(c["id"])[0] if m.send_at)
    gaps = [(b - a).total_seconds() for a, b in zip(planned, planned[1:], strict=False)]
    assert len(planned) == 3 and all(gap >= 5.0 for gap in gaps), gaps


# -- 3 and 4. campaignId links a direct send; queue stats count every message --------------------------


def test_campaign_id_on_a_send_links_the_message_and_stats_count_every_message(
    client: TestClient, services: Services
) -> None:
    headers = register(client)
    direct = client.post("/api/messages/queue", json={"phone": "+919876543210", "message": "a"}, headers=headers)
    assert direct.status_code == 202
    services.roots.settle_counters()  # a creation is counted from the table's stream, about a second later
    stats = client.get("/api/messages/queue/stats", headers=headers).json()
    assert stats["account"]["total"] == 1 and stats["account"]["queued"] == 1
    assert set(stats["queues"]["outbox"]) == {"visible", "inFlight", "delayed"}  # a legacy route: camelCase
    c = campaign(client, headers, audience={"contact_ids": contacts(client, headers, 1)})
    linked = client.post(
        "/api/messages/queue", json={"phone": "+919876543211", "message": "b", "campaignId": c["id"]}, headers=headers
    )
    assert linked.status_code == 202 and linked.json()["campaignId"] == c["id"]
    job = client.get(f"/api/messages/queue/job/{linked.json()['jobId']}", headers=headers).json()
    assert job["campaignId"] == c["id"]
    services.roots.settle_counters()
    assert client.get(f"/api/campaigns/{c['id']}/stats", headers=headers).json()["counters"]["total"] == 1
    assert client.get("/api/messages/queue/stats", headers=headers).json()["account"]["total"] == 2
    other = register(client, "other@example.com")
    foreign = client.post(
        "/api/messages/send", json={"phone": "+919876543212", "message": "c", "campaignId": c["id"]}, headers=other
    )
    assert foreign.status_code == 404 and error_of(foreign)["details"][0]["field"] == "campaignId"


# -- 5 and 7. legacy field names in errors; one error shape ---------------------------------------------


def test_a_legacy_routes_error_names_the_legacy_field(client: TestClient) -> None:
    headers = register(client)
    contacts(client, headers, 1)
    c = campaign(client, headers)
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    response = client.post(
        "/api/messages/campaign-schedule", json={"campaignId": c["id"], "scheduledTime": past}, headers=headers
    )
    error = error_of(response)
    assert response.status_code == 422 and error["details"][0]["field"] == "scheduledTime"
    assert "scheduledTime" in error["message"] and "send_at" not in response.text


def test_every_error_has_one_shape_with_a_list_of_details(client: TestClient) -> None:
    headers = register(client)
    domain = client.post("/api/contacts", json={"phone": "12", "name": "X"}, headers=headers)
    schema = client.post("/api/contacts", json={"name": "X"}, headers=headers)
    malformed = client.post(
        "/api/contacts", content=b'{"phone": "+9198765', headers={**headers, "content-type": "application/json"}
    )
    for response in (domain, schema, malformed):
        error = error_of(response)
        assert response.status_code == 422 and isinstance(error["details"], list) and error["details"]
        assert all({"field", "message"} <= set(d) for d in error["details"]), error
    assert error_of(domain)["details"][0]["field"] == "phone" and error_of(schema)["details"][0]["field"] == "phone"
    assert error_of(malformed)["details"][0]["field"] is None
    assert "not valid JSON" in error_of(malformed)["message"]


# -- 6. the sent text is on record -------------------------------------------------------------------------


def test_the_rendered_text_shows_on_the_job_the_listing_and_the_export(client: TestClient, services: Services) -> None:
    headers = register(client)
    sent = client.post(
        "/api/messages/queue", json={"phone": "+919876543210", "message": "Hello there"}, headers=headers
    )
    assert client.get(f"/api/messages/queue/job/{sent.json()['jobId']}", headers=headers).json()["message"] == (
        "Hello there"
    )
    contacts(client, headers, 2)
    c = campaign(client, headers)
    assert client.post(f"/api/campaigns/{c['id']}/start", headers=headers).status_code == 202
    dispatch(services)
    page = client.get(f"/api/campaigns/{c['id']}/messages", headers=headers).json()
    assert sorted(m["body"] for m in page["items"]) == ["Hi Person 0 from Pune", "Hi Person 1 from Pune"]
    assert all("contact_id" in m and "jobId" not in m for m in page["items"])  # a snake_case route throughout
    rows = list(csv.DictReader(io.StringIO(client.get(f"/api/campaigns/{c['id']}/export", headers=headers).text)))
    assert sorted(r["body"] for r in rows) == ["Hi Person 0 from Pune", "Hi Person 1 from Pune"]
    stored = services.messages.list_by_campaign(c["id"])[0][0]
    assert stored.body.startswith("Hi Person")


# -- 8. unknown ids are named, never an empty campaign ------------------------------------------------------


def test_unknown_ids_in_a_body_are_404_naming_the_field_and_an_empty_audience_cannot_start(
    client: TestClient,
) -> None:
    headers = register(client)
    known = contacts(client, headers, 1)
    draft = {"name": "C", "body": "hi", "audience": {"contact_ids": [*known, "ct_typo1", "ct_typo2"]}}
    typo = client.post("/api/campaigns", json=draft, headers=headers)
    error = error_of(typo)
    assert typo.status_code == 404 and error["details"][0]["field"] == "audience.contact_ids"
    assert error["details"][0]["unknown"] == ["ct_typo1", "ct_typo2"]
    template = client.post("/api/campaigns", json={**draft, "body": None, "template_id": "tpl_nope"}, headers=headers)
    assert template.status_code == 404 and error_of(template)["details"][0]["field"] == "template_id"
    nobody = campaign(client, headers, audience={"tags": ["nobody-has-this"]})
    start = client.post(f"/api/campaigns/{nobody['id']}/start", headers=headers)
    assert start.status_code == 409 and error_of(start)["details"][0]["field"] == "audience"
    assert client.get(f"/api/campaigns/{nobody['id']}", headers=headers).json()["status"] == "draft"


# -- 9. resume sends again at once ------------------------------------------------------------------------


def test_resume_queues_the_parked_messages_again_at_once(client: TestClient, services: Services) -> None:
    headers = register(client)
    sender = client.get("/api/auth/me", headers=headers).json()["account"]["default_sender_id"]
    assert client.patch(f"/api/senders/{sender}", json={"pacing": NO_GAP}, headers=headers).status_code == 200
    contacts(client, headers, 3)
    c = campaign(client, headers)
    client.post(f"/api/campaigns/{c['id']}/start", headers=headers)
    dispatch(services)
    client.post(f"/api/campaigns/{c['id']}/pause", headers=headers)
    # the host parks what comes due while paused: the outbox copies go, the messages stay QUEUED
    parked = services.queues.outbox.receive(wait_seconds=0)
    for copy in parked:
        services.queues.outbox.delete(copy)
    assert len(parked) == 3
    assert client.post(f"/api/campaigns/{c['id']}/resume", headers=headers).status_code == 202
    dispatch(services)  # the resume's requeue job
    again = services.queues.outbox.depth()
    assert again.visible == 3 and again.delayed == 0  # no waiting out a minute-long recheck
    statuses = {m.status for m in services.messages.list_by_campaign(c["id"])[0]}
    assert statuses == {MessageStatus.QUEUED}


# -- 10. the smaller ones -------------------------------------------------------------------------------------


def test_register_keeps_the_name_and_the_legacy_job_is_camel_case(client: TestClient) -> None:
    created = client.post("/api/auth/register", json={"email": "n@example.com", "password": PASSWORD, "name": "Asha"})
    assert created.status_code == 201 and created.json()["user"]["name"] == "Asha"
    headers = {"Authorization": f"Bearer {created.json()['token']}"}
    job = client.post("/api/messages/queue", json={"phone": "+919876543210", "message": "x"}, headers=headers).json()
    assert {"jobId", "senderId", "createdAt", "fallbackUsed"} <= set(job) and "job_id" not in job
