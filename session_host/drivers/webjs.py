"""The whatsapp-web.js driver: the host's client of the Node sidecar on 127.0.0.1:3001.

Every request carries the shared secret. Send errors are classified like neonize's: a request that
never reached the sidecar (connection refused, connect timeout) or that the sidecar refused before
calling WhatsApp is "not sent"; a timeout or a failure after the request was sent is UNKNOWN.
Receipts, incoming messages and session states come from the sidecar's event buffer, long-polled
with a cursor (see WebjsEventPoller).
"""

from __future__ import annotations

import base64
import threading
from typing import Any

import httpx

from session_host.drivers.base import DriverEvents
from session_host.drivers.media import HttpMediaFetcher, MediaFetcher, MediaUnavailable
from session_host.drivers.webjs_events import WebjsEventPoller
from wacast.domain.governor import AccountSignal
from wacast.domain.outcomes import SendCode, SendOutcome
from wacast.domain.senders import Sender, SenderState
from wacast.observability import logger
from wacast.ports import Clock
from wacast.settings import session_host_default

NAME = "webjs"
SECRET_HEADER = "X-Wacast-Secret"
# The sidecar answers these before calling WhatsApp: definitely not sent. The code is the sidecar's own
# when it gives one we know (409 not_connected, 503 lookup_failed, 400 invalid_message...), else this one.
_NOT_SENT = {
    409: SendCode.NOT_CONNECTED,
    503: SendCode.NOT_CONNECTED,
    429: SendCode.BUSY,
    401: SendCode.SIDECAR_AUTH,  # the sidecar's own code for it, "unauthorized", is not a send code
}
_PERMANENT = {400: SendCode.INVALID_RECIPIENT, 422: SendCode.NOT_ON_WHATSAPP, 413: SendCode.INVALID_MESSAGE}


