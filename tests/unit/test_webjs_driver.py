"""The whatsapp-web.js driver against a fake sidecar (httpx.MockTransport, no sockets): what it sends,
how it classifies every answer, and how the sidecar's event feed becomes DriverEvents callbacks."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from session_host.drivers.media import Media, MediaUnavailable
from session_host.drivers.webjs import SECRET_HEADER, WebjsDriver
from tests.fakes import T0, FakeClock, Recorder, StaticMedia
from wacast.domain.outcomes import OutcomeKind, SendCode, SendOutcome
from wacast.domain.senders import Sender, SenderState

SECRET = "test-shared-secret"
SENDER = Sender(id="s1", account_id="a1", phone="+919800000001", drivers=["webjs"], created_at=T0)
PHONE = "+919876543210"
REASON = re.compile(r"^[a-z_]+: .+")  # reasons are written `code: detail`


def error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message}})


class FakeSidecar:
    """The sidecar's HTTP API for one session, answering as session_host/webjs/src/server.js does."""

    def __init__(self) -> None:
        self.secret, self.boot, self.seq = SECRET, "boot-1", 0
        self.feed: list[dict[str, Any]] = []
        self.state, self.linked, self.wa_state = "stopped", True, "CONNECTED"
        self.not_on_whatsapp: set[str] = set()
        self.send_answer: httpx.Response | None = None  # a scripted answer to sends
        self.unreachable: type[httpx.TransportError] | None = None  # every request fails before reaching it
        self.answer_lost: type[httpx.TransportError] | None = None  # a send is received, its answer lost
        self.requests: list[httpx.Request] = []
        self.sends: list[dict[str, Any]] = []
        self.polled_after: list[int] = []
        self._changed = threading.Condition()

    def push(self, event: dict[str, Any]) -> None:
        with self._changed:
            self.seq += 1
            self.feed.append({"seq": self.seq, **event})
            self._changed.notify_all()

    def set_state(self, state: str, error: str | None = None) -> None:
        self.state = state
        self.push({"session": "s1", "type": "state", "state": state, "error": error})

    def restart(self) -> None:
        """A new sidecar process: a new boot id, an empty feed counted from 1 again, no session."""
        with self._changed:
            self.boot, self.seq, self.feed, self.state = "boot-2", 0, [], "stopped"

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.unreachable is not None:
            raise self.unreachable("the sidecar could not be reached", request=request)
        self.requests.append(request)
        if request.headers.get(SECRET_HEADER) != self.secret:
            return error(401, "unauthorized", "missing or wrong X-Wacast-Secret")
        if request.url.path == "/events":
            return self._events(request)
        route = re.fullmatch(r"/sessions/s1/([a-z-]+)", request.url.path)
        action = route.group(1) if route else ""
        body: dict[str, Any] = json.loads(request.content) if request.content else {}
        if action == "send":
            return self._send(request, body)
        if action in ("start", "stop", "logout"):
            self.set_state({"start": "starting", "stop": "stopped", "logout": "logged_out"}[action])
        if action == "pairing-code":
            if self.state != "qr":
                return error(503, "not_linking", f"session s1 is {self.state}")
            return httpx.Response(200, json={"code": "ABCD-EFGH"})
        if action in ("start", "stop", "logout", "status"):
            status: dict[str, Any] = {"id": "s1", "state": self.state, "linked": self.linked}
            if request.url.params.get("probe") == "1" and self.state == "ready":
                status["waState"] = self.wa_state
            return httpx.Response(200, json=status)
        return error(404, "not_found", f"{request.method} {request.url.path}")

    def _send(self, request: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        to = str(body.get("to"))
        if self.state != "ready":
            return error(409, "not_connected", f"session s1 is {self.state}")
        if not re.fullmatch(r"\d{6,15}", to):
            return error(400, "invalid_recipient", f"not a phone number: {to}")
        if to in self.not_on_whatsapp:
            return error(422, "not_on_whatsapp", f"{to} is not on WhatsApp")
        if self.send_answer is not None:
            return self.send_answer
        self.sends.append(body)
        if self.answer_lost is not None:
            raise self.answer_lost("timed out", request=request)
        return httpx.Response(200, json={"id": "3EB0ABC", "serialized": f"true_{to}@c.us_3EB0ABC"})

    def _events(self, request: httpx.Request) -> httpx.Response:
        after = int(request.url.params.get("after", "0"))
        with self._changed:
            self.polled_after.append(after)
            if after <= self.seq and not any(e["seq"] > after for e in self.feed):
                self._changed.wait(min(float(request.url.params.get("wait", "0")), 0.1))  # a short long poll
            events = [e for e in self.feed if e["seq"] > after]
            page = {"boot": self.boot, "events": events, "next": events[-1]["seq"] if events else after}
        return httpx.Response(200, json={**page, "dropped": 0})


class World:
    """The driver built as the host builds it (its own httpx.Client, whose transport is the fake)."""

    def __init__(self, sidecar: FakeSidecar, *, media: StaticMedia | None = None, background: bool = False) -> None:
        self.sidecar, self.events = sidecar, Recorder()
        self.driver = WebjsDriver(
            self.events, FakeClock(), "http://127.0.0.1:3001", SECRET, media=media or StaticMedia(), poll_wait_seconds=1
        )
        if not background:
            self.driver.poller.stop()  # the test reads the feed itself, page by page

    def connected(self) -> None:
        self.driver.start(SENDER)
        self.sidecar.set_state("ready")
        self.driver.poller.poll_once()
        assert self.driver.is_connected("s1")


@pytest.fixture
def sidecar(monkeypatch: pytest.MonkeyPatch) -> FakeSidecar:
    fake, real_client = FakeSidecar(), httpx.Client

    def client_on_the_fake(*args: Any, **kwargs: Any) -> httpx.Client:
        return real_client(*args, transport=httpx.MockTransport(fake.handle), **kwargs)

    monkeypatch.setattr(httpx, "Client", client_on_the_fake)
    return fake


@pytest.fixture
def world(sidecar: FakeSidecar) -> Iterator[World]:
    world = World(sidecar)
    yield world
    world.driver.stop()


def wait_for(predicate: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


# -- sending -----------------------------------------------------------------------------------------


def test_a_send_returns_the_message_id_the_sidecar_gave_it(world: World, sidecar: FakeSidecar) -> None:
    world.connected()
    outcome = world.driver.send(SENDER, PHONE, "hello")
    assert outcome == SendOutcome.sent("webjs", "3EB0ABC")
    assert sidecar.sends == [{"to": "919876543210", "body": "hello"}]


def test_every_request_carries_the_shared_secret(world: World, sidecar: FakeSidecar) -> None:
    world.connected()
    assert world.driver.is_linked(SENDER) and world.driver.probe("s1", 5.0)
    assert world.driver.send(SENDER, PHONE, "hello").kind is OutcomeKind.SENT
    world.driver.logout(SENDER)
    paths = {r.url.path for r in sidecar.requests}
    assert paths == {"/events", *(f"/sessions/s1/{a}" for a in ("start", "status", "send", "logout"))}
    assert [r.headers.get(SECRET_HEADER) for r in sidecar.requests] == [SECRET] * len(sidecar.requests)


def test_a_session_that_is_not_connected_sends_nothing(world: World, sidecar: FakeSidecar) -> None:
    world.driver.start(SENDER)
    outcome = world.driver.send(SENDER, PHONE, "hello")
    assert outcome.kind is OutcomeKind.TRANSIENT and outcome.code is SendCode.NOT_CONNECTED
    assert not any(r.url.path.endswith("/send") for r in sidecar.requests)


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ConnectTimeout])
def test_an_unreachable_sidecar_is_transient(
    world: World, sidecar: FakeSidecar, failure: type[httpx.TransportError]
) -> None:
    world.connected()
    sidecar.unreachable = failure
    outcome = world.driver.send(SENDER, PHONE, "hello")
    assert outcome.kind is OutcomeKind.TRANSIENT and outcome.code is SendCode.SIDECAR_UNREACHABLE
    assert sidecar.sends == []


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.RemoteProtocolError])
def test_a_send_whose_answer_is_lost_is_unknown(
    world: World, sidecar: FakeSidecar, failure: type[httpx.TransportError]
) -> None:
    world.connected()
    sidecar.answer_lost = failure
    outcome = world.driver.send(SENDER, PHONE, "hello")
    assert sidecar.sends  # the sidecar has it: sending it again could deliver it twice
    assert outcome.kind is OutcomeKind.UNKNOWN and outcome.code is SendCode.TIMEOUT


