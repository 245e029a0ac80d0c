"""Webhooks without sockets: the retry plan, what is retried, signatures and their rotation, the address guard
(no private address, after DNS too), the events the table's changes mean, and one delivery's outcomes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.fakes import T0, FakeClock, InMemoryQueue
from wacast.adapters.address_guard import AddressGuard
from wacast.adapters.webhook_http import HttpxWebhookTransport
from wacast.domain.errors import ValidationFailed
from wacast.domain.webhook_events import events_of
from wacast.domain.webhooks import (
    Delivery,
    DeliveryJob,
    DeliveryStatus,
    EventType,
    RetryPolicy,
    Verdict,
    WebhookEndpoint,
    WebhookEvent,
    delivery_id,
    signature_header,
    verdict,
    verify,
)
from wacast.ports import HttpResult, QueueMessage
from wacast.services.webhook_delivery import RetryLater, WebhookDelivery, WebhookFanout

# -- the plan ------------------------------------------------------------------------------------------


def test_the_default_plan_tries_ten_times_over_hours_with_jittered_exponential_waits() -> None:
    policy = RetryPolicy()
    ceilings = [policy.ceiling(n) for n in range(1, policy.max_attempts)]
    assert ceilings[:4] == [5, 15, 45, 135] and max(ceilings) == 4 * 3600  # capped
    assert timedelta(hours=6) < policy.total_ceiling() < timedelta(hours=10)
    # jitter: between half and all of the ceiling, never below a second
    assert [policy.wait_after(3, r) for r in (0.0, 0.5, 0.999)] == [22, 34, 45]
    assert RetryPolicy(base_seconds=0.1).wait_after(1, 0.0) == 1


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (200, Verdict.DELIVERED),
        (204, Verdict.DELIVERED),
        (None, Verdict.RETRY),  # network error, timeout
        (500, Verdict.RETRY),
        (503, Verdict.RETRY),
        (408, Verdict.RETRY),
        (429, Verdict.RETRY),
        (400, Verdict.GIVE_UP),
        (401, Verdict.GIVE_UP),
        (404, Verdict.GIVE_UP),
        (410, Verdict.GIVE_UP),
        (301, Verdict.GIVE_UP),  # redirects are not followed
    ],
)
def test_what_is_tried_again(code: int | None, expected: Verdict) -> None:
    assert verdict(code) is expected


# -- signatures ----------------------------------------------------------------------------------------


def endpoint(**changes: Any) -> WebhookEndpoint:
    base = WebhookEndpoint(
        id="wh_1",
        account_id="acct_1",
        url="https://hooks.example.com/wacast",
        events=[EventType.MESSAGE_STATUS],
        secret="whsec_new",
        created_at=T0,
        updated_at=T0,
    )
    return base.model_copy(update=changes)


def test_a_signature_covers_the_timestamp_and_the_exact_body() -> None:
    body = b'{"id":"evt_1"}'
    header = signature_header(["whsec_new"], 1_800_000_000, body)
    assert verify(header, "whsec_new", body, now=1_800_000_100)
    assert not verify(header, "whsec_new", body + b" ", now=1_800_000_100)  # a changed body
    assert not verify(header, "whsec_other", body, now=1_800_000_100)
    assert not verify(header, "whsec_new", body, now=1_800_000_000 + 301)  # a replayed old request
    forged = header.replace("t=1800000000", "t=1800000200")
    assert not verify(forged, "whsec_new", body, now=1_800_000_200)


def test_during_a_rotations_overlap_both_secrets_sign() -> None:
    rotating = endpoint(previous_secret="whsec_old", previous_secret_expires_at=T0 + timedelta(hours=1))
    assert rotating.secrets_at(T0) == ["whsec_new", "whsec_old"]
    assert rotating.secrets_at(T0 + timedelta(hours=1)) == ["whsec_new"]
    header = signature_header(rotating.secrets_at(T0), 1_800_000_000, b"{}")
    assert verify(header, "whsec_old", b"{}", 1_800_000_000) and verify(header, "whsec_new", b"{}", 1_800_000_000)


# -- the address guard ---------------------------------------------------------------------------------


def resolver(answers: dict[str, list[str]]) -> Any:
    def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError("no such host")
        return answers[host]

    return resolve


DNS = {
    "hooks.example.com": ["93.184.216.34"],
    "internal.example.com": ["10.0.0.7"],
    "mixed.example.com": ["93.184.216.34", "192.168.0.1"],
    "metadata.example.com": ["169.254.169.254"],
    "v6.example.com": ["2606:4700::1111"],
    "mapped.example.com": ["::ffff:127.0.0.1"],
    "local.example.com": ["127.0.0.1"],
}


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",  # https only on AWS
        "https://internal.example.com/x",  # a name that resolves to a private address
        "https://mixed.example.com/x",  # any of its addresses
        "https://metadata.example.com/x",
        "https://mapped.example.com/x",
        "https://local.example.com/x",  # loopback: only where the setting allows it
        "https://10.1.1.1/x",
        "https://[fd00::1]/x",
        "https://100.64.1.1/x",
        "https://0.0.0.0/x",
        "https://nowhere.example.com/x",
        "https://user:pw@hooks.example.com/x",
    ],
)
def test_the_guard_refuses_what_is_not_a_public_https_endpoint(url: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        AddressGuard(resolver=resolver(DNS)).check(url)
    assert refused.value.field == "url"


def test_the_guard_accepts_public_addresses_and_loopback_only_where_allowed() -> None:
    guard = AddressGuard(resolver=resolver(DNS))
    assert guard.resolve("https://hooks.example.com/x") == ("hooks.example.com", "93.184.216.34")
    assert guard.resolve("https://v6.example.com:8443/x") == ("v6.example.com", "2606:4700::1111")
    local = AddressGuard(allow_http=True, allow_loopback=True, resolver=resolver(DNS))
    assert local.resolve("http://local.example.com/x")[1] == "127.0.0.1"
    with pytest.raises(ValidationFailed):
        local.check("http://internal.example.com/x")  # the local stack still refuses private addresses


def test_the_request_goes_to_the_checked_address_and_never_to_a_private_one() -> None:
    answers = dict(DNS)
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"x" * 1_000_000)

    transport = HttpxWebhookTransport(
        AddressGuard(resolver=resolver(answers)),
        max_response_bytes=4096,
        client=httpx.Client(transport=httpx.MockTransport(answer)),
    )
    ok = transport.post("https://hooks.example.com/wacast?a=1", b"{}", {"Wacast-Event-Id": "evt_1"})
    assert ok.status_code == 200 and ok.error is None
    (request,) = seen
    assert request.url.host == "93.184.216.34" and request.url.path == "/wacast" and request.url.query == b"a=1"
    assert request.headers["host"] == "hooks.example.com"
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    # DNS rebinding: the name now resolves to a private address; nothing is sent
    answers["hooks.example.com"] = ["10.0.0.9"]
    refused = transport.post("https://hooks.example.com/wacast", b"{}", {})
    assert refused.status_code is None and refused.error and refused.error.startswith("refused")
    assert len(seen) == 1


def test_timeouts_and_network_errors_are_answers_without_a_code() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    transport = HttpxWebhookTransport(
        AddressGuard(resolver=resolver(DNS)), client=httpx.Client(transport=httpx.MockTransport(fail))
    )
    assert transport.post("https://hooks.example.com/x", b"{}", {}).error == "timeout"


# -- the events of the table's changes -----------------------------------------------------------------


def record(name: str, pk: str, sk: str, old: dict[str, str] | None, new: dict[str, str] | None) -> dict[str, Any]:
    def image(values: dict[str, str] | None) -> dict[str, Any] | None:
        return None if values is None else {"pk": {"S": pk}, "sk": {"S": sk}} | {k: {"S": v} for k, v in values.items()}

    data: dict[str, Any] = {"Keys": {"pk": {"S": pk}, "sk": {"S": sk}}, "ApproximateCreationDateTime": 1796130001}
    if old is not None:
        data["OldImage"] = image(old)
    if new is not None:
        data["NewImage"] = image(new)
    return {"eventID": f"ev-{name}-{sk}", "eventName": name, "dynamodb": data}


def test_each_kind_of_change_is_its_event_and_others_are_none() -> None:
    msg = {"id": "m_1", "account_id": "acct_1", "campaign_id": "cmp_1", "phone": "+919800000000"}
    changes = [
        record("MODIFY", "MSG#m_1", "MSG", {**msg, "status": "SENT"}, {**msg, "status": "READ", "driver": "neonize"}),
        record("MODIFY", "MSG#m_1", "MSG", {**msg, "status": "READ"}, {**msg, "status": "READ", "replied_at": "x"}),
        record("INSERT", "ACCT#acct_1", "REPLY#r_1", None, {"id": "r_1", "account_id": "acct_1", "text": "hi"}),
        record("INSERT", "ACCT#acct_1", "OPTOUT#+919800000000", None, {"source": "keyword"}),
        record("REMOVE", "ACCT#acct_1", "OPTOUT#+919800000000", {"source": "keyword"}, None),
        record("MODIFY", "ACCT#acct_1", "CAMPAIGN#cmp_1", {"status": "scheduled"}, {"status": "running"}),
        record("MODIFY", "ACCT#acct_1", "CAMPAIGN#cmp_1", {"status": "running"}, {"status": "paused"}),
        record("MODIFY", "ACCT#acct_1", "CAMPAIGN#cmp_1", {"status": "running"}, {"status": "completed"}),
        record("MODIFY", "ACCT#acct_1", "CAMPAIGN#cmp_1", {"status": "running"}, {"status": "running"}),  # counters
        record("MODIFY", "ACCT#acct_1", "CAMPAIGN#cmp_1", {"status": "running"}, {"status": "cancelled"}),
        record("MODIFY", "ACCT#acct_1", "SENDER#s_1", {"state": "connected"}, {"state": "disconnected"}),
        record("MODIFY", "ACCT#acct_1", "SENDER#s_1", {"state": "connected", "qr": "a"}, {"state": "connected"}),
        record("INSERT", "ACCT#acct_1", "CONTACT#c_1", None, {"phone": "+919800000000"}),
    ]
    events = [e for change in changes for e in events_of(change)]
    assert [e.type.value for e in events] == [
        "message.status",
        "message.received",
        "contact.opted_out",
        "contact.opted_in",
        "campaign.started",
        "campaign.paused",
        "campaign.completed",
        "sender.state",
    ]
    assert all(e.account_id == "acct_1" for e in events)
    status = events[0].data
    assert (status["status"], status["previous_status"], status["driver"], status["campaign_id"]) == (
        "READ",
        "SENT",
        "neonize",
        "cmp_1",
    )
    # a retried stream batch means the same events, with the same ids
    assert [e.id for e in events_of(changes[0])] == [events[0].id]


# -- one delivery --------------------------------------------------------------------------------------


class Endpoints:
    def __init__(self, *endpoints: WebhookEndpoint) -> None:
        self.items = {e.id: e for e in endpoints}

    def get(self, account_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        return self.items.get(endpoint_id)

    def list_for_account(self, account_id: str) -> list[WebhookEndpoint]:
        return list(self.items.values())

    def record_dead(self, account_id: str, endpoint_id: str) -> int:
        e = self.items[endpoint_id]
        self.items[endpoint_id] = e.model_copy(update={"consecutive_dead": e.consecutive_dead + 1})
        return e.consecutive_dead + 1

    def record_delivered(self, account_id: str, endpoint_id: str) -> None:
        self.items[endpoint_id] = self.items[endpoint_id].model_copy(update={"consecutive_dead": 0})

    def disable(self, account_id: str, endpoint_id: str, reason: str, at: Any) -> bool:
        e = self.items[endpoint_id]
        self.items[endpoint_id] = e.model_copy(update={"enabled": False, "disabled_reason": reason})
        return e.enabled


class Log:
    def __init__(self) -> None:
        self.entries: list[Delivery] = []

    def record(self, delivery: Delivery, event: WebhookEvent) -> None:
        self.entries.append(delivery)


class Answers:
    def __init__(self, *codes: int | None) -> None:
        self.codes = list(codes)
        self.requests: list[tuple[str, bytes, Mapping[str, str]]] = []

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpResult:
        self.requests.append((url, body, headers))
        code = self.codes.pop(0) if self.codes else 200
        return HttpResult(code, 12, None if code else "timeout")


def event(n: int = 1) -> WebhookEvent:
    return WebhookEvent(
        id=f"evt_{n}", type=EventType.MESSAGE_STATUS, account_id="acct_1", created_at=T0, data={"status": "SENT"}
    )


def job(e: WebhookEvent, endpoint_id: str = "wh_1") -> DeliveryJob:
    return DeliveryJob(delivery_id=delivery_id(e, endpoint_id), account_id="acct_1", endpoint_id=endpoint_id, event=e)


def delivery(
    answers: Answers, *endpoints: WebhookEndpoint, attempts: int = 4
) -> tuple[WebhookDelivery, Log, InMemoryQueue]:
    clock = FakeClock()
    queue, log = InMemoryQueue(clock, "webhooks"), Log()
    service = WebhookDelivery(
        Endpoints(*(endpoints or (endpoint(),))),  # type: ignore[arg-type]
        log,  # type: ignore[arg-type]
        answers,
        queue,
        clock,
        RetryPolicy(max_attempts=attempts),
        disable_after_dead=2,
        jitter=lambda: 0.0,
    )
    return service, log, queue


def test_a_failing_delivery_waits_the_plan_between_tries_then_is_dead() -> None:
    answers = Answers(500, None, 429, 503)
    service, log, _ = delivery(answers)
    outcomes = [service.attempt(job(event()), n) for n in range(1, 5)]
    assert [o.retry_after for o in outcomes] == [2, 8, 22, None]  # half of 5, 15, 45 s (jitter 0), then dead
    assert [d.status for d in log.entries] == [DeliveryStatus.RETRYING] * 3 + [DeliveryStatus.DEAD]
    assert log.entries[-1].attempts == 4 and log.entries[-1].error == "HTTP 503"
    assert log.entries[0].next_attempt_at == T0 + timedelta(seconds=2)
    # every try: the same event id and body, signed, with its attempt number
    assert {r[2]["Wacast-Event-Id"] for r in answers.requests} == {"evt_1"}
    assert [r[2]["Wacast-Attempt"] for r in answers.requests] == ["1", "2", "3", "4"]
    assert all(verify(r[2]["Wacast-Signature"], "whsec_new", r[1], int(T0.timestamp())) for r in answers.requests)
    assert json.loads(answers.requests[0][1])["data"] == {"status": "SENT"}


def test_a_4xx_is_dead_at_once_and_an_endpoint_dead_twice_in_a_row_is_disabled() -> None:
    watcher = endpoint(id="wh_2", events=[EventType.WEBHOOK_DISABLED], secret="whsec_w")
    service, log, queue = delivery(Answers(404, 404), endpoint(), watcher)
    first = service.attempt(job(event(1)), 1)
    assert first.retry_after is None and first.delivery.status is DeliveryStatus.DEAD
    assert service.endpoints.get("acct_1", "wh_1").enabled  # type: ignore[union-attr]
    service.attempt(job(event(2)), 1)
    disabled = service.endpoints.get("acct_1", "wh_1")
    assert disabled is not None and not disabled.enabled and "2 deliveries in a row" in (disabled.disabled_reason or "")
    (notice,) = [DeliveryJob.model_validate(body) for body, _ in queue.sent]
    assert notice.endpoint_id == "wh_2" and notice.event.type is EventType.WEBHOOK_DISABLED
    # then a job for the disabled endpoint is dead without a request
    skipped = service.attempt(job(event(3)), 1)
    assert skipped.delivery.error == "endpoint disabled" and len(service.transport.requests) == 2  # type: ignore[attr-defined]


def test_a_batch_retries_by_visibility_and_reports_only_the_retries() -> None:
    service, _, queue = delivery(Answers(500, 200))
    messages = [QueueMessage({}, f"handle-{i}", f"id-{i}") for i in range(2)]
    failures = service.attempt_batch([(job(event(i)), 1, messages[i]) for i in range(2)])
    assert [type(f) for f in failures].count(RetryLater) == 1 and failures.count(None) == 1
    assert queue.calls["change_visibility_batch"] == 1


def test_the_fanout_queues_a_job_per_endpoint_that_wants_the_event_in_one_request() -> None:
    clock = FakeClock()
    queue = InMemoryQueue(clock, "webhooks")
    wants = [endpoint(id=f"wh_{i}", events=[EventType.MESSAGE_STATUS]) for i in range(3)]
    others = [endpoint(id="wh_x", events=[EventType.SENDER_STATE]), endpoint(id="wh_off", enabled=False)]
    fanout = WebhookFanout(Endpoints(*wants, *others), queue, clock)  # type: ignore[arg-type]
    assert fanout.publish([event(1), event(2)]) == 6
    assert queue.calls["send_batch"] == 1
    jobs = [DeliveryJob.model_validate(body) for body, _ in queue.sent]
    assert {j.endpoint_id for j in jobs} == {"wh_0", "wh_1", "wh_2"} and len({j.delivery_id for j in jobs}) == 6
