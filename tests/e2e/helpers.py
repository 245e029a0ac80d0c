"""What an e2e test does as a user: register, link a sender, import contacts, run a campaign."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

NO_GAP = {"preset": "custom", "min_gap_ms": 0, "max_gap_ms": 0}


def register(api: httpx.Client) -> dict[str, str]:
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    response = api.post("/api/auth/register", json={"email": email, "password": "a-long-password"})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def linked_sender(api: httpx.Client, headers: dict[str, str], drivers: list[str]) -> str:
    body = {"phone": f"+4479111{uuid.uuid4().int % 100000:05d}", "drivers": drivers, "pacing": NO_GAP}
    created = api.post("/api/senders", json=body, headers=headers)
    assert created.status_code == 201, created.text
    sender_id = created.json()["id"]
    for driver in drivers:
        linking = api.post(f"/api/senders/{sender_id}/link", json={"driver": driver}, headers=headers)
        assert linking.status_code == 202, linking.text

    def connected() -> bool:
        status = api.get(f"/api/senders/{sender_id}/status", headers=headers).json()
        return all(status["drivers"].get(d, {}).get("state") == "connected" for d in drivers)

    wait_for(connected, 30, "the sender's sessions to connect")
    return sender_id


def import_contacts(api: httpx.Client, headers: dict[str, str], count: int, tag: str) -> None:
    rows = "".join(f"+9198{i:08d},Person {i},{tag}\n" for i in range(count))
    files = {"file": ("contacts.csv", f"phone,name,tags\n{rows}".encode(), "text/csv")}
    report = api.post("/api/contacts/import", files=files, headers=headers)
    assert report.status_code == 200 and report.json()["imported"] == count, report.text


def all_messages(api: httpx.Client, headers: dict[str, str], campaign_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = api.get(f"/api/campaigns/{campaign_id}/messages", params=params, headers=headers).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("too many pages")