def test_a_send_that_never_got_a_connection_is_transient(world: World, sidecar: FakeSidecar) -> None:
    world.connected()
    sidecar.unreachable = httpx.PoolTimeout
    assert world.driver.send(SENDER, PHONE, "hello").kind is OutcomeKind.TRANSIENT


def test_a_number_not_on_whatsapp_is_permanent(world: World, sidecar: FakeSidecar) -> None:
    world.connected()
    sidecar.not_on_whatsapp.add("919876543210")
    outcome = world.driver.send(SENDER, PHONE, "hello")
    assert outcome == SendOutcome.permanent("webjs", SendCode.NOT_ON_WHATSAPP, "919876543210 is not on WhatsApp")
    assert outcome.reason == "not_on_whatsapp: 919876543210 is not on WhatsApp"  # the message's last error
    short = world.driver.send(SENDER, "+12", "hello")
    assert short == SendOutcome.permanent("webjs", SendCode.INVALID_RECIPIENT, "not a phone number: 12")


@pytest.mark.parametrize(
    ("answer", "kind", "code"),
    [
        (error(409, "not_connected", "session s1 is starting"), OutcomeKind.TRANSIENT, SendCode.NOT_CONNECTED),
        (
            error(503, "lookup_failed", "could not check the number: getNumberId() timed out"),
            OutcomeKind.TRANSIENT,
            SendCode.LOOKUP_FAILED,
        ),
        (error(429, "slow_down", "too many sends"), OutcomeKind.TRANSIENT, SendCode.BUSY),  # a code we do not know
        (error(400, "invalid_message", "media is not supported here"), OutcomeKind.PERMANENT, SendCode.INVALID_MESSAGE),
        (error(400, "bad_json", "the body is not JSON"), OutcomeKind.PERMANENT, SendCode.BAD_JSON),
        (error(413, "too_large", "the request body is too large"), OutcomeKind.PERMANENT, SendCode.TOO_LARGE),
        # sendMessage() itself failed, or timed out: the sidecar's code says where, ours says "may have gone"
        (error(502, "send_failed", "Evaluation failed: t"), OutcomeKind.UNKNOWN, SendCode.SEND_FAILED),
        (error(504, "timeout", "sendMessage() took longer than 25000 ms"), OutcomeKind.UNKNOWN, SendCode.SEND_FAILED),
        (error(500, "internal", "Cannot read properties of undefined"), OutcomeKind.UNKNOWN, SendCode.SEND_FAILED),
        (httpx.Response(200, json={}), OutcomeKind.UNKNOWN, SendCode.NO_ID),  # answered, without a message id
    ],
)
def test_sidecar_errors_are_classified(
    world: World, sidecar: FakeSidecar, answer: httpx.Response, kind: OutcomeKind, code: SendCode
) -> None:
    world.connected()
    sidecar.send_answer = answer
    outcome = world.driver.send(SENDER, PHONE, "hello")
    assert outcome.kind is kind and outcome.code is code and outcome.driver == "webjs"
    assert REASON.match(outcome.reason or "")


