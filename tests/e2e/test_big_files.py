"""Big files through S3, over HTTP on the whole local stack: a contacts file PUT to its presigned URL on moto
by a plain HTTP client, imported by the files function (its own process and role), followed to completion;
then every contact exported to S3 and downloaded with its presigned GET.

The file has 5,000 rows, to keep this test within a minute: on the whole local stack moto writes about 200
contacts a second (600 without the stack around it), so 100,000 rows would take ~8 minutes here. The
100,000-row case is bench/bench_s3_import.py (rows per second, peak RSS, write units per contact)."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

from tests.e2e.helpers import register, wait_for

ROWS = 5_000
BAD = {1_000, 4_000}  # lines (of the data rows, 0-based) with a phone that is not one
REPEATED = {3_000}  # a row repeating the first row's phone


def contacts_file() -> bytes:
    lines = ["phone,name,tags,city"]
    for i in range(ROWS):
        phone = "12345" if i in BAD else "9800000000" if i in REPEATED else f"98{i:08d}"
        lines.append(f"{phone},Person {i},e2e-big,City {i % 7}")
    return ("\n".join(lines) + "\n").encode()


def finished(api: httpx.Client, headers: dict[str, str], path: str) -> Any:
    job = api.get(path, headers=headers).json()
    return job if job["status"] in ("completed", "failed") else None


def test_a_5k_row_file_goes_through_s3_and_comes_back_as_an_export(api: httpx.Client) -> None:
    headers = register(api)
    data = contacts_file()
    # given an import and its presigned PUT
    created = api.post("/api/contacts/imports", json={"filename": "big.csv", "size_bytes": len(data)}, headers=headers)
    assert created.status_code == 201, created.text
    job = created.json()
    # when the file is PUT straight to S3 and the import started
    with httpx.Client(timeout=60) as plain:
        put = plain.put(job["upload"]["url"], content=data, headers=job["upload"]["headers"])
    assert put.status_code == 200, put.text
    started = api.post(f"/api/contacts/imports/{job['id']}/start", headers=headers)
    assert started.status_code == 202, started.text
    # then the files function checks and writes it, and the job says how it went
    done = wait_for(lambda: finished(api, headers, f"/api/contacts/imports/{job['id']}"), 120, "the import")
    assert done["status"] == "completed", done
    assert done["rows_total"] == done["rows_done"] == ROWS
    report = done["report"]
    assert (report["imported"], report["rejected"], report["duplicate_in_file"]) == (ROWS - 3, 2, 1)
    with httpx.Client(timeout=60) as plain:
        rejected = plain.get(done["rejected_csv_url"])
    lines = list(csv.reader(io.StringIO(rejected.text)))
    assert [int(row[0]) for row in lines[1:]] == [i + 2 for i in sorted(BAD)]  # the header is line 1

    # and every contact comes back through an export to S3
    export = api.post("/api/contacts/exports", params={"tag": "e2e-big"}, headers=headers)
    assert export.status_code == 202, export.text
    path = f"/api/contacts/exports/{export.json()['id']}"
    written = wait_for(lambda: finished(api, headers, path), 120, "the export")
    assert written["status"] == "completed" and written["rows"] == ROWS - 3
    with httpx.Client(timeout=60) as plain:
        downloaded = plain.get(written["download_url"])
    rows = list(csv.DictReader(io.StringIO(downloaded.text)))
    assert len(rows) == ROWS - 3 and {r["import_batch"] for r in rows} == {done["import_batch"]}
    assert rows[0]["city"].startswith("City ")
