"""Receives the sidecar's events (session states, QR codes, acks as receipts, incoming messages) by
long-polling `GET /events?after=<cursor>`. The sidecar keeps a bounded buffer; a cursor that fell off
its end is reported as dropped events, and a restarted sidecar (new boot id) starts over at 0."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import httpx

from wacast.domain.events import ReceiptStatus
from wacast.observability import logger

if TYPE_CHECKING:
    from session_host.drivers.webjs import WebjsDriver

#: The sidecar's receipt statuses (it maps whatsapp-web.js acks to these already).
_RECEIPT_STATUS: dict[str, ReceiptStatus] = {"DELIVERED": "DELIVERED", "READ": "READ"}


class WebjsEventPoller:
    """One thread per driver, started with the first session, bounded by the long-poll wait."""

    def __init__(self, http: httpx.Client, driver: WebjsDriver, wait_seconds: int = 20) -> None:
        self.http = http
        self.driver = driver
        self.wait_seconds = wait_seconds
        self.cursor = 0
        self.boot: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def ensure_running(self) -> None:
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._loop, name="webjs-events", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.wait_seconds + 5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except httpx.HTTPError as exc:
                logger.warning("webjs events unavailable; retrying", error=type(exc).__name__)
                self._stop.wait(2.0)
            except Exception:
                logger.exception("webjs events failed; retrying")
                self._stop.wait(2.0)

    def poll_once(self) -> int:
        """Fetch and dispatch one page of events; returns how many were dispatched."""
        response = self.http.get(
            "/events",
            params={"after": str(self.cursor), "wait": str(self.wait_seconds)},
            timeout=httpx.Timeout(self.wait_seconds + 10.0, connect=3.0),
        )
        response.raise_for_status()
        page: dict[str, Any] = response.json()
        boot = page.get("boot")
        if self.boot is not None and boot != self.boot and self.cursor:
            logger.warning("the webjs sidecar restarted; reading its events from the start")
            self.boot, self.cursor = boot, 0
            return 0
        self.boot = boot
        if page.get("dropped"):
            logger.warning("webjs events were dropped before they were read", dropped=page["dropped"])
        events = page.get("events", [])
        for event in events:
            self.dispatch(event)
        self.cursor = int(page.get("next", self.cursor))
        return len(events)

    def dispatch(self, event: dict[str, Any]) -> None:
        driver = self.driver
        sender = driver.sender_of(str(event.get("session", "")))
        kind = event.get("type")
        if sender is None:
            return
        now = driver.clock.now()
        if kind == "state":
            driver.report(sender.id, str(event.get("state")), event.get("error"))
        elif kind == "qr" and event.get("qr"):
            driver.events.on_qr(sender, str(event["qr"]), now)
        elif kind == "receipt" and (status := _RECEIPT_STATUS.get(str(event.get("status")))) and event.get("id"):
            driver.events.on_receipt(sender, [str(event["id"])], status, _phone(event.get("to")), now)
        elif kind == "incoming" and event.get("from") and (event.get("body") or event.get("media")):
            sender_phone = _phone(event.get("from"))
            if sender_phone:
                driver.events.on_incoming(
                    sender,
                    sender_phone,
                    str(event.get("body") or ""),
                    now,
                    provider_id=str(event["id"]) if event.get("id") else None,
                    media_type=str(event["media"]) if event.get("media") else None,
                )


def _phone(wid: Any) -> str | None:
    """'919876543210@c.us' -> '+919876543210' (other ids, e.g. groups or LIDs, carry no number)."""
    text = str(wid or "")
    user, _, server = text.partition("@")
    return f"+{user}" if server == "c.us" and user.isdigit() else None
