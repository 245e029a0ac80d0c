"""Stats, listings and exports of a campaign; queue depths; the dead-letter path and its redrive."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from local.lambda_runtime import LambdaContext, load_handler
from local.pollers import sqs_event
from local.template import ROOT
from session_host.drivers.simulated import SimulatedConfig
from tests.integration.campaign_world import CampaignWorld, S
from tests.integration.services import Services
from wacast.domain.campaigns import CampaignStatus
from wacast.domain.outbox import OutboxMessage
from wacast.domain.pacing import PacingPolicy, PacingPreset
from wacast.services.delivery import Act


@pytest.fixture
def world(services: Services) -> Iterator[CampaignWorld]:
    w = CampaignWorld(services)
    yield w
    w.close()


def auth(world: CampaignWorld) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.services.auth.login('owner@example.com', 'a-long-password').token}"}


def test_stats_show_counters_rates_drivers_and_an_eta_from_the_pacing_plan(
    world: CampaignWorld, client: TestClient
) -> None:
    world.contacts(6, "stats")
    paced = PacingPolicy(preset=PacingPreset.CUSTOM, min_gap_ms=60_000, max_gap_ms=60_000)
    campaign = world.campaign("stats", pacing=paced)
    world.services.campaigns.start(world.principal, campaign.id)
    world.pump_jobs(wait=1)  # six sends planned a minute apart: SQS holds them back
    world.pump_counters()  # their creations, counted from the table's stream
    stats = client.get(f"/api/campaigns/{campaign.id}/stats", headers=auth(world)).json()
    assert stats["status"] == "running" and stats["counters"]["queued"] == 6
    started = world.reload(campaign).started_at
    assert started is not None
    eta = stats["eta"]
    assert (
        eta is not None
        and abs(
            (world.reload(campaign).dispatch.pacer.next_at - timedelta(minutes=1) - _parse(eta)).total_seconds()  # type: ignore[union-attr]
        )
        < 2
    )  # the last planned send: five gaps of a minute after the first

    queued = client.get(
        f"/api/campaigns/{campaign.id}/messages", params={"status": "QUEUED", "limit": 4}, headers=auth(world)
    ).json()
    assert len(queued["items"]) == 4 and queued["next_cursor"]
    rest = client.get(
        f"/api/campaigns/{campaign.id}/messages",
        params={"status": "QUEUED", "limit": 4, "cursor": queued["next_cursor"]},
        headers=auth(world),
    ).json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    bad = client.get(f"/api/campaigns/{campaign.id}/messages", params={"cursor": "garbage"}, headers=auth(world))
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "cursor"


def _parse(text: str):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_rates_drivers_and_the_csv_export_after_a_run(world: CampaignWorld, client: TestClient) -> None:
    world.contacts(4, "done")
    campaign = world.campaign("done")
    world.services.campaigns.start(world.principal, campaign.id)
    world.run_until(lambda: world.reload(campaign).status is CampaignStatus.COMPLETED)
    world.settle_receipts()
    stats = client.get(f"/api/campaigns/{campaign.id}/stats", headers=auth(world)).json()
    assert stats["sent_total"] == 4 and stats["by_driver"] == {"simulated": 4}
    assert stats["rates"]["delivery"] == 1.0 and stats["rates"]["failure"] == 0.0
    export = client.get(f"/api/campaigns/{campaign.id}/export", headers=auth(world))
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert (
        len(rows) == 4 and {r["status"] for r in rows} == {"DELIVERED"} and {r["driver"] for r in rows} == {"simulated"}
    )


def test_queue_stats_show_depths_with_delayed_messages_and_the_dlqs(world: CampaignWorld, client: TestClient) -> None:
    world.services.messaging.send_direct(world.principal, "+919876543210", "later", delay_ms=600_000)
    stats = client.get("/api/messages/queue/stats", headers=auth(world)).json()
    assert stats["queues"]["outbox"]["delayed"] == 1
    assert {"campaigns", "outbox", "events", "control", "outbox-dlq", "events-dlq"} <= set(stats["queues"])


def test_transient_failures_end_in_the_dlq_and_the_dlq_function_marks_failed(services: Services) -> None:
    world = CampaignWorld(services, drivers={"simulated": SimulatedConfig(transient_rate=1.0, latency_ms=(0, 0))})
    try:
        world.contacts(1, "doomed")
        campaign = world.campaign("doomed")
        world.services.campaigns.start(world.principal, campaign.id)
        world.pump_jobs(wait=1)
        outbox, dlq = services.queues.outbox, services.queues.dlqs["outbox"]
        for _ in range(10):  # each receive fails on both drivers; the backoff is skipped here
            batch = outbox.receive(wait_seconds=1)
            if not batch:
                break
            disposition = world.delivery.handle(OutboxMessage.model_validate(batch[0].body))
            assert disposition.act is Act.RETRY
            outbox.change_visibility(batch[0], 0)
        dead = dlq.receive(wait_seconds=1)
        assert len(dead) == 1  # maxReceiveCount (3) moved it to the DLQ
        raw = {
            "MessageId": dead[0].message_id,
            "ReceiptHandle": dead[0].receipt_handle,
            "Body": json.dumps(dead[0].body),
            "Attributes": dead[0].attributes,
        }
        arn = dlq.arn()
        handler = load_handler(ROOT / "functions/dlq", "app.handler", "DlqFunction")
        assert handler(sqs_event([raw], arn, "us-east-1"), LambdaContext("dlq")) == {"batchItemFailures": []}
        message = world.messages(campaign)[0]
        assert message.status is S.FAILED and message.attempts == 3
        assert (message.last_error or "").startswith("retries_exhausted")
        final = world.reload(campaign)
        assert final.status is CampaignStatus.COMPLETED and final.counters.failed == 1
    finally:
        world.close()


def test_an_operator_redrives_a_dlq_with_one_sqs_move_task(
    world: CampaignWorld, client: TestClient, services: Services
) -> None:
    # given two poison events in the events DLQ
    for note in ("poison-1", "poison-2"):
        services.queues.dlqs["events"].send({"type": "sender_state", "note": note})
    # when an operator redrives it
    started = client.post("/api/admin/dlq/events/redrive", headers=auth(world))
    assert started.status_code == 202, started.text
    assert started.json()["queue"] == "events" and started.json()["approximate_messages"] == 2
    # then SQS moves both back to the events queue, and the redrive shows as completed
    moved: list[str] = []
    for _ in range(10):
        moved += [m.body["note"] for m in services.queues.events.receive(wait_seconds=1)]
        if len(moved) == 2:
            break
    assert sorted(moved) == ["poison-1", "poison-2"]
    redrives = client.get("/api/admin/dlq/events/redrives", headers=auth(world)).json()
    assert [(r["status"], r["moved"]) for r in redrives] == [("COMPLETED", 2)]