def test_a_failed_number_lookup_says_so(world: World, sidecar: FakeSidecar) -> None:
    world.connected()
    sidecar.send_answer = error(503, "lookup_failed", "could not check the number: getNumberId() timed out")
    outcome = world.driver.send(SENDER, PHONE, "hello")
    assert outcome.reason == "lookup_failed: could not check the number: getNumberId() timed out"


def test_a_wrong_secret_is_transient_and_says_so(world: World, sidecar: FakeSidecar) -> None:
    world.connected()
    sidecar.secret = "rotated"  # e.g. the sidecar restarted with another WEBJS_SECRET
    outcome = world.driver.send(SENDER, PHONE, "hello")
    assert outcome == SendOutcome.transient("webjs", SendCode.SIDECAR_AUTH, "missing or wrong X-Wacast-Secret")
    world.driver.start(SENDER)
    state, reason = world.events.states[-1]
    assert state is SenderState.DISCONNECTED and "401" in (reason or "") and "X-Wacast-Secret" in (reason or "")


def test_media_goes_to_the_sidecar_base64_encoded(sidecar: FakeSidecar) -> None:
    world = World(sidecar, media=StaticMedia(Media(data=b"\x89PNG", mimetype="image/png", filename="a.png")))
    world.connected()
    assert world.driver.send(SENDER, PHONE, "look", media_url="https://example.test/a.png").kind is OutcomeKind.SENT
    assert sidecar.sends[0]["media"] == {"data": "iVBORw==", "mimetype": "image/png", "filename": "a.png"}
    world.driver.media = StaticMedia(error=MediaUnavailable("HTTP 404", permanent=True))
    outcome = world.driver.send(SENDER, PHONE, "look", media_url="https://example.test/gone.png")
    assert outcome == SendOutcome.permanent("webjs", SendCode.MEDIA, "HTTP 404") and len(sidecar.sends) == 1


