"""A campaign through the whole local stack as a user runs it over HTTP (real queues, the dispatcher
and events functions on their pollers, the session host's lanes), with a primary that fails 5% of
sends and a fallback that fails 10%: every contact ends in exactly one settled state, nobody gets two
messages, and the campaign's counters equal the counts of its messages. (The 1,000-contact run of
the same proof is tests/integration/test_campaign_at_scale.py, which drives the consumers directly.)"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import Any

import httpx

from local.stack import LocalStack
from tests.e2e.helpers import NO_GAP, all_messages, import_contacts, linked_sender, register, wait_for

CONTACTS = int(os.environ.get("E2E_CONTACTS", "80"))
SETTLED = {"SENT", "DELIVERED", "READ", "FAILED", "SKIPPED", "UNKNOWN"}
BUCKET = {"SENT": "sent", "DELIVERED": "delivered", "READ": "read", "FAILED": "failed", "SKIPPED": "skipped"}


def test_a_campaign_over_http_with_failing_drivers(api: httpx.Client, stack: LocalStack) -> None:
    headers = register(api)
    sender_id = linked_sender(api, headers, ["neonize", "webjs"])
    import_contacts(api, headers, CONTACTS, "launch")
    draft = {
        "name": "Launch",
        "sender_id": sender_id,
        "body": "Hi {{name}}!",
        "audience": {"tags": ["launch"]},
        "pacing": NO_GAP,
    }
    campaign = api.post("/api/campaigns", json=draft, headers=headers).json()
    assert campaign["audience_size"] == CONTACTS
    t0 = time.monotonic()
    started = api.post(f"/api/campaigns/{campaign['id']}/start", headers=headers)
    assert started.status_code == 202

    stats_url = f"/api/campaigns/{campaign['id']}/stats"
    stats = wait_for(
        lambda: (s := api.get(stats_url, headers=headers).json())["status"] == "completed" and s,
        timeout=240,
        what="the campaign to complete",
        every=2,
    )

    print(f"campaign of {CONTACTS} completed in {time.monotonic() - t0:.1f} s")

    def agreeing_view() -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """Stats and messages once the counters agree with the messages' statuses: delivered receipts keep
        arriving after the last send completes the campaign, and the counters function applies each
        change from the table's stream a few seconds later (they converge; they never drift)."""
        listed = all_messages(api, headers, campaign["id"])
        current = api.get(stats_url, headers=headers).json()
        buckets = Counter(BUCKET.get(m["status"], m["status"].lower()) for m in listed)
        counted = {k: v for k, v in current["counters"].items() if k not in ("total", "queued") and v}
        return (current, listed) if counted == dict(buckets) else None

    stats, messages = wait_for(agreeing_view, timeout=60, what="the counters to agree with the messages", every=1)
    # every contact has exactly one message, and it is settled
    assert len(messages) == CONTACTS == len({m["phone"] for m in messages})
    statuses = Counter(m["status"] for m in messages)
    assert set(statuses) <= SETTLED, statuses
    # nobody got two messages: what reached the (simulated) network, per phone, as the host process recorded it
    network = [s["phone"] for s in stack.sends() if s["sender_id"] == sender_id and s["driver"] in ("neonize", "webjs")]
    per_phone = Counter(network)
    assert max(per_phone.values()) == 1
    assert len(per_phone) == statuses["SENT"] + statuses["DELIVERED"] + statuses["READ"]
    # the fallback carried the primary's failures, and the counters equal the message counts
    counters = stats["counters"]
    assert counters["total"] == CONTACTS and counters["queued"] == 0
    assert {k: v for k, v in counters.items() if k not in ("total", "queued") and v} == {
        BUCKET[s]: n for s, n in statuses.items()
    }
    assert stats["by_driver"]["neonize"] + stats["by_driver"]["webjs"] == stats["sent_total"]
    assert stats["fallback_used"] >= 1  # the primary's failures went through the fallback
