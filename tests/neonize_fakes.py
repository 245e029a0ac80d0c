"""A fake neonize client (the third-party edge): real neonize event objects, scripted answers, and the
crash rules of the real one turned into test failures."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from neonize.exc import SendMessageError
from neonize.proto.Neonize_pb2 import JID, Device, IsOnWhatsAppResponse, SendResponse


def jid(user: str, server: str = "s.whatsapp.net") -> JID:
    return JID(User=user, Server=server, Device=0, RawAgent=0, Integrator=0, IsEmpty=False)


class FakeEvents:
    def __init__(self) -> None:
        self.handlers: dict[type[Any], Callable[[Any, Any], None]] = {}
        self.qr_handler: Callable[[Any, bytes], None] | None = None

    def qr(self, f: Callable[[Any, bytes], None]) -> None:
        self.qr_handler = f

    def __call__(self, event: type[Any]) -> Callable[[Callable[[Any, Any], None]], None]:
        return lambda f: self.handlers.__setitem__(event, f)


class FakeNeonizeClient:
    def __init__(self, own: str = "919800000001") -> None:
        self.event = FakeEvents()
        self.own = own
        self.connect_error: str | None = None
        self.connect_started = threading.Event()
        self.stopped = threading.Event()
        self.connected_flag = False
        self.get_me_calls = 0
        self.registered: dict[str, bool] = {}
        self.sends: list[tuple[str, Any]] = []
        self.send_error: str | None = None
        self.send_blocks = threading.Event()  # set: sends block (a send WhatsApp never answers)
        self.lookup_error: str | None = None
        self.pair_codes: list[str] = []

    # -- the API the driver uses --
    def connect(self, proxy: str | None = None) -> None:
        self.connect_started.set()
        if self.connect_error:
            raise RuntimeError(self.connect_error)
        self.stopped.wait(10)

    def stop(self) -> None:
        self.connected_flag = False
        self.stopped.set()

    def get_me(self) -> Any:
        self.get_me_calls += 1
        if not self.connected_flag:
            raise AssertionError("get_me() before the client connected: real neonize would SIGSEGV")
        return Device(JID=jid(self.own))

    @property
    def is_connected(self) -> bool:
        return self.connected_flag

    def is_on_whatsapp(self, *numbers: str) -> list[Any]:
        if self.lookup_error:
            raise RuntimeError(self.lookup_error)
        return [IsOnWhatsAppResponse(Query=n, JID=jid(n), IsIn=self.registered.get(n, True)) for n in numbers]

    def send_message(self, to: Any, message: Any) -> Any:
        return self._send(to, message)

    def send_image(self, to: Any, file: bytes, caption: str | None = None) -> Any:
        return self._send(to, ("image", file, caption))

    def send_document(self, to: Any, file: bytes, caption: str | None = None, filename: str | None = None) -> Any:
        return self._send(to, ("document", file, caption, filename))

    def _send(self, to: Any, content: Any) -> Any:
        if self.send_blocks.is_set():
            self.stopped.wait(5)
        if self.send_error:
            raise SendMessageError(self.send_error)
        self.sends.append((str(to.User), content))
        return SendResponse(ID=f"3EB0{len(self.sends):04d}")

    def pair_phone(self, phone: str) -> str:
        self.pair_codes.append(phone)
        return "ABCD-EFGH"

    def logout(self) -> None:
        self.connected_flag = False

    # -- what WhatsApp does --
    def emit(self, event: Any) -> None:
        if type(event).__name__ == "Connected":
            self.connected_flag = True  # neonize sets this before calling the handler
        self.event.handlers[type(event)](self, event)

    def emit_qr(self, code: str) -> None:
        assert self.event.qr_handler is not None
        self.event.qr_handler(self, code.encode())


class FakeNeonizeFactory:
    def __init__(self, linked: bool = True) -> None:
        self.clients: list[FakeNeonizeClient] = []
        self.stores: list[str] = []
        self.linked = linked
        self.connect_error: str | None = None

    def new_client(self, store: str, uuid: str, device_user: str | None) -> FakeNeonizeClient:
        client = FakeNeonizeClient()
        client.connect_error = self.connect_error
        self.clients.append(client)
        self.stores.append(store)
        return client

    def linked_users(self, store: str) -> list[str]:
        return ["919800000001"] if self.linked else []
