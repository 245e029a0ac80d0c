"""The templates API over HTTP, against moto."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.integration.api_helpers import error_of, register


def test_create_list_update_delete_a_template(client: TestClient) -> None:
    headers = register(client)
    created = client.post(
        "/api/templates", json={"name": "Order", "body": "Hi {{name|there}}: {{order_id}}"}, headers=headers
    )
    assert created.status_code == 201, created.text
    template = created.json()
    assert template["variables"] == ["name", "order_id"] and not template["builtin"]

    listed = client.get("/api/templates", headers=headers).json()
    assert [t["id"] for t in listed["items"] if not t["builtin"]] == [template["id"]]
    assert {"builtin_welcome", "builtin_order_update"} <= {t["id"] for t in listed["items"] if t["builtin"]}

    patched = client.patch(f"/api/templates/{template['id']}", json={"body": "Bye {{name}}"}, headers=headers)
    assert patched.status_code == 200 and patched.json()["variables"] == ["name"] and patched.json()["name"] == "Order"
    assert client.get(f"/api/templates/{template['id']}", headers=headers).json()["body"] == "Bye {{name}}"
    assert client.delete(f"/api/templates/{template['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/templates/{template['id']}", headers=headers).status_code == 404


def test_a_body_that_does_not_parse_is_422_naming_where(client: TestClient) -> None:
    headers = register(client)
    response = client.post("/api/templates", json={"name": "Bad", "body": "Hello\n{{ first name }}"}, headers=headers)
    error = error_of(response)
    assert response.status_code == 422 and error["details"][0]["field"] == "body"
    assert error["details"][0]["position"] == {"offset": 9, "line": 2, "column": 4}
    assert error["message"].startswith("line 2, column 4")
    template = client.post("/api/templates", json={"name": "Ok", "body": "Hi"}, headers=headers).json()
    patched = client.patch(f"/api/templates/{template['id']}", json={"body": "Hi {{name"}, headers=headers)
    assert (
        patched.status_code == 422
        and client.get(f"/api/templates/{template['id']}", headers=headers).json()["body"] == "Hi"
    )


def test_preview_against_a_contact_and_sample_values(client: TestClient) -> None:
    headers = register(client)
    contact = client.post(
        "/api/contacts",
        json={"phone": "9876543210", "name": "Asha Rao", "attributes": {"order_id": "A-7"}},
        headers=headers,
    ).json()
    template = client.post(
        "/api/templates",
        json={"name": "Order", "body": "Hi {{first_name}}, {{order_id}} is {{status|packed}}."},
        headers=headers,
    ).json()
    url = f"/api/templates/{template['id']}/preview"
    assert client.post(url, json={"contact_id": contact["id"]}, headers=headers).json() == {
        "text": "Hi Asha, A-7 is packed."
    }
    sample = client.post(
        url, json={"values": {"first_name": "Sam", "order_id": "B-1", "status": "late"}}, headers=headers
    )
    assert sample.json() == {"text": "Hi Sam, B-1 is late."}
    missing = client.post(url, json={"values": {"first_name": "Sam"}}, headers=headers)
    assert missing.status_code == 422 and error_of(missing)["details"][0]["variable"] == "order_id"
    unknown = client.post(url, json={"contact_id": "c_" + "0" * 24}, headers=headers)
    assert unknown.status_code == 404 and error_of(unknown)["details"][0]["field"] == "contact_id"


def test_builtin_templates_are_readable_and_read_only(client: TestClient) -> None:
    headers = register(client)
    welcome = client.get("/api/templates/builtin_welcome", headers=headers)
    assert welcome.status_code == 200 and welcome.json()["builtin"]
    assert (
        client.post("/api/templates/builtin_welcome/preview", json={}, headers=headers)
        .json()["text"]
        .startswith("Hi there")
    )
    assert client.patch("/api/templates/builtin_welcome", json={"name": "Mine"}, headers=headers).status_code == 403
    assert client.delete("/api/templates/builtin_welcome", headers=headers).status_code == 403
