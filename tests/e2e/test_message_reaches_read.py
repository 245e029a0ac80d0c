"""A user registers and sends a message over HTTP; it goes through the real queues of the local
stack (outbox -> session host -> events queue -> events function) and reaches READ."""

from __future__ import annotations

import time
import uuid

import httpx


def test_a_message_sent_over_http_reaches_read(api: httpx.Client) -> None:
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    token = api.post("/api/auth/register", json={"email": email, "password": "a-long-password"}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}

    sent = api.post("/api/messages/send", json={"phone": "+919876543210", "message": "Hello"}, headers=headers)
    assert sent.status_code == 200, sent.text  # the outcome came back within the wait
    job = sent.json()
    assert job["status"] == "SENT" and job["driver"] == "simulated"

    deadline = time.monotonic() + 30
    while job["status"] != "READ" and time.monotonic() < deadline:
        time.sleep(0.3)
        job = api.get(f"/api/messages/queue/job/{job['jobId']}", headers=headers).json()
    # the host batches receipts: when the read receipt comes within a second of the delivered one, only READ
    # is sent (a read message was delivered) and the message goes SENT -> READ in one write
    assert [h["status"] for h in job["history"]] in (
        ["QUEUED", "SENDING", "SENT", "DELIVERED", "READ"],
        ["QUEUED", "SENDING", "SENT", "READ"],
    )
