"""Correlation keys on the log lines of one message's path, and metrics as CloudWatch reads them."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from session_host.drivers.chain import DriverChain
from tests.fakes import (
    FakeClock,
    InMemoryCampaignStates,
    InMemoryMessages,
    InMemoryOptOuts,
    InMemoryPacingGuard,
    InMemorySenders,
    ScriptedDriver,
)
from wacast import observability as obs
from wacast.domain.messages import Message, MessageStatus, StatusChange
from wacast.domain.outbox import OutboxMessage
from wacast.domain.senders import Sender, SenderState
from wacast.observability import log_keys, log_keys_from_body, logger
from wacast.services.delivery import DeliveryConfig, DeliveryService


class Lines(logging.Handler):
    """The JSON lines the Powertools logger writes, as CloudWatch Logs would get them."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logger.registered_formatter)
        self.lines: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        line = json.loads(self.format(record))
        with self._lock:
            self.lines.append(line)

    def saying(self, message: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["message"] == message]


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


class SendsInStep(ScriptedDriver):
    """Logs from inside each send once every lane is sending, so the lanes' lines interleave."""

    def __init__(self, lanes: int) -> None:
        super().__init__("primary")
        self.together = threading.Barrier(lanes, timeout=5)

    def send(self, *args: Any, **kwargs: Any) -> Any:
        self.together.wait()
        logger.warning("driver sending")
        self.together.wait()  # no lane leaves (and drops its keys) before every lane has logged
        return super().send(*args, **kwargs)


def delivery_of_two_senders(driver: ScriptedDriver) -> tuple[DeliveryService, InMemoryMessages]:
    clock = FakeClock()
    senders = InMemorySenders(
        *(
            Sender(id=s, account_id="a1", drivers=["primary"], state=SenderState.CONNECTED, created_at=clock.now())
            for s in ("s1", "s2")
        )
    )
    campaigns = InMemoryCampaignStates()
    campaigns.statuses.update({"c1": "running", "c2": "running"})
    messages = InMemoryMessages()
    for n in ("1", "2"):
        now = clock.now() - timedelta(seconds=1)
        queued = StatusChange(status=MessageStatus.QUEUED, at=now)
        message = Message(
            id=f"m{n}",
            account_id="a1",
            sender_id=f"s{n}",
            campaign_id=f"c{n}",
            phone="+919876543210",
            body="hi",
            created_at=now,
            updated_at=now,
            history=[queued],
        )
        assert messages.create(message)
    service = DeliveryService(
        messages,
        senders,
        DriverChain({"primary": driver}),
        InMemoryPacingGuard(),
        InMemoryOptOuts(),
        campaigns,
        clock,
        DeliveryConfig(host_id="h1", lease_seconds=60),
    )
    return service, messages


def test_each_lane_logs_its_own_message_and_campaign_and_drops_them_after(lines: Lines) -> None:
    # given two senders' lanes sending at the same time
    driver = SendsInStep(lanes=2)
    delivery, messages = delivery_of_two_senders(driver)
    failures: list[BaseException] = []

    def lane(n: str) -> None:
        try:
            delivery.handle(OutboxMessage(message_id=f"m{n}", account_id="a1", sender_id=f"s{n}"))
            logger.warning("lane idle")
        except BaseException as exc:  # surfaced below: an assertion in a thread would pass silently
            failures.append(exc)

    # when both handle their message
    threads = [threading.Thread(target=lane, args=(n,)) for n in ("1", "2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    # then every line of a send names its own message and campaign, never the other lane's
    assert not failures and len(driver.sends) == 2
    sending = {(line["message_id"], line["campaign_id"]) for line in lines.saying("driver sending")}
    assert sending == {("m1", "c1"), ("m2", "c2")}
    # and once a lane is done with its message, its lines carry neither
    idle = lines.saying("lane idle")
    assert len(idle) == 2 and not any("message_id" in line or "campaign_id" in line for line in idle)
    assert all(m.status is MessageStatus.SENT for m in (messages.get("m1"), messages.get("m2")) if m)


def test_a_nested_key_gives_the_outer_value_back(lines: Lines) -> None:
    with log_keys(campaign_id="c1", message_id=None):
        with log_keys(campaign_id="c2"):
            logger.warning("inner")
        logger.warning("outer")
    logger.warning("after")
    assert [line.get("campaign_id") for line in lines.lines] == ["c2", "c1", None]
    assert not any("message_id" in line for line in lines.lines)


class Job(BaseModel):
    campaign_id: str


class Record(BaseModel):
    body: Job | dict[str, Any] | str


def test_a_record_handler_logs_the_ids_of_its_body_model_or_mapping(lines: Lines) -> None:
    @log_keys_from_body("campaign_id", "message_id")
    def record_handler(record: Record) -> None:
        logger.warning("handling")

    record_handler(Record(body=Job(campaign_id="c1")))
    record_handler(Record(body={"message_id": "m1", "account_id": "a1"}))
    logger.warning("between records")
    record_handler(Record(body='{"message_id": "m2"}'))  # a raw SQS body, JSON text
    record_handler(Record(body="not json"))
    handled = [{k: v for k, v in line.items() if k in ("campaign_id", "message_id")} for line in lines.lines]
    assert handled == [{"campaign_id": "c1"}, {"message_id": "m1"}, {}, {"message_id": "m2"}, {}]


def emf_documents(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]


def test_an_invocation_flushes_one_document_plus_one_per_metric_with_its_own_dimensions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")

    @obs.metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> None:
        obs.emit(obs.DELIVERED)
        obs.emit(obs.DELIVERED)
        obs.emit(obs.READ)
        obs.emit(obs.MESSAGES_FAILED, Reason="retries_exhausted")

    handler({}, None)
    documents = emf_documents(capsys.readouterr().out)
    by_dimensions = {tuple(sorted(doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0])): doc for doc in documents}
    assert set(by_dimensions) == {("service",), ("Reason", "service")} and len(documents) == 2
    shared = by_dimensions[("service",)]
    assert (shared["Delivered"], shared["Read"], shared["service"]) == ([1.0, 1.0], [1.0], "wacast")
    assert "MessagesFailed" not in shared  # its Reason is its own: it never lends it to Delivered
    failed = by_dimensions[("Reason", "service")]
    assert (failed["MessagesFailed"], failed["Reason"]) == ([1.0], "retries_exhausted")
    assert "Delivered" not in failed
