"""The contacts API over HTTP, against moto: CRUD, pages, CSV import and export, opt-out and opt-in."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from local.lambda_runtime import LambdaContext, load_handler
from local.template import ROOT
from tests.integration.api_helpers import error_of, register
from tests.integration.conftest import sqs_event
from tests.integration.services import Services
from wacast.adapters.dynamo.table import drop_connections


def upload(client: TestClient, headers: dict[str, str], content: str | bytes) -> Any:
    data = content.encode() if isinstance(content, str) else content
    return client.post("/api/contacts/import", files={"file": ("contacts.csv", data, "text/csv")}, headers=headers)


def all_contacts(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get("/api/contacts", params={**params, **({"cursor": cursor} if cursor else {})}, headers=headers)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


def test_create_read_update_delete_a_contact(client: TestClient) -> None:
    headers = register(client)
    body = {"phone": "98765 43210", "name": "Asha Rao", "attributes": {"city": "Pune"}, "tags": ["VIP", "new"]}
    created = client.post("/api/contacts", json=body, headers=headers)
    assert created.status_code == 201, created.text
    contact = created.json()
    assert contact["phone"] == "+919876543210" and contact["tags"] == ["new", "vip"] and not contact["opted_out"]
    again = client.post("/api/contacts", json={**body, "phone": "+91 98765-43210"}, headers=headers)
    assert again.status_code == 409 and error_of(again)["details"][0]["contact_id"] == contact["id"]

    patched = client.patch(
        f"/api/contacts/{contact['id']}", json={"tags": ["gold"], "name": "Asha R."}, headers=headers
    )
    assert patched.status_code == 200 and patched.json()["tags"] == ["gold"] and patched.json()["name"] == "Asha R."
    assert patched.json()["attributes"] == {"city": "Pune"}  # what was not sent stays
    assert all_contacts(client, headers, tag="vip") == [] and len(all_contacts(client, headers, tag="GOLD")) == 1
    phone_change = client.patch(f"/api/contacts/{contact['id']}", json={"phone": "+14155550100"}, headers=headers)
    assert phone_change.status_code == 422 and error_of(phone_change)["details"][0]["field"] == "phone"

    assert client.delete(f"/api/contacts/{contact['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/contacts/{contact['id']}", headers=headers).status_code == 404
    assert client.delete(f"/api/contacts/{contact['id']}", headers=headers).status_code == 404


def test_bad_contacts_are_refused_naming_the_field(client: TestClient) -> None:
    headers = register(client)
    for body, field in [
        ({"phone": "12345"}, "phone"),
        ({"phone": "9876543210", "tags": ["no#hash"]}, "tags"),
        ({"phone": "9876543210", "attributes": {"first name": "x"}}, "attributes"),
    ]:
        response = client.post("/api/contacts", json=body, headers=headers)
        assert response.status_code == 422 and error_of(response)["details"][0]["field"] == field, response.text
    bad_cursor = client.get("/api/contacts", params={"cursor": "bm9wZQ"}, headers=headers)
    assert bad_cursor.status_code == 422 and error_of(bad_cursor)["details"][0]["field"] == "cursor"


EXCEL_FILE = (
    "\ufeffMobile;Name;Tags;City;Opt-in\r\n"
    "98765 43210;Asha;vip;Pune;yes\r\n"
    '"+1 (415) 555-0100";"Li; Wei";"new, vip";"San Francisco";no\r\n'
    "12345;Broken;;;\r\n"
    "098765 43210;Asha again;;;\r\n"
    "98765 43211;Ravi;;Delhi;maybe\r\n"
)


def test_a_csv_import_reports_each_row_and_a_second_import_changes_nothing(client: TestClient) -> None:
    headers = register(client)
    first = upload(client, headers, EXCEL_FILE)
    assert first.status_code == 200, first.text
    report = first.json()
    assert (report["rows"], report["imported"], report["updated"], report["duplicate"]) == (5, 2, 0, 1)
    assert report["opted_out"] == 1
    assert [(r["line"], r["field"]) for r in report["rejected"]] == [(4, "Mobile"), (6, "opt_in")]
    before = all_contacts(client, headers)
    li = next(c for c in before if c["phone"] == "+14155550100")
    assert li["name"] == "Li; Wei" and li["opted_out"] and li["opted_out_source"] == "import"
    assert li["attributes"] == {"city": "San Francisco"} and li["import_batch"] == report["import_batch"]

    second = upload(client, headers, EXCEL_FILE).json()
    assert (second["imported"], second["updated"], second["duplicate"]) == (0, 0, 3)
    assert second["import_batch"] == report["import_batch"]
    assert all_contacts(client, headers) == before  # not even updated_at moved


def test_a_later_file_updates_and_moves_contacts_to_its_batch_but_never_opts_back_in(client: TestClient) -> None:
    headers = register(client)
    first = upload(client, headers, EXCEL_FILE).json()
    later = upload(client, headers, "phone,name,plan,opt in\n+14155550100,,gold,yes\n9876500001,New,,\n").json()
    assert (later["imported"], later["updated"], later["duplicate"]) == (1, 1, 0)
    li = next(c for c in all_contacts(client, headers) if c["phone"] == "+14155550100")
    assert li["name"] == "Li; Wei" and li["attributes"] == {"city": "San Francisco", "plan": "gold"}  # merged
    assert li["opted_out"]  # 'yes' in a file never takes anyone off the opt-out list
    in_first = {c["phone"] for c in all_contacts(client, headers, import_batch=first["import_batch"])}
    in_later = {c["phone"] for c in all_contacts(client, headers, import_batch=later["import_batch"])}
    assert in_first == {"+919876543210"} and in_later == {"+14155550100", "+919876500001"}


def test_an_unusable_file_is_refused_whole_and_writes_nothing(client: TestClient) -> None:
    headers = register(client)
    response = upload(client, headers, "name,city\nAsha,Pune\n")
    assert response.status_code == 422 and error_of(response)["details"][0]["field"] == "file"
    assert "phone column" in error_of(response)["message"] and all_contacts(client, headers) == []
    not_utf8 = upload(client, headers, b"phone,name\n9876543210,Jos\xe9\n")
    assert not_utf8.status_code == 422 and "UTF-8" in error_of(not_utf8)["message"]


def test_a_large_import_pages_back_completely(client: TestClient) -> None:
    headers = register(client)
    rows = "".join(f"98765{i:05d},Person {i},{'even' if i % 2 == 0 else 'odd'}\n" for i in range(600))
    report = upload(client, headers, "phone,name,tags\n" + rows).json()
    assert report["imported"] == 600 and report["rejected"] == []
    assert len(all_contacts(client, headers, limit=100)) == 600
    evens = all_contacts(client, headers, tag="even", limit=100)
    assert len(evens) == 300 and all("even" in c["tags"] for c in evens)


def test_the_export_streams_csv_that_imports_back_unchanged(client: TestClient) -> None:
    headers = register(client)
    upload(client, headers, EXCEL_FILE)
    exported = client.get("/api/contacts/export", headers=headers)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {r["phone"] for r in rows} == {"+919876543210", "+14155550100"}
    assert {r["phone"]: r["opted_out"] for r in rows} == {"+919876543210": "no", "+14155550100": "yes"}
    reimport = upload(client, headers, exported.content).json()
    assert reimport["rejected"] == [] and reimport["imported"] == 0
    assert "id" in reimport["ignored_columns"]
    only_vip = client.get("/api/contacts/export", params={"tag": "new"}, headers=headers)
    assert [r["phone"] for r in csv.DictReader(io.StringIO(only_vip.text))] == ["+14155550100"]


def test_opt_out_and_opt_in_keep_the_contact_and_the_list_together(client: TestClient, services: Services) -> None:
    headers = register(client)
    contact = client.post("/api/contacts", json={"phone": "9876543210"}, headers=headers).json()
    out = client.post(
        "/api/contacts/opt-out", json={"phone": "+91 98765 43210", "source": "call-centre"}, headers=headers
    )
    assert out.status_code == 200 and out.json()["contact_id"] == contact["id"] and out.json()["opted_out"]
    stored = client.get(f"/api/contacts/{contact['id']}", headers=headers).json()
    assert stored["opted_out"] and stored["opted_out_source"] == "call-centre"
    send = client.post("/api/messages/send", json={"phone": "9876543210", "message": "hi"}, headers=headers)
    assert send.status_code == 409 and error_of(send)["code"] == "opted_out"

    stranger = client.post("/api/contacts/opt-out", json={"phone": "+14155550100"}, headers=headers).json()
    assert stranger["contact_id"] is None and stranger["source"] == "api"
    later = client.post("/api/contacts", json={"phone": "+14155550100"}, headers=headers).json()
    assert later["opted_out"]  # the list came first: the new contact starts opted out

    back = client.post("/api/contacts/opt-in", json={"phone": "9876543210"}, headers=headers)
    assert back.status_code == 200 and not back.json()["opted_out"]
    assert not client.get(f"/api/contacts/{contact['id']}", headers=headers).json()["opted_out"]
    account_id = client.get("/api/auth/me", headers=headers).json()["account"]["id"]
    assert services.repos.optouts.opted_out_among(account_id, ["+919876543210", "+14155550100"]) == {"+14155550100"}


def test_a_stop_keyword_from_whatsapp_marks_the_contact(client: TestClient, services: Services) -> None:
    headers = register(client)
    account_id = client.get("/api/auth/me", headers=headers).json()["account"]["id"]
    contact = client.post("/api/contacts", json={"phone": "9876543210", "name": "Asha"}, headers=headers).json()
    event = {
        "type": "incoming",
        "account_id": account_id,
        "sender_id": "s1",
        "sender_phone": "+919876543210",
        "text": "STOP",
        "at": datetime(2026, 11, 28, 10, 0, tzinfo=UTC).isoformat(),
    }
    events = load_handler(ROOT / "functions/events", "app.handler", "EventsFunction")
    assert events(sqs_event("sqs_incoming_stop.json", event), LambdaContext("events")) == {"batchItemFailures": []}
    stored = client.get(f"/api/contacts/{contact['id']}", headers=headers).json()
    assert stored["opted_out"] and stored["opted_out_source"] == "keyword"
    assert stored["opted_out_at"].startswith("2026-11-28T10:00")


def test_a_file_over_the_size_limit_is_413(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import routes.contact_files

    headers = register(client)
    monkeypatch.setattr(routes.contact_files, "MAX_UPLOAD_BYTES", 64)
    response = upload(client, headers, "phone,name\n" + "9876543210,A\n" * 10)
    assert response.status_code == 413 and error_of(response)["code"] == "payload_too_large"
    assert all_contacts(client, headers) == []


def test_when_dynamodb_is_unreachable_the_api_answers_503_not_500(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = register(client)  # a JWT: checking it needs no table
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")  # nothing listens there
    drop_connections()
    try:
        response = client.get("/api/contacts", headers=headers)
    finally:
        monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB")
        drop_connections()
    assert response.status_code == 503 and error_of(response)["code"] == "unavailable"
    assert client.get("/api/contacts", headers=headers).status_code == 200