class WebjsDriver:
    """A Driver (and SessionDriver) over the whatsapp-web.js sidecar."""

    name = NAME

    def __init__(
        self,
        events: DriverEvents,
        clock: Clock,
        base_url: str,
        secret: str,
        *,
        send_timeout: float = session_host_default("send_timeout_seconds"),
        http: httpx.Client | None = None,
        media: MediaFetcher | None = None,
        poll_wait_seconds: int = 20,
    ) -> None:
        self.events = events
        self.clock = clock
        self.send_timeout = send_timeout
        self.http = http or httpx.Client(
            base_url=base_url, headers={SECRET_HEADER: secret}, timeout=httpx.Timeout(10.0, connect=3.0)
        )
        self.media = media or HttpMediaFetcher()
        self._senders: dict[str, Sender] = {}
        self._connected: dict[str, bool] = {}
        self._lock = threading.Lock()
        self.poller = WebjsEventPoller(self.http, self, wait_seconds=poll_wait_seconds)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, sender: Sender) -> None:
        with self._lock:
            self._senders[sender.id] = sender
        self.poller.ensure_running()
        try:
            self._post(f"/sessions/{sender.id}/start", {})
        except (httpx.HTTPError, SidecarRefused) as exc:
            self.report(sender.id, "disconnected", f"sidecar_unreachable: {_describe(exc)}")

    def close(self, sender_id: str) -> None:
        self._connected[sender_id] = False
        try:
            self._post(f"/sessions/{sender_id}/stop", {})
        except (httpx.HTTPError, SidecarRefused) as exc:
            logger.warning("webjs stop failed", sender_id=sender_id, error=_describe(exc))

    def stop(self) -> None:
        self.poller.stop()

    def is_connected(self, sender_id: str) -> bool:
        return self._connected.get(sender_id, False)

    def is_linked(self, sender: Sender) -> bool:
        try:
            return bool(self._get(f"/sessions/{sender.id}/status").get("linked", False))
        except (httpx.HTTPError, SidecarRefused):
            return True  # cannot tell: a linked session must not be given up for a sidecar hiccup

    def probe(self, sender_id: str, timeout: float) -> bool:
        try:
            status = self._get(f"/sessions/{sender_id}/status", params={"probe": "1"}, timeout=timeout)
        except (httpx.HTTPError, SidecarRefused):
            return False
        return status.get("state") == "ready" and status.get("waState") == "CONNECTED"

    # -- sending ----------------------------------------------------------------------------------

    def send(self, sender: Sender, phone: str, body: str, media_url: str | None = None) -> SendOutcome:
        if not self.is_connected(sender.id):
            return SendOutcome.transient(NAME, SendCode.NOT_CONNECTED, "the webjs session is not connected")
        payload: dict[str, Any] = {"to": phone.lstrip("+"), "body": body}
        if media_url:
            try:
                media = self.media.fetch(media_url)
            except MediaUnavailable as exc:
                kind = SendOutcome.permanent if exc.permanent else SendOutcome.transient
                return kind(NAME, SendCode.MEDIA, exc.reason)
            data = base64.b64encode(media.data).decode()
            payload["media"] = {"data": data, "mimetype": media.mimetype, "filename": media.filename}
        try:
            response = self.http.post(
                f"/sessions/{sender.id}/send", json=payload, timeout=httpx.Timeout(self.send_timeout, connect=3.0)
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:  # nothing was written
            return SendOutcome.transient(NAME, SendCode.SIDECAR_UNREACHABLE, _describe(exc))
        except httpx.HTTPError as exc:  # the request went out: WhatsApp may have it
            return SendOutcome.unknown(NAME, SendCode.TIMEOUT, _describe(exc))
        return classify_response(response)

    # -- linking and logging out ------------------------------------------------------------------

    def request_pairing_code(self, sender: Sender, phone: str) -> None:
        try:
            code = self._post(f"/sessions/{sender.id}/pairing-code", {"phone": phone.lstrip("+")}).get("code")
        except (httpx.HTTPError, SidecarRefused) as exc:
            self.report(sender.id, "linking", f"pair_failed: {_describe(exc)}")
            return
        if code:
            self.events.on_pairing_code(sender, str(code), self.clock.now())

    def logout(self, sender: Sender) -> None:
        self._senders.setdefault(sender.id, sender)
        try:
            self._post(f"/sessions/{sender.id}/logout", {})
        except (httpx.HTTPError, SidecarRefused) as exc:
            logger.warning("webjs logout failed", sender_id=sender.id, error=_describe(exc))
        self._connected[sender.id] = False
        self.events.on_state(sender, SenderState.LOGGED_OUT, None, self.clock.now())

    def forget(self, sender: Sender) -> None:
        try:
            self._post(f"/sessions/{sender.id}/forget", {})
        except (httpx.HTTPError, SidecarRefused) as exc:
            logger.warning("webjs forget failed", sender_id=sender.id, error=_describe(exc))
        with self._lock:
            self._senders.pop(sender.id, None)
            self._connected.pop(sender.id, None)

    # -- events from the sidecar ------------------------------------------------------------------

    def sender_of(self, sender_id: str) -> Sender | None:
        return self._senders.get(sender_id)

    def report(self, sender_id: str, state: str, error: str | None) -> None:
        """A session state from the sidecar (ready, qr, disconnected, logged_out, failed...)."""
        sender = self.sender_of(sender_id)
        mapped = SIDECAR_STATES.get(state)
        if sender is None or mapped is None:
            return
        self._connected[sender_id] = mapped is SenderState.CONNECTED
        signal = account_signal_of(error)
        if signal is not None:
            self.events.on_account_signal(sender, signal, self.clock.now())
        self.events.on_state(sender, mapped, error, self.clock.now())

    # -- http ---------------------------------------------------------------------------------------

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return _json(self.http.post(path, json=body))

    def _get(self, path: str, params: dict[str, str] | None = None, timeout: float | None = None) -> dict[str, Any]:
        return _json(self.http.get(path, params=params, timeout=timeout or httpx.USE_CLIENT_DEFAULT))


#: whatsapp-web.js's `disconnected` reasons that say something about the account (the sidecar reports
#: them as "disconnected: <reason>"; a logout the host asked for reports no reason).
_LOGGED_OUT_REASONS = frozenset({"LOGOUT", "UNPAIRED", "UNPAIRED_IDLE"})
_BANNED_REASONS = frozenset({"TOS_BLOCK", "SMB_TOS_BLOCK"})


def account_signal_of(error: str | None) -> AccountSignal | None:
    """A forced logout or a block, from the error of a sidecar state; None for anything else."""
    reason = (error or "").removeprefix("disconnected: ").strip() if (error or "").startswith("disconnected: ") else ""
    if reason in _LOGGED_OUT_REASONS:
        return AccountSignal(kind="logged_out", driver="webjs", detail=f"logged out by WhatsApp ({reason})")
    if reason in _BANNED_REASONS:
        return AccountSignal(kind="temporary_ban", driver="webjs", detail=f"WhatsApp blocked the number ({reason})")
    return None


#: The sidecar's session states (starting, authenticated and stopped say nothing the host acts on).
SIDECAR_STATES = {
    "linking": SenderState.LINKING,  # the host's own report: a pairing request failed while linking
    "qr": SenderState.LINKING,
    "ready": SenderState.CONNECTED,
    "disconnected": SenderState.DISCONNECTED,
    "logged_out": SenderState.LOGGED_OUT,
    "failed": SenderState.FAILED,
}


class SidecarRefused(Exception):
    """The sidecar answered with an error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code


def classify_response(response: httpx.Response) -> SendOutcome:
    """The sidecar's answer to a send: its status code says where the failure happened."""
    if response.status_code == 200:
        provider_id = response.json().get("id")
        if provider_id:
            return SendOutcome.sent(NAME, str(provider_id))
        return SendOutcome.unknown(NAME, SendCode.NO_ID, "the sidecar answered without a message id")
    status, error, sidecar_code = response.status_code, _error_of(response), _error_code_of(response)
    if status in _NOT_SENT:
        return SendOutcome.transient(NAME, sidecar_code or _NOT_SENT[status], error)
    if status in _PERMANENT:
        return SendOutcome.permanent(NAME, sidecar_code or _PERMANENT[status], error)
    return SendOutcome.unknown(NAME, SendCode.SEND_FAILED, f"HTTP {status} {error}")


def _error_of(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", {}).get("message", ""))[:300]
    except ValueError:
        return response.text[:300]


def _error_code_of(response: httpx.Response) -> SendCode | None:
    """The sidecar's own error code (`lookup_failed`, `invalid_message`...), when it is a send code."""
    try:
        return SendCode(response.json().get("error", {}).get("code"))
    except (ValueError, AttributeError):
        return None


def _json(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        raise SidecarRefused(response.status_code, "error", _error_of(response))
    body = response.json()
    return body if isinstance(body, dict) else {}


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]