# -- the event feed ----------------------------------------------------------------------------------


def test_states_qr_codes_receipts_and_replies_become_callbacks(world: World, sidecar: FakeSidecar) -> None:
    world.driver.start(SENDER)
    sidecar.set_state("qr")
    sidecar.push({"session": "s1", "type": "qr", "qr": "2@abc,def"})
    sidecar.set_state("authenticated")
    sidecar.set_state("ready")
    sent = {"session": "s1", "type": "receipt", "id": "3EB0ABC", "to": "919876543210@c.us"}
    sidecar.push({**sent, "status": "DELIVERED"})
    sidecar.push({**sent, "status": "READ"})
    sidecar.push({**sent, "id": "3EB0DEF", "status": "READ", "to": "123456@lid"})  # no number behind a LID
    sidecar.push({"session": "s1", "type": "incoming", "from": "919876543210@c.us", "body": "STOP", "id": "IN1"})
    photo = {"session": "s1", "type": "incoming", "from": "919876543210@c.us", "body": "", "id": "IN2"}
    sidecar.push({**photo, "media": "image"})
    sidecar.push({"session": "other", "type": "state", "state": "ready", "error": None})  # not a sender here
    assert world.driver.poller.poll_once() == 11
    assert world.events.states == [(SenderState.LINKING, None), (SenderState.CONNECTED, None)]
    assert world.events.qrs == ["2@abc,def"]
    assert world.events.receipts == [
        (["3EB0ABC"], "DELIVERED", PHONE),
        (["3EB0ABC"], "READ", PHONE),
        (["3EB0DEF"], "READ", None),
    ]
    assert world.events.incoming == [(PHONE, "STOP"), (PHONE, "")]
    assert world.events.incoming_meta == [("IN1", None), ("IN2", "image")]
    assert world.driver.poller.poll_once() == 0  # each event is delivered once


@pytest.mark.parametrize(
    ("state", "error", "expected"),
    [
        ("disconnected", "disconnected: NAVIGATION", SenderState.DISCONNECTED),
        ("logged_out", "disconnected: LOGOUT", SenderState.LOGGED_OUT),
        ("failed", "auth_failure: bad session", SenderState.FAILED),
    ],
)
def test_a_lost_session_stops_sending(
    world: World, sidecar: FakeSidecar, state: str, error: str, expected: SenderState
) -> None:
    world.connected()
    sidecar.set_state(state, error)
    world.driver.poller.poll_once()
    assert world.events.states[-1] == (expected, error) and not world.driver.is_connected("s1")
    assert world.driver.send(SENDER, PHONE, "hello").kind is OutcomeKind.TRANSIENT and sidecar.sends == []


