"""The neonize driver against a fake neonize client: events, errors and their classification."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from neonize.proto.Neonize_pb2 import (
    Connected,
    LoggedOut,
    Message,
    MessageInfo,
    MessageSource,
    Receipt,
    TemporaryBan,
)
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import AudioMessage as WAAudio
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import ImageMessage as WAImage
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import Message as WAMessage

from session_host.drivers.media import Media, MediaUnavailable
from session_host.drivers.neonize_driver import NeonizeConfig, NeonizeDriver
from session_host.drivers.neonize_errors import classify_send_error
from tests.fakes import T0, FakeClock, ManualTimers, Recorder, StaticMedia
from tests.neonize_fakes import FakeNeonizeClient, FakeNeonizeFactory, jid
from wacast.domain.outcomes import OutcomeKind, SendCode
from wacast.domain.senders import Sender, SenderState

SENDER = Sender(id="s1", account_id="a1", phone="+919800000001", drivers=["neonize"], created_at=T0)


class World:
    def __init__(self, tmp: Path, send_timeout: float = 2.0, media: StaticMedia | None = None) -> None:
        self.clock = FakeClock()
        self.timers = ManualTimers(self.clock)
        self.events = Recorder()
        self.factory = FakeNeonizeFactory()
        config = NeonizeConfig(store_root=str(tmp), connect_timeout=30, send_timeout=send_timeout, gate_wait=0.5)
        self.driver = NeonizeDriver(self.events, self.clock, self.timers, self.factory, config, media or StaticMedia())

    def start(self) -> FakeNeonizeClient:
        self.driver.start(SENDER)
        client = self.factory.clients[-1]
        assert client.connect_started.wait(2)
        return client

    def connected(self) -> FakeNeonizeClient:
        client = self.start()
        client.emit(Connected(status=True))
        return client


def wait_for(predicate: Any, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_one_sqlite_store_per_sender_under_the_session_store(world: World, tmp_path: Path) -> None:
    world.start()
    assert world.factory.stores == [str(tmp_path / "neonize" / "s1.sqlite3")]
    assert (tmp_path / "neonize").is_dir()


def test_qr_codes_are_passed_on_as_they_rotate(world: World) -> None:
    client = world.start()
    client.emit_qr("2@first,abc")
    client.emit_qr("2@second,abc")
    assert world.events.qrs == ["2@first,abc", "2@second,abc"]
    assert client.get_me_calls == 0  # linking: never get_me()


def test_connected_reports_connected_and_asks_get_me_only_after_connecting(world: World) -> None:
    client = world.connected()
    assert world.events.states == [(SenderState.CONNECTED, None)]
    assert client.get_me_calls == 1 and world.driver.is_connected("s1")


def test_a_different_linked_number_fails_the_session(world: World) -> None:
    client = world.start()
    client.own = "919899999999"
    client.emit(Connected(status=True))
    assert world.events.states[-1][0] is SenderState.FAILED
    assert "wrong_number: linked +919899999999" in (world.events.states[-1][1] or "")
    assert not world.driver.is_connected("s1")


def test_receipts_and_incoming_texts(world: World) -> None:
    client = world.connected()
    source = MessageSource(Chat=jid("919876543210"), Sender=jid("919876543210"), IsFromMe=False)
    client.emit(Receipt(MessageSource=source, MessageIDs=["3EB0A", "3EB0B"], Type=Receipt.READ))
    client.emit(Receipt(MessageSource=source, MessageIDs=["3EB0C"], Type=Receipt.DELIVERED))
    lid = MessageSource(Chat=jid("1234", "lid"), Sender=jid("1234", "lid"), RecipientAlt=jid("919811111111"))
    client.emit(Receipt(MessageSource=lid, MessageIDs=["3EB0D"], Type=Receipt.DELIVERED))
    mine = MessageSource(Chat=jid("919876543210"), IsFromMe=True)
    client.emit(Receipt(MessageSource=mine, MessageIDs=["3EB0E"], Type=Receipt.READ_SELF))
    assert world.events.receipts == [
        (["3EB0A", "3EB0B"], "READ", "+919876543210"),
        (["3EB0C"], "DELIVERED", "+919876543210"),
        (["3EB0D"], "DELIVERED", "+919811111111"),
    ]
    info = MessageInfo(MessageSource=source, ID="X1")
    client.emit(Message(Info=info, Message=WAMessage(conversation="STOP")))
    group = MessageInfo(MessageSource=MessageSource(Chat=jid("1203", "g.us"), Sender=jid("919876543210"), IsGroup=True))
    client.emit(Message(Info=group, Message=WAMessage(conversation="STOP")))
    assert world.events.incoming == [("+919876543210", "STOP")]
    assert world.events.incoming_meta == [("X1", None)]  # WhatsApp's id of the message: a reply is stored once


def test_media_replies_carry_their_kind_and_caption(world: World) -> None:
    client = world.connected()
    source = MessageSource(Chat=jid("919876543210"), Sender=jid("919876543210"), IsFromMe=False)
    photo = WAMessage(imageMessage=WAImage(caption="this one?"))
    client.emit(Message(Info=MessageInfo(MessageSource=source, ID="M1"), Message=photo))
    client.emit(Message(Info=MessageInfo(MessageSource=source, ID="M2"), Message=WAMessage(audioMessage=WAAudio())))
    client.emit(Message(Info=MessageInfo(MessageSource=source, ID="M3"), Message=WAMessage()))  # nothing in it
    assert world.events.incoming == [("+919876543210", "this one?"), ("+919876543210", "")]
    assert world.events.incoming_meta == [("M1", "image"), ("M2", "audio")]


def test_logged_out_ends_the_session_and_stops_the_client(world: World) -> None:
    client = world.connected()
    client.emit(LoggedOut(OnConnect=False, Reason=2))
    assert world.events.states[-1] == (SenderState.LOGGED_OUT, "logged_out: reason 2")
    assert client.stopped.wait(2) and not world.driver.is_connected("s1")


def test_a_temporary_ban_reports_its_code_and_expiry_to_the_governor(world: World) -> None:
    client = world.connected()
    client.emit(TemporaryBan(Code=TemporaryBan.SENT_TOO_MANY_SAME_MESSAGE, Expire=7200))
    (signal,) = world.events.signals
    assert (signal.kind, signal.code, signal.expires_in_seconds, signal.driver) == (
        "temporary_ban",
        104,
        7200,
        "neonize",
    )
    assert world.events.states[-1] == (SenderState.FAILED, "temporary_ban: code 104")


def test_a_forced_logout_is_an_account_signal_too(world: World) -> None:
    client = world.connected()
    client.emit(LoggedOut(OnConnect=True, Reason=2))
    assert [s.kind for s in world.events.signals] == ["logged_out"]


def test_a_connect_error_is_reported_at_once(world: World) -> None:
    world.factory.connect_error = "failed to dial whatsapp web websocket: no such host"
    world.driver.start(SENDER)
    assert wait_for(lambda: bool(world.events.states))
    assert world.events.states == [
        (SenderState.DISCONNECTED, "connect_failed: failed to dial whatsapp web websocket: no such host")
    ]


def test_a_connect_attempt_without_any_sign_of_life_is_given_up(world: World) -> None:
    client = world.start()  # blocks like a black-holed connection
    world.clock.advance(31)  # the watchdog fires
    assert world.events.states == [(SenderState.DISCONNECTED, "connect_timeout: no answer from WhatsApp within 30s")]
    assert client.stopped.wait(2)  # stopped off-thread
    assert world.driver.current("s1") is None and client.get_me_calls == 0


def test_a_send_returns_the_provider_id(world: World) -> None:
    client = world.connected()
    outcome = world.driver.send(SENDER, "+919876543210", "hello")
    assert outcome.kind is OutcomeKind.SENT and outcome.provider_message_id == "3EB00001"
    assert client.sends == [("919876543210", "hello")]


def test_a_number_not_on_whatsapp_is_permanent_and_nothing_is_sent(world: World) -> None:
    client = world.connected()
    client.registered["919876543210"] = False
    outcome = world.driver.send(SENDER, "+919876543210", "hello")
    assert outcome.kind is OutcomeKind.PERMANENT and outcome.code is SendCode.NOT_ON_WHATSAPP
    assert client.sends == []


def test_failures_before_the_send_are_transient(world: World) -> None:
    assert world.driver.send(SENDER, "+919876543210", "hi").kind is OutcomeKind.TRANSIENT  # no session
    client = world.connected()
    client.lookup_error = "info query timed out"
    assert world.driver.send(SENDER, "+919876543210", "hi").code is SendCode.LOOKUP_FAILED
    client.lookup_error = None
    client.send_error = "failed to get device list: info query timed out"
    assert world.driver.send(SENDER, "+919876543210", "hi").kind is OutcomeKind.TRANSIENT
    assert client.sends == []


def test_a_send_without_an_answer_in_time_is_unknown(tmp_path: Path) -> None:
    world = World(tmp_path, send_timeout=0.2)
    client = world.connected()
    client.send_blocks.set()
    outcome = world.driver.send(SENDER, "+919876543210", "hi")
    assert outcome.kind is OutcomeKind.UNKNOWN and outcome.code is SendCode.TIMEOUT


def test_a_session_whose_keepalives_fail_is_not_used_for_sending(world: World) -> None:
    from neonize.proto.Neonize_pb2 import KeepAliveRestored, KeepAliveTimeout

    client = world.connected()
    client.emit(KeepAliveTimeout(ErrorCount=2, LastSuccess=0))
    assert not world.driver.is_connected("s1")
    assert world.driver.send(SENDER, "+919876543210", "hi").kind is OutcomeKind.TRANSIENT
    client.emit(KeepAliveRestored())
    assert world.driver.is_connected("s1")


def test_media_is_fetched_before_anything_is_sent(tmp_path: Path) -> None:
    image = Media(data=b"\x89PNG...", mimetype="image/png", filename="a.png")
    world = World(tmp_path, media=StaticMedia(image))
    client = world.connected()
    outcome = world.driver.send(SENDER, "+919876543210", "look", media_url="https://example.test/a.png")
    assert outcome.kind is OutcomeKind.SENT and client.sends == [("919876543210", ("image", image.data, "look"))]
    broken = World(tmp_path, media=StaticMedia(error=MediaUnavailable("HTTP 404", permanent=True)))
    broken_client = broken.connected()
    assert broken.driver.send(SENDER, "+919876543210", "x", media_url="https://x.test/").kind is OutcomeKind.PERMANENT
    assert broken_client.sends == []


def test_a_closed_session_takes_no_calls(world: World) -> None:
    client = world.connected()
    world.driver.close("s1")
    assert world.driver.send(SENDER, "+919876543210", "hi").kind is OutcomeKind.TRANSIENT
    assert client.stopped.wait(2) and client.sends == []


def test_pairing_code_for_a_session_waiting_to_be_linked(world: World) -> None:
    client = world.start()
    client.emit_qr("2@abc")
    world.driver.request_pairing_code(SENDER, "+919800000001")
    assert client.pair_codes == ["919800000001"] and world.events.codes == ["ABCD-EFGH"]


@pytest.mark.parametrize(
    ("error", "kind", "code"),
    [
        ("client is nil", OutcomeKind.TRANSIENT, SendCode.NOT_CONNECTED),
        ("failed to send message node: websocket not connected", OutcomeKind.TRANSIENT, SendCode.NOT_CONNECTED),
        ("the store doesn't contain a device JID", OutcomeKind.TRANSIENT, SendCode.NOT_LOGGED_IN),
        ("failed to get device list: info query timed out", OutcomeKind.TRANSIENT, SendCode.DEVICE_LIST),
        ("message recipient must be a user JID with no device part", OutcomeKind.PERMANENT, SendCode.INVALID_RECIPIENT),
        ("can't send message to unknown server broadcast", OutcomeKind.PERMANENT, SendCode.INVALID_RECIPIENT),
        ("server returned error 463", OutcomeKind.PERMANENT, SendCode.REFUSED),
        ("failed to send message node: write tcp: broken pipe", OutcomeKind.UNKNOWN, SendCode.SOCKET_WRITE),
        ("timed out waiting for message send response", OutcomeKind.UNKNOWN, SendCode.SEND_ERROR),
        ("websocket disconnected before message send returned response", OutcomeKind.UNKNOWN, SendCode.SEND_ERROR),
        ("context deadline exceeded", OutcomeKind.UNKNOWN, SendCode.SEND_ERROR),
        ("something nobody has seen before", OutcomeKind.UNKNOWN, SendCode.SEND_ERROR),
    ],
)
def test_send_errors_are_classified(error: str, kind: OutcomeKind, code: SendCode) -> None:
    outcome = classify_send_error(error)
    assert outcome.kind is kind and outcome.code is code and outcome.driver == "neonize"
    assert outcome.reason == f"{code.value}: {error}"  # what the message's last error shows


def test_a_send_error_from_neonize_is_classified_through_the_driver(world: World) -> None:
    client = world.connected()
    client.send_error = "timed out waiting for message send response"
    assert world.driver.send(SENDER, "+919876543210", "hi").kind is OutcomeKind.UNKNOWN
