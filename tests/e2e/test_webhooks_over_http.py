"""Webhooks through the whole local stack: a message sent over HTTP changes status in the table, the
webhooks function reads the changes from the table's stream (its own process, role and environment) and
delivers them, signed, to a receiver on loopback; its log shows them delivered."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.helpers import register, wait_for
from tests.integration.webhook_receiver import Receiver
from wacast.domain.webhooks import verify


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(lambda path, nth: "fail" if nth == 1 else "ok")  # each event's first try fails
    yield r
    r.close()


def test_status_changes_reach_a_webhook_signed(api: httpx.Client, receiver: Receiver) -> None:
    headers = register(api)
    made = api.post("/api/webhooks", json={"url": receiver.url("/hook"), "events": ["message.status"]}, headers=headers)
    assert made.status_code == 201, made.text
    endpoint = made.json()
    time.sleep(3)  # the function's copy of the account's endpoints (none, from its registration) expires in 2 s here

    sent = api.post("/api/messages/send", json={"phone": "+919876543210", "message": "Hello"}, headers=headers)
    assert sent.status_code in (200, 202), sent.text
    job_id = sent.json()["jobId"]

    def sent_and_read() -> bool:
        answered = [s.event for s in receiver.requests("/hook") if s.action == "ok"]
        statuses = {e["data"]["status"] for e in answered if e["data"]["message_id"] == job_id}
        return {"SENDING", "SENT", "READ"} <= statuses

    wait_for(sent_and_read, 60, "the message's status changes at the webhook")
    for seen in receiver.requests("/hook"):
        assert verify(seen.headers["Wacast-Signature"], endpoint["secret"], seen.body, int(time.time()), 600)
    log = api.get(f"/api/webhooks/{endpoint['id']}/deliveries", headers=headers).json()["items"]
    assert log and all(d["status"] in ("delivered", "retrying", "pending") for d in log)
    assert any(d["status"] == "delivered" and d["attempts"] == 2 for d in log)