@pytest.mark.parametrize(
    ("state", "error", "kind"),
    [
        ("logged_out", "disconnected: LOGOUT", "logged_out"),
        ("disconnected", "disconnected: TOS_BLOCK", "temporary_ban"),
        ("disconnected", "disconnected: NAVIGATION", None),
    ],
)
def test_a_forced_logout_or_a_block_is_an_account_signal(
    world: World, sidecar: FakeSidecar, state: str, error: str, kind: str | None
) -> None:
    world.connected()
    sidecar.set_state(state, error)
    world.driver.poller.poll_once()
    assert [s.kind for s in world.events.signals] == ([kind] if kind else [])


def test_a_restarted_sidecar_is_read_from_its_first_event(world: World, sidecar: FakeSidecar) -> None:
    world.connected()  # the host's cursor is at the old sidecar's event 2
    sidecar.restart()
    assert world.driver.send(SENDER, PHONE, "hello").kind is OutcomeKind.TRANSIENT  # its session is gone: 409
    assert not world.driver.probe("s1", 5.0)  # and the supervisor's liveness probe sees it
    sidecar.set_state("starting")
    sidecar.set_state("qr")
    sidecar.push({"session": "s1", "type": "qr", "qr": "2@new"})
    assert world.driver.poller.poll_once() == 0  # a page of the new boot read with the old cursor
    assert world.driver.poller.poll_once() == 3
    assert sidecar.polled_after == [0, 2, 0]
    assert world.events.states[-1] == (SenderState.LINKING, None) and world.events.qrs == ["2@new"]


def test_the_feed_is_read_in_the_background_once_a_session_starts(sidecar: FakeSidecar) -> None:
    world = World(sidecar, background=True)
    try:
        world.driver.start(SENDER)
        sidecar.set_state("ready")
        assert wait_for(lambda: world.driver.is_connected("s1"))
        assert world.events.states == [(SenderState.CONNECTED, None)]
    finally:
        world.driver.stop()


# -- session status -------------------------------------------------------------------------------------


def test_is_connected_follows_the_sidecar(world: World, sidecar: FakeSidecar) -> None:
    assert not world.driver.is_connected("s1")
    world.connected()
    world.driver.close("s1")
    assert not world.driver.is_connected("s1") and sidecar.state == "stopped"


def test_probe_and_linked_ask_the_sidecar(world: World, sidecar: FakeSidecar) -> None:
    world.connected()
    assert world.driver.probe("s1", 5.0)
    sidecar.wa_state = "OPENING"  # ready in the sidecar, but the page is not connected to WhatsApp
    assert not world.driver.probe("s1", 5.0)
    sidecar.linked = False
    assert not world.driver.is_linked(SENDER)
    sidecar.unreachable = httpx.ConnectError
    assert not world.driver.probe("s1", 5.0)
    assert world.driver.is_linked(SENDER)  # cannot tell: a linked session is not given up for a hiccup


def test_a_pairing_code_reaches_the_user(world: World, sidecar: FakeSidecar) -> None:
    world.driver.start(SENDER)
    sidecar.set_state("qr")
    world.driver.request_pairing_code(SENDER, "+919800000001")
    assert world.events.codes == ["ABCD-EFGH"]
    assert json.loads(sidecar.requests[-1].content) == {"phone": "919800000001"}


def test_a_pairing_code_the_sidecar_refuses_is_reported(world: World, sidecar: FakeSidecar) -> None:
    world.driver.start(SENDER)  # still starting, not showing a QR code: the sidecar answers 503 not_linking
    world.driver.request_pairing_code(SENDER, "+919800000001")
    assert world.events.codes == []
    assert [(state, (reason or "").split(":")[0]) for state, reason in world.events.states] == [
        (SenderState.LINKING, "pair_failed")
    ]
