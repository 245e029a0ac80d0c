"""Users, roles, API keys, sign-in limits and account settings over HTTP, against moto."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from tests.integration.api_helpers import PASSWORD, error_of, register
from tests.integration.services import Services


def add_member(client: TestClient, owner: dict[str, str], email: str = "member@example.com") -> dict[str, str]:
    added = client.post("/api/auth/users", json={"email": email, "password": PASSWORD, "role": "member"}, headers=owner)
    assert added.status_code == 201 and added.json()["role"] == "member", added.text
    token = client.post("/api/auth/login", json={"email": email, "password": PASSWORD}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_an_owner_adds_a_member_who_cannot_manage_keys_users_or_settings(client: TestClient) -> None:
    owner = register(client)
    member = add_member(client, owner)
    me = client.get("/api/auth/me", headers=member).json()
    assert (
        me["user"]["role"] == "member"
        and me["account"]["id"] == client.get("/api/auth/me", headers=owner).json()["account"]["id"]
    )
    for method, url, body in [
        ("post", "/api/auth/api-keys", {"name": "mine"}),
        ("get", "/api/auth/api-keys", None),
        ("post", "/api/auth/users", {"email": "x@example.com", "password": PASSWORD}),
        ("patch", "/api/account/settings", {"default_country": "US"}),
        ("post", "/api/contacts/opt-in", {"phone": "9876543210"}),
    ]:
        response = client.request(method, url, json=body, headers=member)
        assert response.status_code == 403 and error_of(response)["code"] == "forbidden", (url, response.text)
    assert client.get("/api/account/settings", headers=member).status_code == 200  # reading is fine
    owner_role = client.post(
        "/api/auth/users", json={"email": "o@example.com", "password": PASSWORD, "role": "owner"}, headers=owner
    )
    assert owner_role.status_code == 422 and error_of(owner_role)["details"][0]["field"] == "role"


def test_an_api_key_works_as_bearer_or_x_api_key_and_stops_at_once_when_revoked(client: TestClient) -> None:
    owner = register(client)
    created = client.post("/api/auth/api-keys", json={"name": "zapier"}, headers=owner)
    assert created.status_code == 201
    key = created.json()
    assert key["key"].startswith("wck_") and key["hint"] == key["key"][:8] and key["role"] == "member"
    listed = client.get("/api/auth/api-keys", headers=owner).json()["items"]
    assert [k["id"] for k in listed] == [key["id"]] and "key" not in listed[0]

    for headers in ({"X-Api-Key": key["key"]}, {"Authorization": f"Bearer {key['key']}"}):
        assert client.post("/api/contacts", json={"phone": "9876543210", "name": "x"}, headers=headers).status_code in (
            201,
            409,
        )
        assert client.get("/api/auth/api-keys", headers=headers).status_code == 403  # a member key
    assert client.delete(f"/api/auth/api-keys/{key['id']}", headers=owner).status_code == 204
    for headers in ({"X-Api-Key": key["key"]}, {"Authorization": f"Bearer {key['key']}"}):
        response = client.get("/api/contacts", headers=headers)
        assert response.status_code == 401 and "revoked" in error_of(response)["message"]
    assert client.get("/api/contacts", headers={"X-Api-Key": "nope"}).status_code == 401
    assert client.delete(f"/api/auth/api-keys/{key['id']}", headers=owner).status_code == 404


def test_sign_in_is_limited_to_five_failures_per_email(client: TestClient) -> None:
    register(client)
    for _ in range(5):
        assert (
            client.post("/api/auth/login", json={"email": "owner@example.com", "password": "wrong-one"}).status_code
            == 401
        )
    blocked = client.post("/api/auth/login", json={"email": "owner@example.com", "password": PASSWORD})
    error = error_of(blocked)
    assert blocked.status_code == 429 and error["code"] == "rate_limited" and "try again in" in error["message"]
    assert 0 < int(blocked.headers["Retry-After"]) <= 900
    assert error["details"][0]["retry_after_seconds"] == int(blocked.headers["Retry-After"])
    register(client, "other@example.com")  # another email is not affected
    assert client.post("/api/auth/login", json={"email": "other@example.com", "password": PASSWORD}).status_code == 200


def test_settings_are_read_and_changed_by_owners(client: TestClient) -> None:
    owner = register(client)
    settings = client.get("/api/account/settings", headers=owner).json()
    assert (
        settings["default_country"] == "IN"
        and settings["stop_keywords_are_default"]
        and "stop" in settings["stop_keywords"]
    )
    changed = client.patch(
        "/api/account/settings", json={"default_country": "gb", "stop_keywords": ["basta"]}, headers=owner
    )
    assert changed.json() == {"default_country": "GB", "stop_keywords": ["basta"], "stop_keywords_are_default": False}
    contact = client.post("/api/contacts", json={"phone": "07911 123456"}, headers=owner).json()
    assert contact["phone"] == "+447911123456"
    bad = client.patch("/api/account/settings", json={"default_country": "ZZ"}, headers=owner)
    assert bad.status_code == 422 and error_of(bad)["details"][0]["field"] == "default_country"
    reset = client.patch("/api/account/settings", json={"stop_keywords": None}, headers=owner).json()
    assert reset["stop_keywords_are_default"] and reset["default_country"] == "GB"


def test_parallel_sign_in_attempts_cannot_slip_past_the_limit(services: Services) -> None:
    attempts = services.repos.login_attempts
    now = services.clock.now()
    with ThreadPoolExecutor(max_workers=8) as pool:
        waits = list(pool.map(lambda _: attempts.reserve("race@example.com", now), range(16)))
    assert [w == 0 for w in waits].count(True) == 5 and all(w > 0 for w in waits if w != 0)
