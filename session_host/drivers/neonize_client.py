"""The seam in front of neonize: the part of `neonize.client.NewClient` the driver uses, a factory
that makes real clients, and where each sender's session store lives.

Tests pass a fake factory; production passes `RealNeonizeFactory`, which imports neonize (and its Go
library) only when it is built.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol


class MediaUploadFailed(Exception):
    """neonize could not upload the media of a message: raised before the message itself is sent."""


class NeonizeEvents(Protocol):
    """`client.event`: `event.qr(fn)` sets the QR callback; `event(EventType)(fn)` subscribes."""

    def qr(self, f: Callable[[Any, bytes], None]) -> None: ...

    def __call__(self, event: type[Any]) -> Callable[[Callable[[Any, Any], None]], None]: ...


class NeonizeClient(Protocol):
    """What the driver calls on a neonize client. Every call but `connect` and `stop` goes through the
    session's CallGate: a call into a stopped (or not yet started) Go client can crash the process."""

    event: NeonizeEvents

    def connect(self, proxy: str | None = None) -> None:
        """Blocks for the whole life of the session; raises NeonizeError when it cannot connect."""
        ...

    def stop(self) -> None: ...

    def send_message(self, to: Any, message: Any) -> Any: ...

    def send_image(self, to: Any, file: bytes, caption: str | None = None) -> Any:
        """Uploads (raising MediaUploadFailed, nothing sent), then sends."""
        ...

    def send_document(self, to: Any, file: bytes, caption: str | None = None, filename: str | None = None) -> Any:
        """Uploads (raising MediaUploadFailed, nothing sent), then sends."""
        ...

    def is_on_whatsapp(self, *numbers: str) -> Any: ...

    def pair_phone(self, phone: str) -> str: ...

    def logout(self) -> None: ...

    def get_me(self) -> Any:
        """Never before the client is connected: neonize dereferences a nil Go pointer (SIGSEGV)."""
        ...

    @property
    def is_connected(self) -> bool: ...


class NeonizeFactory(Protocol):
    def new_client(self, store: str, uuid: str, device_user: str | None) -> NeonizeClient:
        """A client on `store` (a SQLite path or a postgres:// URL). `device_user` resumes the stored
        device of that number (shared postgres stores); None resumes the store's only device."""
        ...

    def linked_users(self, store: str) -> list[str]:
        """The numbers (JID users) of the devices stored in `store`: empty when nothing is linked."""
        ...


def store_for(root: str, sender_id: str) -> str:
    """A sender's neonize session store: one SQLite file per sender under `root` (EFS on AWS), or the
    shared postgres database when `root` is a postgres:// URL."""
    if root.startswith(("postgres://", "postgresql://")):
        return root
    return str(Path(root, "neonize", f"{sender_id}.sqlite3"))


def prepare_store(store: str) -> None:
    """Create the store's folder (owner-only). neonize panics the whole process when it cannot open it."""
    if store.startswith(("postgres://", "postgresql://")):
        return
    folder = Path(store).parent
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"the session store {folder} is not writable")


class CallGate:
    """Lets calls into one Go client through until the session closes, then lets none through.

    `close` waits (bounded) for calls in flight: a call that has run longer than the bound has long
    since looked its client up, so stopping the client after that cannot pull it from under the call.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0
        self._closed = False

    def enter(self) -> bool:
        with self._cond:
            if self._closed:
                return False
            self._active += 1
            return True

    def leave(self) -> None:
        with self._cond:
            self._active -= 1
            self._cond.notify_all()

    def close(self, wait_seconds: float) -> bool:
        """Refuse new calls; True when no call was still in flight after `wait_seconds`."""
        deadline = time.monotonic() + wait_seconds
        with self._cond:
            self._closed = True
            while self._active and (left := deadline - time.monotonic()) > 0:
                self._cond.wait(left)
            return self._active == 0

    @property
    def closed(self) -> bool:
        return self._closed


class RealNeonizeFactory:
    """Real neonize clients (the Go library ships in the wheel and needs libmagic)."""

    def new_client(self, store: str, uuid: str, device_user: str | None) -> NeonizeClient:
        from neonize.client import NewClient

        return _RealClient(NewClient(store, jid=self._device_jid(store, device_user), uuid=uuid))

    def linked_users(self, store: str) -> list[str]:
        from neonize.client import ClientFactory

        if not store.startswith(("postgres://", "postgresql://")) and not Path(store).exists():
            return []
        return [str(d.JID.User).split(":", 1)[0] for d in ClientFactory.get_all_devices_from_db(store)]

    def _device_jid(self, store: str, device_user: str | None) -> Any:
        if device_user is None:
            return None
        from neonize.client import ClientFactory

        devices = ClientFactory.get_all_devices_from_db(store)
        return next((d.JID for d in devices if str(d.JID.User).split(":", 1)[0] == device_user), None)


class _RealClient:
    """Adapts neonize's NewClient to NeonizeClient (proxy as a URL, pairing with a push notification)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.event = client.event

    def connect(self, proxy: str | None = None) -> None:
        if proxy:
            from neonize._binder import ProxySettings

            self._client.connect(ProxySettings(proxy_address=proxy))
        else:
            self._client.connect()

    def stop(self) -> None:
        self._client.stop()

    def send_message(self, to: Any, message: Any) -> Any:
        return self._client.send_message(to, message)

    def send_image(self, to: Any, file: bytes, caption: str | None = None) -> Any:
        from neonize.exc import UploadError

        try:
            message = self._client.build_image_message(file, caption=caption)
        except UploadError as exc:
            raise MediaUploadFailed(str(exc)) from exc
        return self._client.send_message(to, message)

    def send_document(self, to: Any, file: bytes, caption: str | None = None, filename: str | None = None) -> Any:
        from neonize.exc import UploadError

        try:
            message = self._client.build_document_message(file, caption=caption, filename=filename)
        except UploadError as exc:
            raise MediaUploadFailed(str(exc)) from exc
        return self._client.send_message(to, message)

    def is_on_whatsapp(self, *numbers: str) -> Any:
        return self._client.is_on_whatsapp(*numbers)

    def pair_phone(self, phone: str) -> str:
        return str(self._client.PairPhone(phone, True))

    def logout(self) -> None:
        self._client.logout()

    def get_me(self) -> Any:
        return self._client.get_me()

    @property
    def is_connected(self) -> bool:
        return bool(self._client.is_connected)
