"""events/: every function of template.yaml has fixtures, each shaped exactly as AWS delivers it to
that function, and each, invoked in-process through its function's handler against moto, does what a
user would expect of it.

The naming rule: `<source>_<what>.json`, where source is `sqs` (a record of one of the function's SQS
event sources) or `http_api` (a request to the HTTP API, payload format 2.0); FIXTURES below says
which function each file is for. A new fixture needs a line there and a SCENARIOS entry; a new
function needs a fixture.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model
from pydantic import BaseModel
from samtranslator.yaml_helper import yaml_parse

from local.inprocess import Roots
from local.lambda_runtime import LambdaContext, load_module, services_of
from local.streams import matches
from local.template import ROOT, TEMPLATE, LocalTemplate, translate
from tests.fakes import FakeClock
from tests.integration.campaign_world import CampaignWorld, S
from tests.integration.conftest import EVENTS
from tests.integration.services import Services
from wacast.adapters.aws import client as aws_client
from wacast.adapters.scheduler import SCHEDULED_TIME
from wacast.adapters.sqs import SqsQueue
from wacast.domain.campaign_jobs import DispatchJob
from wacast.domain.campaigns import Campaign, CampaignStatus
from wacast.domain.messages import Message, StatusChange
from wacast.domain.outbox import OutboxMessage
from wacast.domain.pacing import PacingPolicy, PacingPreset
from wacast.services.schedules import ScheduleRequest, fire_time

C = CampaignStatus
#: The account of AWS's documentation examples: fixtures are samples, never a real account.
ACCOUNT = "123456789012"
NO_FAILURES: dict[str, list[Any]] = {"batchItemFailures": []}

#: Which function of template.yaml each fixture is for.
FIXTURES: dict[str, str] = {
    "http_api_health.json": "ApiFunction",
    "http_api_register.json": "ApiFunction",
    "http_api_send.json": "ApiFunction",
    "sqs_dispatch_job.json": "DispatcherFunction",
    "sqs_dispatch_continuation.json": "DispatcherFunction",
    "sqs_dispatch_sweep.json": "DispatcherFunction",
    "sqs_schedule_fire.json": "DispatcherFunction",
    "sqs_receipt.json": "EventsFunction",
    "sqs_receipt_batch.json": "EventsFunction",
    "sqs_incoming_stop.json": "EventsFunction",
    "sqs_sender_state.json": "EventsFunction",
    "sqs_outbox_dead.json": "DlqFunction",
    "sqs_campaign_dead.json": "DlqFunction",
    "dynamodb_message_changes.json": "CountersFunction",
    "dynamodb_message_created.json": "CountersFunction",
    "sqs_import_job.json": "FilesFunction",
    "sqs_webhook_delivery.json": "WebhooksFunction",
}
FILES = sorted(p.name for p in EVENTS.glob("*.json"))

RECORD_KEYS = {
    "messageId",
    "receiptHandle",
    "body",
    "attributes",
    "messageAttributes",
    "md5OfBody",
    "eventSource",
    "eventSourceARN",
    "awsRegion",
}
REQUIRED_ATTRIBUTES = {"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"}
#: Every system attribute SQS may give a record (FIFO ones included).
SYSTEM_ATTRIBUTES = REQUIRED_ATTRIBUTES | {
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
    "MessageDeduplicationId",
    "MessageGroupId",
    "SequenceNumber",
}


# -- the stack the fixtures describe --------------------------------------------------------------


@cache
def deployed() -> LocalTemplate:
    """The stack `sam deploy` makes (stack name and region from samconfig.toml), worked out without AWS."""
    parameters = tomllib.loads((ROOT / "samconfig.toml").read_text())["default"]["global"]["parameters"]
    return LocalTemplate(None, parameters["stack_name"], parameters["region"], account_id=ACCOUNT)


def event_sources(function: str) -> set[str]:
    """The ARNs of the queues (or the table's stream) `function` consumes."""
    t = deployed()
    return {
        t.queue_arn(m.queue_id) if m.kind == "sqs" else t.resolve({"Fn::GetAtt": [m.queue_id, "StreamArn"]})
        for m in t.event_source_mappings()
        if m.function_id == function
    }


def dead_letter_sources() -> dict[str, tuple[str, int]]:
    """DLQ ARN -> (the ARN of the queue whose messages move to it, after how many receives)."""
    t, found = deployed(), {}
    for logical_id, resource in t.resources.items():
        policy = resource.get("Properties", {}).get("RedrivePolicy")
        if resource["Type"] == "AWS::SQS::Queue" and policy:
            resolved = t.resolve(policy)
            found[resolved["deadLetterTargetArn"]] = (t.queue_arn(logical_id), int(resolved["maxReceiveCount"]))
    return found


def module_of(function: str) -> Any:
    """The function's handler module, loaded from its CodeUri (the module conftest's patches apply to)."""
    spec = deployed().functions()[function]
    return load_module(spec.code_dir, spec.handler.rpartition(".")[0], f"wacast_fn_{function}")


def invoke(function: str, event: dict[str, Any]) -> Any:
    spec = deployed().functions()[function]
    handler = getattr(module_of(function), spec.handler.rpartition(".")[2])
    return handler(event, LambdaContext(f"{deployed().stack_name}-{function}"))


def load(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def body_of(event: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(event["Records"][0]["body"])
    return body


def rebound(event: dict[str, Any], **ids: str) -> dict[str, Any]:
    """The fixture with ids of this test's stack in its body (every other field as the fixture has it)."""
    record = event["Records"][0]
    body = json.dumps({**json.loads(record["body"]), **ids})
    return {"Records": [{**record, "body": body, "md5OfBody": md5(body)}]}


def from_queue(event: dict[str, Any], arn: str) -> dict[str, Any]:
    """The fixture as delivered from this test's queue (the dlq function routes by source queue)."""
    return {"Records": [{**event["Records"][0], "eventSourceARN": arn}]}


# -- the index: every function has a fixture, every fixture a function -----------------------------


def test_every_function_of_the_template_has_a_fixture() -> None:
    functions = {i for i, r in translate()["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
    missing = functions - set(FIXTURES.values())
    assert not missing, f"add an events/ fixture (and a FIXTURES line) for {sorted(missing)}"
    assert set(FIXTURES.values()) <= functions, "FIXTURES names a function template.yaml does not have"


def test_every_fixture_file_is_indexed() -> None:
    assert set(FILES) == set(FIXTURES), "events/ and FIXTURES differ: give each file a line, each line a file"


# -- the shape: as AWS delivers it -----------------------------------------------------------------


def check_sqs_record(function: str, record: dict[str, Any]) -> None:
    assert set(record) == RECORD_KEYS
    attributes = record["attributes"]
    assert REQUIRED_ATTRIBUTES <= set(attributes) <= SYSTEM_ATTRIBUTES
    assert all(isinstance(v, str) for v in attributes.values())
    assert int(attributes["SentTimestamp"]) <= int(attributes["ApproximateFirstReceiveTimestamp"])
    assert str(uuid.UUID(record["messageId"])) == record["messageId"]
    assert record["md5OfBody"] == md5(record["body"]), f"md5OfBody should be {md5(record['body'])}"
    assert record["eventSource"] == "aws:sqs" and record["awsRegion"] == deployed().region
    assert record["eventSourceARN"] in event_sources(function), f"{function} consumes {event_sources(function)}"
    dead = dead_letter_sources().get(record["eventSourceARN"])
    if dead is None:
        assert "DeadLetterQueueSourceArn" not in attributes
    else:  # moved by the source queue's redrive policy after its receives ran out
        source, max_receives = dead
        assert attributes["DeadLetterQueueSourceArn"] == source
        assert int(attributes["ApproximateReceiveCount"]) > max_receives
        consumers = [
            m.function_id for m in deployed().event_source_mappings() if deployed().queue_arn(m.queue_id) == source
        ]
        for consumer in consumers:  # a dead body is what the source queue's consumer failed on
            module_of(consumer).processor.model.model_validate({**record, "eventSourceARN": source})
    module_of(function).processor.model.model_validate(record)  # what the handler parses it as


def request_models() -> dict[tuple[str, str], type[BaseModel]]:
    module_of("ApiFunction")  # puts the function's code dir (routes) on the path
    from routes.auth import RegisterRequest
    from routes.messages import SendRequest

    return {("POST", "/api/auth/register"): RegisterRequest, ("POST", "/api/messages/send"): SendRequest}


def check_http_api_request(function: str, event: dict[str, Any]) -> None:
    events = yaml_parse(TEMPLATE.read_text())["Resources"][function]["Properties"]["Events"].values()
    # an HttpApi event without a path: the $default route of the $default stage
    assert any(e["Type"] == "HttpApi" and "Path" not in e.get("Properties", {}) for e in events)
    parsed = APIGatewayProxyEventV2Model.model_validate(event)
    context = parsed.requestContext
    assert parsed.version == "2.0" and parsed.routeKey == context.routeKey == "$default"
    assert context.stage == "$default" and context.accountId == ACCOUNT
    assert context.domainName == f"{context.apiId}.execute-api.{deployed().region}.amazonaws.com"
    assert parsed.rawPath == context.http.path and all(k == k.lower() for k in parsed.headers)
    if parsed.body is not None:
        assert isinstance(parsed.body, str) and parsed.headers["content-length"] == str(len(parsed.body.encode()))
        request_models()[(context.http.method, parsed.rawPath)].model_validate_json(parsed.body)


@pytest.mark.parametrize("name", FILES)
def test_the_fixture_is_shaped_as_aws_delivers_it(name: str) -> None:
    function, event = FIXTURES.get(name) or pytest.fail(f"{name}: add it to FIXTURES"), load(name)
    if name.startswith("sqs_"):
        assert list(event) == ["Records"] and event["Records"]
        for record in event["Records"]:
            check_sqs_record(function, record)
    elif name.startswith("http_api_"):
        check_http_api_request(function, event)
    elif name.startswith("dynamodb_"):
        for record in event["Records"]:
            check_stream_record(function, record)
    else:
        pytest.fail(f"{name}: name a fixture sqs_<what>.json, dynamodb_<what>.json or http_api_<what>.json")


def check_stream_record(function: str, record: dict[str, Any]) -> None:
    """A DynamoDB stream record as Lambda delivers it, that the mapping's filter lets through."""
    assert set(record) == {
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    }
    assert record["eventSource"] == "aws:dynamodb" and record["awsRegion"] == deployed().region
    assert record["eventSourceARN"] in event_sources(function), f"{function} consumes {event_sources(function)}"
    data = record["dynamodb"]
    assert data["StreamViewType"] == "NEW_AND_OLD_IMAGES" and data["SequenceNumber"].isdigit()
    assert data["Keys"] == {k: data["NewImage"][k] for k in ("pk", "sk")}
    mapping = next(m for m in deployed().event_source_mappings() if m.function_id == function)
    assert any(matches(json.loads(pattern), record) for pattern in mapping.filters), "the filter would drop it"


# -- the behaviour: each fixture, through its handler, against this test's stack -----------------------


@dataclass
class Case:
    name: str
    event: dict[str, Any]
    services: Services
    roots: Roots
    monkeypatch: pytest.MonkeyPatch

    def body(self) -> dict[str, Any]:
        return body_of(self.event)

    def invoke(self, event: dict[str, Any] | None = None) -> Any:
        return invoke(FIXTURES[self.name], self.event if event is None else event)


@contextmanager
def world_of(services: Services) -> Iterator[CampaignWorld]:
    """An account whose sender sends at once, on the simulated network."""
    world = CampaignWorld(services)
    try:
        yield world
    finally:
        world.close()


def started(world: CampaignWorld, tag: str, contacts: int, **extra: Any) -> tuple[Campaign, dict[str, Any]]:
    """A started campaign to `contacts` contacts, and the job its start put on the campaigns queue."""
    world.contacts(contacts, tag)
    campaign = world.services.campaigns.start(world.principal, world.campaign(tag, **extra).id)
    (job,) = world.services.queues.campaigns.receive(wait_seconds=1)
    world.services.queues.campaigns.delete(job)
    return campaign, job.body


def dispatch_job(case: Case) -> None:
    with world_of(case.services) as world:
        campaign, start_job = started(world, "spring", 3)
        event = rebound(case.event, account_id=campaign.account_id, campaign_id=campaign.id)
        assert body_of(event) == start_job  # the job the API queues when a campaign starts
        assert case.invoke(event) == NO_FAILURES
        written = {m.id for m in world.messages(campaign)}
        outbox = world.services.queues.outbox.receive(wait_seconds=1)
        assert len(written) == 3 and {m.body["message_id"] for m in outbox} == written


def dispatch_continuation(case: Case) -> None:
    clock = FakeClock(datetime.now(UTC))
    case.monkeypatch.setattr(case.services.dispatch, "clock", clock)
    slow = PacingPolicy(preset=PacingPreset.CUSTOM, min_gap_ms=400_000, max_gap_ms=400_000)
    with world_of(case.services) as world:
        campaign, start_job = started(world, "slow", 5, pacing=slow)
        case.services.dispatch.on_dispatch(DispatchJob.model_validate(start_job))  # 3 sends 400 s apart fill a window
        first = world.reload(campaign)
        assert first.dispatch.seq == start_job["seq"] + 1 and not first.dispatch.done
        assert len(world.messages(campaign)) == 3
        clock.advance(900)  # the continuation it handed on comes due (queued with the longest delay)
        event = rebound(case.event, account_id=campaign.account_id, campaign_id=campaign.id)
        handed_on = DispatchJob(account_id=campaign.account_id, campaign_id=campaign.id, run=1, seq=first.dispatch.seq)
        assert body_of(event) == handed_on.model_dump()
        assert case.invoke(event) == NO_FAILURES
        assert world.reload(campaign).dispatch.seq == handed_on.seq + 1  # it owned the dispatch, and moved it on
        assert len(world.messages(campaign)) == 5  # the next window: the last two contacts
        depth = world.services.queues.outbox.depth()
        assert depth.visible + depth.delayed == 5  # each message on the outbox, held until its planned time


def dispatch_sweep(case: Case) -> None:
    with world_of(case.services) as world:
        campaign, start_job = started(world, "cancel", 4)
        case.services.dispatch.on_dispatch(DispatchJob.model_validate(start_job))
        world.services.campaigns.cancel(world.principal, campaign.id)
        (sweep,) = world.services.queues.campaigns.receive(wait_seconds=1)
        event = rebound(case.event, account_id=campaign.account_id, campaign_id=campaign.id)
        assert body_of(event) == sweep.body  # the job a cancel queues
        assert case.invoke(event) == NO_FAILURES
        assert [m.status for m in world.messages(campaign)] == [S.SKIPPED] * 4
        assert world.reload(campaign).counters.queued == 0


def schedule_fire(case: Case) -> None:
    with world_of(case.services) as world:
        world.contacts(2, "later")
        campaign = world.campaign("later")
        request = ScheduleRequest(send_at=datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1))
        schedule = world.services.schedules.schedule(world.principal, campaign.id, request).schedule
        assert schedule is not None
        s = world.services.settings
        target = aws_client("scheduler", s.region).get_schedule(Name=schedule.name, GroupName=s.schedule_group)
        event = rebound(case.event, account_id=campaign.account_id, campaign_id=campaign.id)
        fired_for = body_of(event)["scheduled_time"]
        # the schedule's Input, with the time EventBridge Scheduler fills in at each firing
        assert {**body_of(event), "scheduled_time": SCHEDULED_TIME} == json.loads(target["Target"]["Input"])
        assert case.invoke(event) == NO_FAILURES
        run = world.reload(campaign)
        assert run.status is C.RUNNING and run.run == 1 and run.last_fire == fire_time(fired_for, datetime.now(UTC))
        (job,) = world.services.queues.campaigns.receive(wait_seconds=1)
        assert DispatchJob.model_validate(job.body) == DispatchJob(
            account_id=campaign.account_id, campaign_id=campaign.id, run=1, seq=run.dispatch.seq
        )


def message_of(services: Services, body: dict[str, Any], phone: str = "+919876543210") -> Message:
    now = datetime.now(UTC)
    message = Message(
        id=body.get("message_id", "m_fixture"),
        account_id=body["account_id"],
        sender_id=body["sender_id"],
        phone=phone,
        body="Your order #1042 has shipped.",
        created_at=now,
        updated_at=now,
        history=[StatusChange(status=S.QUEUED, at=now)],
    )
    services.messages.create(message)
    return services.messages.transition(
        message, S.SENDING, now, changes={"lease_owner": "host-test", "driver_called_at": now}
    )


def receipt(case: Case) -> None:
    body = case.body()
    sending = message_of(case.services, body, body["recipient"])
    (provider_id,) = body["provider_message_ids"]
    sent = case.services.messages.transition(
        sending, S.SENT, datetime.now(UTC), changes={"provider_message_id": provider_id}
    )
    assert case.invoke() == NO_FAILURES
    moved = case.services.messages.get(sent.id)
    assert moved is not None and moved.status is S.DELIVERED  # SENT -> DELIVERED: the double grey tick


def receipt_batch(case: Case) -> None:
    receipts = case.body()["receipts"]
    for i, r in enumerate(receipts):  # a message sent to each, with the provider id WhatsApp gave it
        body = {"message_id": f"m_fixture_{i}", "account_id": r["account_id"], "sender_id": r["sender_id"]}
        sending = message_of(case.services, body, r["recipient"])
        case.services.messages.transition(
            sending, S.SENT, datetime.now(UTC), changes={"provider_message_id": r["provider_message_id"]}
        )
    assert case.invoke() == NO_FAILURES
    moved = [case.services.messages.get(f"m_fixture_{i}") for i in range(len(receipts))]
    # SENT -> READ in one step (a read message was delivered), and SENT -> DELIVERED
    assert [m.status.value if m else None for m in moved] == [r["status"] for r in receipts] == ["READ", "DELIVERED"]
    assert moved[0] is not None and [h.status for h in moved[0].history][-2:] == [S.SENT, S.READ]


def incoming_stop(case: Case) -> None:
    body = case.body()
    optouts = case.services.repos.optouts
    assert not optouts.is_opted_out(body["account_id"], body["sender_phone"])
    assert case.invoke() == NO_FAILURES
    assert optouts.is_opted_out(body["account_id"], body["sender_phone"])


def sender_state(case: Case) -> None:
    session = case.services.auth.register("owner@example.com", "a-long-password", "Acme Retail")
    account_id, sender_id = session.account.id, session.account.default_sender_id or ""
    before = case.services.senders.get(account_id, sender_id)
    assert before is not None and before.state.value != case.body()["state"]
    assert case.invoke(rebound(case.event, account_id=account_id, sender_id=sender_id)) == NO_FAILURES
    # the session host owns the sender's state (it wrote it before publishing): the event is only logged
    assert case.services.senders.get(account_id, sender_id) == before


def outbox_dead(case: Case) -> None:
    body = case.body()
    sending = message_of(case.services, body)
    waiting = case.services.messages.transition(
        sending, S.RETRYING, datetime.now(UTC), changes={"last_error": "network: reset", "driver_called_at": None}
    )
    assert body == OutboxMessage.of(waiting).model_dump()  # what the API and the dispatcher put on the outbox
    assert case.invoke(from_queue(case.event, case.roots.dlq.settings.outbox_dlq_arn)) == NO_FAILURES
    settled = case.services.messages.get(waiting.id)
    receives = case.event["Records"][0]["attributes"]["ApproximateReceiveCount"]
    assert settled is not None and settled.status is S.FAILED
    assert settled.last_error == f"retries_exhausted: gave up after {receives} receives (last error: network: reset)"


def campaign_dead(case: Case) -> None:
    with world_of(case.services) as world:
        campaign, start_job = started(world, "doomed", 2)
        event = rebound(case.event, account_id=campaign.account_id, campaign_id=campaign.id)
        assert body_of(event) == start_job  # a job of the campaigns queue, as it was queued
        assert case.invoke(from_queue(event, case.roots.dlq.settings.campaigns_dlq_arn)) == NO_FAILURES
        failed = world.reload(campaign)
        assert failed.status is C.FAILED and failed.failure_reason


def response_of(response: dict[str, Any]) -> tuple[int, Any]:
    return response["statusCode"], json.loads(response["body"])


def api_health(case: Case) -> None:
    assert response_of(case.invoke()) == (200, {"status": "ok", "service": "wacast"})


def api_register(case: Case) -> None:
    sent = json.loads(case.event["body"])
    status, session = response_of(case.invoke())
    assert status == 201 and session["user"]["email"] == sent["email"] and session["user"]["role"] == "owner"
    assert session["account"]["name"] == sent["account_name"]
    # an account to sign in to, with the password given
    assert case.services.auth.login(sent["email"], sent["password"]).account.id == session["account"]["id"]


def api_send(case: Case) -> None:
    status, refused = response_of(case.invoke())  # the placeholder token
    assert status == 401 and set(refused) == {"error"} and set(refused["error"]) == {"code", "message", "details"}
    assert refused["error"]["code"] == "unauthorized"
    assert case.services.queues.outbox.receive(wait_seconds=0) == []
    # with a token of a real account, the same request queues the message
    token = case.services.auth.register("owner@example.com", "a-long-password", "Acme Retail").token
    signed = {**case.event, "headers": {**case.event["headers"], "authorization": f"Bearer {token}"}}
    status, job = response_of(case.invoke(signed))
    assert status == 202 and job["status"] == "QUEUED" and job["phone"] == json.loads(case.event["body"])["phone"]
    assert [m.body["message_id"] for m in case.services.queues.outbox.receive(wait_seconds=1)] == [job["jobId"]]


def message_changes(case: Case) -> None:
    """The counters move once per change of the batch (QUEUED -> SENDING -> SENT -> READ: queued to read,
    one send by neonize), and a retry of the same batch moves nothing."""
    world = CampaignWorld(case.services)
    try:
        world.contacts(1, "stream")
        campaign = world.campaign("stream")
        world.services.campaigns.start(world.principal, campaign.id)
        world.pump_jobs(wait=1)
        before = world.reload(campaign).counters
        assert (before.total, before.queued) == (1, 1)
        event = json.loads(json.dumps(case.event).replace("acct_demo", world.principal.account_id))
        event = json.loads(json.dumps(event).replace("cmp_demo", campaign.id))
        for _ in range(2):  # Lambda retries a batch it is not sure of: the second time changes nothing
            invoke_with_root("CountersFunction", case.roots.counters, event)
        after = case.services.campaigns.get(world.principal, campaign.id)
        assert (after.counters.queued, after.counters.read, after.counters.total) == (0, 1, 1)
        stats = case.services.stats.campaign(world.principal, campaign.id)
        assert stats.by_driver.get("neonize") == 1
    finally:
        world.close()


def message_created(case: Case) -> None:
    """A direct message's creation (its INSERT record) is counted once on its account's direct counters:
    total and queued; a retry of the same batch moves nothing."""
    session = case.services.auth.register("owner@example.com", "a-long-password", "Acme Retail")
    event = json.loads(json.dumps(case.event).replace("acct_demo", session.account.id))
    assert not any(case.services.messages.direct_counters(session.account.id).values())
    for _ in range(2):  # Lambda retries a batch it is not sure of: the second time changes nothing
        invoke_with_root("CountersFunction", case.roots.counters, event)
    moved = {k: v for k, v in case.services.messages.direct_counters(session.account.id).items() if v}
    assert moved == {"total": 1, "queued": 1}


def import_job(case: Case) -> None:
    """A started import: the job its start queues, run by the files function, imports the uploaded file."""
    import httpx

    session = case.services.auth.register("owner@example.com", "a-long-password", "Acme Retail")
    principal = case.services.auth.authenticate(session.token)
    imports = case.roots.api.imports
    job, upload = imports.create(principal, "list.csv", None)
    sent = httpx.put(
        upload.url, content=b"phone,name\n+919876543210,Asha\n+919876543211,Ravi\n", headers=upload.headers
    )
    assert sent.status_code == 200
    imports.start(principal, job.id)
    (queued,) = SqsQueue(case.roots.files.settings.files_queue_url, aws_client("sqs", "us-east-1")).receive(
        wait_seconds=1
    )
    event = rebound(case.event, account_id=principal.account_id, job_id=job.id)
    assert body_of(event) == queued.body  # the job a start queues
    assert case.invoke(event) == NO_FAILURES
    done = imports.get(principal, job.id)
    assert done.status.value == "completed" and (done.counts.rows, done.counts.imported) == (2, 2)
    assert sorted(c.phone for c in case.services.contacts.page(principal)[0]) == ["+919876543210", "+919876543211"]


def webhook_delivery(case: Case) -> None:
    """A delivery job, run by the webhooks function: one signed POST to the endpoint, logged as delivered."""
    import time

    from tests.integration.webhook_receiver import Receiver
    from wacast.domain.webhooks import EventType, verify

    receiver = Receiver(lambda path, nth: "ok")
    try:
        session = case.services.auth.register("owner@example.com", "a-long-password", "Acme Retail")
        principal = case.services.auth.authenticate(session.token)
        made = case.roots.api.webhooks.create(principal, receiver.url("/hook"), [EventType.MESSAGE_RECEIVED])
        body = case.body()
        job = {**body, "account_id": principal.account_id, "endpoint_id": made.endpoint.id}
        job["event"] = {**body["event"], "account_id": principal.account_id}
        text = json.dumps(job)
        event = {"Records": [{**case.event["Records"][0], "body": text, "md5OfBody": md5(text)}]}
        assert invoke_with_root("WebhooksFunction", case.roots.webhooks, event) == NO_FAILURES
        (seen,) = receiver.requests("/hook")
        assert verify(seen.headers["Wacast-Signature"], made.secret, seen.body, now=int(time.time()))
        assert seen.event["id"] == body["event"]["id"] and seen.event["data"]["text"] == "Yes please"
        (logged,), _ = case.roots.api.webhooks.deliveries(principal, made.endpoint.id, None, 10)
        assert logged.status.value == "delivered" and logged.id == body["delivery_id"] and logged.response_code == 200
    finally:
        receiver.close()


def invoke_with_root(function: str, root: Any, event: dict[str, Any]) -> Any:
    with services_of(module_of(function), root):
        return invoke(function, event)


SCENARIOS: dict[str, Callable[[Case], None]] = {
    "http_api_health.json": api_health,
    "http_api_register.json": api_register,
    "http_api_send.json": api_send,
    "sqs_dispatch_job.json": dispatch_job,
    "sqs_dispatch_continuation.json": dispatch_continuation,
    "sqs_dispatch_sweep.json": dispatch_sweep,
    "sqs_schedule_fire.json": schedule_fire,
    "sqs_receipt.json": receipt,
    "sqs_receipt_batch.json": receipt_batch,
    "sqs_incoming_stop.json": incoming_stop,
    "sqs_sender_state.json": sender_state,
    "sqs_outbox_dead.json": outbox_dead,
    "sqs_campaign_dead.json": campaign_dead,
    "dynamodb_message_changes.json": message_changes,
    "dynamodb_message_created.json": message_created,
    "sqs_import_job.json": import_job,
    "sqs_webhook_delivery.json": webhook_delivery,
}


@pytest.mark.parametrize("name", FILES)
def test_the_fixture_does_what_it_says(
    name: str, services: Services, roots: Roots, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert name in SCENARIOS, f"{name}: add a SCENARIOS entry that invokes it and checks what it does"
    api = module_of("ApiFunction")
    from routes.deps import get_services

    monkeypatch.setitem(api.app.dependency_overrides, get_services, lambda: roots.api)  # the api of this stack
    SCENARIOS[name](Case(name, load(name), services, roots, monkeypatch))
