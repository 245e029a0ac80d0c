"""The dispatcher at scale: one campaign of 50,000 contacts in `make bench` (100,000 with the argument
below: about 7 minutes on moto, which answers one PutItem per message in ~3.7 ms; DynamoDB takes the
dispatcher's eight at a time) (by tag, zero pacing: the dispatcher plans all of it at once, 5,000
contacts per job, each job handing on to the next) run by the dispatcher function
alone in a fresh process (bench/dispatcher_worker.py, DispatcherFunction's environment), as one warm
Lambda container would run the jobs one after the other. Its contacts per second and peak resident set
are read after 10,000, 30,000 and 50,000 (or 100,000) contacts, and the slope of the memory between them.

moto runs in this process (with the bench's patches, bench/moto_server.py), so the contacts can be put
into its table directly: the API (in this process, over ASGI) imports one sample contact, and every other
contact is a copy of its items with the phone and contact id replaced, so the items are the product's own,
whatever their shape.

Run: .venv/bin/python bench/bench_dispatcher.py [largest audience, default 50000]
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.server import ThreadedMotoServer

from bench import moto_server
from bench.harness import NO_GAP, save
from local.deployables import deployables
from local.inprocess import REGION, provision
from local.lambda_runtime import load_module
from local.stack import MACHINE_ENV, free_port, wait_for_port
from local.template import ROOT, LocalTemplate

WORKER = ["-m", "bench.dispatcher_worker"]
CHECKPOINTS = (10_000, 30_000, 50_000, 100_000)
#: The audience `make bench` dispatches (within its time; pass 100000 to run the largest checkpoint too).
DEFAULT_AUDIENCE = 50_000
SAMPLE = "+919600000000"


class Api:
    """The api function's FastAPI app in this process, under its template environment."""

    def __init__(self, template: LocalTemplate, endpoint: str) -> None:
        from fastapi.testclient import TestClient

        found = deployables(template)["ApiFunction"]
        os.environ.update(found.process_environment(REGION, endpoint, {"WACAST_DEFAULT_DRIVER": "simulated"}))
        assert found.function is not None
        module = load_module(found.function.code_dir, "app", "wacast_fn_ApiFunction")
        self.http = TestClient(module.app)
        email = "dispatcher-bench@example.com"
        session = self.ok(self.http.post("/api/auth/register", json={"email": email, "password": "a-long-password"}))
        self.headers = {"Authorization": f"Bearer {session['token']}"}
        self.account_id = session["account"]["id"]
        sender = session["account"]["default_sender_id"]
        self.ok(self.http.patch(f"/api/senders/{sender}", json={"pacing": NO_GAP}, headers=self.headers))

    def ok(self, response: Any) -> Any:
        assert response.status_code < 300, f"{response.request.url} -> {response.status_code}: {response.text[:300]}"
        return response.json()


def seed_contacts(api: Api, table: str, contacts: int) -> float:
    """Import the sample over the API, then put a copy of its items for every other contact."""
    started = time.perf_counter()
    files = {"file": ("sample.csv", f"phone,name,tags\n{SAMPLE},Sample,all\n".encode(), "text/csv")}
    api.ok(api.http.post("/api/contacts/import", files=files, headers=api.headers))
    contact_id = api.ok(api.http.get("/api/contacts", params={"limit": 10}, headers=api.headers))["items"][0]["id"]
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]
    everything = [json.dumps(i.to_json()["Attributes"]) for i in backend.get_table(table).all_items()]
    sample_items = [text for text in everything if contact_id in text]
    for i in range(1, contacts):
        new_phone, new_id = f"+9198{i:08d}", "c_" + f"{i:024x}"  # same lengths: same item sizes
        for text in sample_items:
            backend.put_item(table, json.loads(text.replace(contact_id, new_id).replace(SAMPLE, new_phone)))
    return time.perf_counter() - started


def dispatch(api: Api, template: LocalTemplate, endpoint: str, size: int) -> dict[str, Any]:
    draft = {"name": f"{size} contacts", "body": "Hi {{name}}!", "audience": {"tags": ["all"]}, "pacing": NO_GAP}
    campaign = api.ok(api.http.post("/api/campaigns", json=draft, headers=api.headers))
    assert campaign["audience_size"] == size, campaign["audience_size"]
    api.ok(api.http.post(f"/api/campaigns/{campaign['id']}/start", headers=api.headers, json={"confirm": True}))
    found = deployables(template)["DispatcherFunction"]
    assert found.function is not None
    env = found.process_environment(REGION, endpoint, {})
    env.update({k: os.environ[k] for k in MACHINE_ENV if k in os.environ})
    spec = {
        "code_dir": str(found.function.code_dir),
        "handler": found.function.handler,
        "timeout": found.function.timeout,
        "region": REGION,
        "account_id": template.account_id,
        "queue_url": template.queue_url("CampaignsQueue"),
        "queue_arn": template.queue_arn("CampaignsQueue"),
        "outbox_url": template.queue_url("OutboxQueue"),
        "checkpoints": [c for c in CHECKPOINTS if c <= size],
        "max_jobs": size // 1000 + 20,
        "max_seconds": 420,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
    done = subprocess.run(
        [sys.executable, *WORKER, f.name],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=480,
        check=False,
    )
    Path(f.name).unlink()
    if done.returncode != 0:
        raise RuntimeError(f"the dispatcher worker failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    stats = api.ok(api.http.get(f"/api/campaigns/{campaign['id']}/stats", headers=api.headers))
    # (the campaign's counters follow from the table's stream, which this bench does not run: the outbox
    # messages the dispatcher sent are what it dispatched)
    result.update(contacts=size, status=stats["status"])
    assert result["dispatched"] == size, f"dispatched {result['dispatched']} of {size}"
    for point in result["checkpoints"]:
        point["contacts_per_s"] = point["contacts"] / point["handler_seconds"]
    return result


def main(contacts: int = DEFAULT_AUDIENCE) -> dict[str, Any]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto_server.patch()
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    wait_for_port(port)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        template = provision(endpoint, "bench-dispatcher")
        api = Api(template, endpoint)
        seeded = seed_contacts(api, template.physical_ref("Table"), contacts)
        print(f"{contacts} contacts put into moto in {seeded:.0f} s")
        result = dispatch(api, template, endpoint, contacts)
    finally:
        moto.stop()
    points = result["checkpoints"]
    for p in points:
        print(f"{p['contacts']:>7} contacts: {p['contacts_per_s']:5.0f} contacts/s (job {p['jobs']}), "
              f"peak RSS {p['peak_rss_mb']:.0f} MB")  # fmt: skip
    print(f"after the import of the handler: {result['rss_after_import_mb']:.0f} MB; "
          f"CPU {result['cpu_seconds']:.0f} s of {result['handler_seconds']:.0f} s in the handler")  # fmt: skip
    first, last = points[0], points[-1]
    span = (last["contacts"] - first["contacts"]) / 10_000
    slope = (last["peak_rss_mb"] - first["peak_rss_mb"]) / span if span else 0.0
    print(f"peak RSS slope: {slope:+.2f} MB per 10,000 contacts")
    figures = {**result, "rss_slope_mb_per_10k": slope, "seed_seconds": seeded}
    save("dispatcher", figures)
    return figures


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
