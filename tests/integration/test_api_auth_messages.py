"""The HTTP API in-process (the same app Mangum wraps), against moto."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.integration.api_helpers import error_of, register
from tests.integration.services import Services


def test_health(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok", "service": "wacast"}


def test_register_login_me(client: TestClient) -> None:
    headers = register(client)
    me = client.get("/api/auth/me", headers=headers).json()
    assert me["user"]["email"] == "owner@example.com" and me["user"]["role"] == "owner"
    assert me["account"]["default_sender_id"]  # local: a connected simulated sender
    login = client.post("/api/auth/login", json={"email": "OWNER@example.com", "password": "a-long-password"})
    assert login.status_code == 200 and login.json()["account"]["id"] == me["account"]["id"]


def test_a_wrong_password_and_a_missing_token_are_401(client: TestClient) -> None:
    register(client)
    response = client.post("/api/auth/login", json={"email": "owner@example.com", "password": "wrong-password"})
    assert response.status_code == 401 and error_of(response)["code"] == "unauthorized"
    assert client.get("/api/auth/me").status_code == 401
    assert client.get("/api/auth/me", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_an_email_registers_once(client: TestClient) -> None:
    register(client)
    response = client.post("/api/auth/register", json={"email": "owner@example.com", "password": "another-password"})
    assert response.status_code == 409 and error_of(response)["details"][0]["field"] == "email"


def test_validation_errors_name_the_field(client: TestClient) -> None:
    response = client.post("/api/auth/register", json={"email": "not-an-email", "password": "short"})
    error = error_of(response)
    assert response.status_code == 422 and error["code"] == "validation_error"
    assert {d["field"] for d in error["details"]} == {"email", "password"}


def test_send_queues_a_message_and_the_job_shows_it(client: TestClient, services: Services) -> None:
    headers = register(client)
    response = client.post("/api/messages/send", json={"phone": "98765 43210", "message": "hi"}, headers=headers)
    assert response.status_code == 202  # no session host here: the outcome is not known yet
    job = response.json()
    assert job["status"] == "QUEUED" and job["phone"] == "+919876543210"  # the account's default country
    outbox = services.queues.outbox.receive(wait_seconds=1)
    assert [m.body["message_id"] for m in outbox] == [job["jobId"]]
    shown = client.get(f"/api/messages/queue/job/{job['jobId']}", headers=headers).json()
    assert shown["status"] == "QUEUED" and shown["history"][0]["status"] == "QUEUED"


def test_a_retried_send_with_the_same_idempotency_key_sends_once(client: TestClient, services: Services) -> None:
    headers = {**register(client), "Idempotency-Key": "order-42"}
    first = client.post("/api/messages/send", json={"phone": "+919876543210", "message": "hi"}, headers=headers)
    again = client.post("/api/messages/send", json={"phone": "+919876543210", "message": "hi"}, headers=headers)
    assert first.json()["jobId"] == again.json()["jobId"]
    assert len(services.queues.outbox.receive(wait_seconds=1)) == 1


def test_a_bad_phone_is_422_naming_the_field(client: TestClient) -> None:
    headers = register(client)
    response = client.post("/api/messages/send", json={"phone": "12345", "message": "hi"}, headers=headers)
    assert response.status_code == 422 and error_of(response)["details"][0]["field"] == "phone"


def test_an_opted_out_number_is_refused(client: TestClient, services: Services) -> None:
    headers = register(client)
    account_id = client.get("/api/auth/me", headers=headers).json()["account"]["id"]
    services.repos.optouts.opt_out(account_id, "+919876543210", "api", services.clock.now())
    response = client.post("/api/messages/send", json={"phone": "+919876543210", "message": "hi"}, headers=headers)
    assert response.status_code == 409 and error_of(response)["code"] == "opted_out"
    assert services.queues.outbox.receive(wait_seconds=0) == []


def test_another_accounts_job_is_404(client: TestClient) -> None:
    alice = register(client, "alice@example.com")
    bob = register(client, "bob@example.com")
    job = client.post("/api/messages/send", json={"phone": "+919876543210", "message": "hi"}, headers=alice).json()
    response = client.get(f"/api/messages/queue/job/{job['jobId']}", headers=bob)
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
