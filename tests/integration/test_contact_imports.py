"""Big files through S3, against moto: an import uploaded with its presigned PUT, started over HTTP and run
by the files function; its report and rejected rows; a crash mid-file that resumes without duplicates; a
run that hands on to its continuation; exports written to S3 and downloaded with their presigned GET."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from local.inprocess import Roots
from tests.integration.api_helpers import error_of, register
from wacast.adapters.aws import client as aws_client
from wacast.adapters.dynamo.contact_items import ContactTagModel
from wacast.adapters.sqs import SqsQueue
from wacast.domain.errors import Unavailable
from wacast.domain.file_jobs import ExportFileJob, ImportFileJob, JobStatus

FILE = (
    "phone,name,tags,opt_in,city\n"
    "9876543210,Asha,vip,yes,Pune\n"
    "98765 43211,Ravi,,no,\n"  # said no: imported opted out
    "not-a-phone,Bad,,,\n"  # rejected
    "+919876543210,Asha again,,,\n"  # the same phone: a duplicate in the file
    '9876543212,Meera,"vip, new",,Delhi\n'
    "9876543213,Kiran,,maybe,\n"  # rejected: opt-in neither yes nor no
)


def files_queue(roots: Roots) -> SqsQueue:
    return SqsQueue(roots.files.settings.files_queue_url, aws_client("sqs", "us-east-1"))


def run_queued(roots: Roots, *, time_left: float = 900.0, rounds: int = 20) -> int:
    """Run every job on the files queue, as the files function would; returns how many runs it took."""
    queue, runs = files_queue(roots), 0
    for _ in range(rounds):  # bounded
        received = queue.receive(max_messages=1, wait_seconds=0)
        if not received:
            return runs
        for message in received:
            if message.body["type"] == "import":
                roots.files.imports.run(ImportFileJob.model_validate(message.body), time_left=lambda: time_left)
            else:
                roots.files.exports.run(ExportFileJob.model_validate(message.body))
            queue.delete(message)
            runs += 1
    raise AssertionError("the files queue did not drain")


def upload(client: TestClient, headers: dict[str, str], content: bytes) -> dict[str, Any]:
    """Create an import, PUT the file to its presigned URL (a plain HTTP client, as a browser would)."""
    created = client.post(
        "/api/contacts/imports", json={"filename": "list.csv", "size_bytes": len(content)}, headers=headers
    )
    assert created.status_code == 201, created.text
    job: dict[str, Any] = created.json()
    assert job["status"] == "awaiting_upload" and job["upload"]["method"] == "PUT"
    put = httpx.put(job["upload"]["url"], content=content, headers=job["upload"]["headers"], timeout=30)
    assert put.status_code == 200, put.text
    return job


def imported(client: TestClient, headers: dict[str, str], roots: Roots, content: bytes) -> dict[str, Any]:
    job = upload(client, headers, content)
    started = client.post(f"/api/contacts/imports/{job['id']}/start", headers=headers)
    assert started.status_code == 202 and started.json()["status"] == "queued", started.text
    run_queued(roots)
    done: dict[str, Any] = client.get(f"/api/contacts/imports/{job['id']}", headers=headers).json()
    return done


def contacts_of(client: TestClient, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    cursor = None
    for _ in range(100):  # bounded
        page = client.get(
            "/api/contacts", params={"limit": 100, **({"cursor": cursor} if cursor else {})}, headers=headers
        )
        body = page.json()
        found.update({c["phone"]: c for c in body["items"]})
        cursor = body.get("next_cursor")
        if not cursor:
            return found
    raise AssertionError("too many pages")


def test_an_uploaded_file_is_checked_imported_and_reported_row_by_row(client: TestClient, roots: Roots) -> None:
    headers = register(client)
    done = imported(client, headers, roots, FILE.encode())
    assert done["status"] == "completed" and done["rows_total"] == 6 and done["rows_done"] == 6
    assert done["report"] == {
        "rows": 6,
        "imported": 3,
        "updated": 0,
        "duplicate": 1,
        "duplicate_in_file": 1,
        "unchanged": 0,
        "opted_out": 1,
        "rejected": 2,
    }
    assert [(r["line"], r["field"]) for r in done["rejected_sample"]] == [(4, "phone"), (7, "opt_in")]
    # the rejected rows, as a CSV a user can fix and upload again
    rejected = httpx.get(done["rejected_csv_url"], timeout=30)
    assert rejected.status_code == 200
    rows = list(csv.reader(io.StringIO(rejected.text)))
    assert rows[0] == ["line", "reason", "field", "phone", "name", "tags", "opt_in", "city"]
    assert [r[0] for r in rows[1:]] == ["4", "7"] and rows[1][3:5] == ["not-a-phone", "Bad"]
    contacts = contacts_of(client, headers)
    assert set(contacts) == {"+919876543210", "+919876543211", "+919876543212"}
    assert contacts["+919876543211"]["opted_out"] and not contacts["+919876543210"]["opted_out"]
    assert contacts["+919876543212"]["tags"] == ["new", "vip"] and contacts["+919876543212"]["attributes"] == {
        "city": "Delhi"
    }
    assert {c["import_batch"] for c in contacts.values()} == {done["import_batch"]}


def test_the_same_file_through_either_route_is_the_same_batch_and_changes_nothing_the_second_time(
    client: TestClient, roots: Roots
) -> None:
    headers = register(client)
    direct = client.post("/api/contacts/import", files={"file": ("c.csv", FILE.encode(), "text/csv")}, headers=headers)
    assert direct.status_code == 200
    again = imported(client, headers, roots, FILE.encode())
    assert again["import_batch"] == direct.json()["import_batch"]
    assert (again["report"]["imported"], again["report"]["updated"], again["report"]["unchanged"]) == (0, 0, 3)


def test_a_crash_mid_file_resumes_from_its_recorded_position_without_duplicates(
    client: TestClient, roots: Roots, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a 50-row file written 10 rows a chunk, whose third chunk's contact writes fail once
    headers = register(client)
    content = "phone,name,tags\n" + "".join(f"98765{i:05d},P{i},t{i % 3}\n" for i in range(50))
    service = roots.files.imports
    monkeypatch.setattr(service, "chunk_rows", 10)
    job = upload(client, headers, content.encode())
    client.post(f"/api/contacts/imports/{job['id']}/start", headers=headers)
    (message,) = files_queue(roots).receive(wait_seconds=1)
    real_put, calls = service.contacts.put_many, []

    def put_many_dying_once(contacts: Any) -> None:
        calls.append(len(contacts))
        if len(calls) == 3:
            real_put(contacts[:4])  # half the chunk is written, then the run dies
            raise Unavailable("throttled")
        real_put(contacts)

    monkeypatch.setattr(service.contacts, "put_many", put_many_dying_once)
    # when the run dies in the third chunk
    with pytest.raises(Unavailable):
        service.run(ImportFileJob.model_validate(message.body), time_left=lambda: 900.0)
    halfway = client.get(f"/api/contacts/imports/{job['id']}", headers=headers).json()
    assert halfway["status"] == "writing" and halfway["rows_done"] == 20
    # then the redelivered message resumes after the second chunk and completes the file once
    service.run(ImportFileJob.model_validate(message.body), time_left=lambda: 900.0)
    done = client.get(f"/api/contacts/imports/{job['id']}", headers=headers).json()
    assert done["status"] == "completed" and done["rows_done"] == 50
    assert (done["report"]["imported"], done["report"]["unchanged"], done["report"]["rejected"]) == (50, 0, 0)
    # chunks 1-2 were not written again; the third, planned again, writes the 6 contacts the dead run did not
    assert calls == [10, 10, 10, 6, 10, 10]
    assert len(contacts_of(client, headers)) == 50
    tags = list(ContactTagModel.query(f"ACCT#{_account_of(client, headers)}", ContactTagModel.sk.startswith("CTAG#")))
    assert len(tags) == 50  # one tag item per contact: nothing duplicated


def _account_of(client: TestClient, headers: dict[str, str]) -> str:
    return str(client.get("/api/auth/me", headers=headers).json()["account"]["id"])


def test_a_long_import_hands_on_to_its_continuation(
    client: TestClient, roots: Roots, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = register(client)
    monkeypatch.setattr(roots.files.imports, "chunk_rows", 5)
    content = "phone\n" + "".join(f"98765{i:05d}\n" for i in range(12))
    job = upload(client, headers, content.encode())
    client.post(f"/api/contacts/imports/{job['id']}/start", headers=headers)
    # with no time left after each chunk, every run writes one chunk and queues the next run
    runs = run_queued(roots, time_left=0.0)
    done = client.get(f"/api/contacts/imports/{job['id']}", headers=headers).json()
    assert runs == 3 and done["status"] == "completed" and done["report"]["imported"] == 12


def test_a_file_that_is_not_text_fails_whole_and_writes_nothing(client: TestClient, roots: Roots) -> None:
    headers = register(client)
    done = imported(client, headers, roots, b"phone\n9876543210\n\xff\xfe\n")
    assert done["status"] == "failed" and done["report"] is None
    assert done["error"]["field"] == "file" and "not UTF-8" in done["error"]["reason"]
    assert contacts_of(client, headers) == {}


def test_an_import_cannot_start_before_its_file_is_uploaded_nor_be_seen_by_another_account(
    client: TestClient,
) -> None:
    headers = register(client)
    created = client.post("/api/contacts/imports", json={}, headers=headers).json()
    early = client.post(f"/api/contacts/imports/{created['id']}/start", headers=headers)
    assert early.status_code == 422 and error_of(early)["details"][0]["field"] == "file"
    other = register(client, "other@example.com")
    assert client.get(f"/api/contacts/imports/{created['id']}", headers=other).status_code == 404
    too_big = client.post("/api/contacts/imports", json={"size_bytes": 60 * 1024 * 1024}, headers=headers)
    assert too_big.status_code == 413 and error_of(too_big)["code"] == "payload_too_large"


def test_the_direct_route_refuses_a_file_over_its_limit_pointing_to_the_s3_route(client: TestClient) -> None:
    headers = register(client)
    big = b"phone,name\n" + b"9876543210,A\n" * (4 * 1024 * 1024 // 13 + 10)
    response = client.post("/api/contacts/import", files={"file": ("c.csv", big, "text/csv")}, headers=headers)
    assert response.status_code == 413
    error = error_of(response)
    assert "/api/contacts/imports" in error["message"] and error["details"][0]["field"] == "file"


def test_a_contacts_export_is_written_to_s3_and_downloaded_with_its_url(client: TestClient, roots: Roots) -> None:
    headers = register(client)
    imported(client, headers, roots, FILE.encode())
    queued = client.post("/api/contacts/exports", headers=headers)
    assert queued.status_code == 202 and queued.json()["download_url"] is None
    run_queued(roots)
    done = client.get(f"/api/contacts/exports/{queued.json()['id']}", headers=headers).json()
    assert done["status"] == "completed" and done["rows"] == 3
    downloaded = httpx.get(done["download_url"], timeout=30)
    inline = client.get("/api/contacts/export", headers=headers)
    assert downloaded.status_code == 200 and downloaded.text == inline.text
    assert "attachment" in downloaded.headers["content-disposition"]


def test_a_campaign_messages_export_needs_the_campaign_of_the_account(client: TestClient, roots: Roots) -> None:
    headers = register(client)
    missing = client.post("/api/campaigns/cmp_nope/messages/exports", headers=headers)
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"


def test_a_file_replaced_after_it_was_started_fails_the_import_rather_than_mixing_two_files(
    client: TestClient, roots: Roots
) -> None:
    headers = register(client)
    job = upload(client, headers, b"phone\n9876543210\n")
    client.post(f"/api/contacts/imports/{job['id']}/start", headers=headers)
    replaced = httpx.put(job["upload"]["url"], content=b"phone\n9876543299\n", headers=job["upload"]["headers"])
    assert replaced.status_code == 200
    run_queued(roots)
    done = client.get(f"/api/contacts/imports/{job['id']}", headers=headers).json()
    assert done["status"] == "failed" and "replaced" in done["error"]["reason"]
    assert contacts_of(client, headers) == {}


def test_starting_a_stalled_import_again_queues_a_run_that_finishes_it(client: TestClient, roots: Roots) -> None:
    headers = register(client)
    job = upload(client, headers, b"phone\n9876543210\n9876543211\n")
    client.post(f"/api/contacts/imports/{job['id']}/start", headers=headers)
    files_queue(roots).receive(wait_seconds=1)  # its run is lost (dead-lettered, say)
    service, principal_account = roots.api.imports, _account_of(client, headers)
    stored = service.jobs.get_import(principal_account, job["id"])
    assert stored is not None
    # a job left "checking" 40 minutes ago
    old = stored.model_copy(
        update={"status": JobStatus.CHECKING, "updated_at": stored.updated_at - timedelta(minutes=40)}
    )
    service.jobs.save_import(old)
    again = client.post(f"/api/contacts/imports/{job['id']}/start", headers=headers)
    assert again.status_code == 202 and again.json()["status"] == "checking"
    run_queued(roots)
    done = client.get(f"/api/contacts/imports/{job['id']}", headers=headers).json()
    assert done["status"] == "completed" and done["report"]["imported"] == 2
