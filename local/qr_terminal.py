"""The QR code in the terminal: `make run DRIVER=neonize` watches the sender items the session host writes
(DynamoDB, through moto) and prints each new QR code (segno, half-block characters), each new pairing code,
and each change of a sender's state, once.

The API serves the same QR codes (GET /api/senders/{id}/qr, qr.png, qr.svg); this only saves a user the
trip to a browser while linking a phone to the local stack.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import segno

#: The sender items: the host lists them the same way (SenderModel.all_senders).
SENDERS_INDEX, SENDERS_KEY = "gsi1", "SENDERS"


@dataclass(frozen=True)
class SenderView:
    """What the terminal shows of a sender item."""

    id: str
    phone: str | None = None
    state: str = "new"
    last_error: str | None = None
    qr: str | None = None
    pairing_code: str | None = None

    @property
    def label(self) -> str:
        return f"sender {self.id} ({self.phone or 'no number'})"


def sender_view(item: Mapping[str, Any]) -> SenderView:
    """A sender from a raw DynamoDB item (`{"id": {"S": ...}, ...}`)."""

    def text(name: str) -> str | None:
        value = item.get(name)
        return str(value["S"]) if isinstance(value, Mapping) and "S" in value else None

    return SenderView(
        id=text("id") or "?",
        phone=text("phone"),
        state=text("state") or "new",
        last_error=text("last_error"),
        qr=text("qr"),
        pairing_code=text("pairing_code"),
    )


def render_qr(text: str) -> str:
    """The QR code of `text` as terminal text, two modules per character (a normal QR, never a micro one)."""
    out = io.StringIO()
    segno.make(text, micro=False).terminal(out=out, compact=True)
    return out.getvalue()


def _stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


class QrPrinter:
    """Prints what changed since the last look: a new QR code, a new pairing code, a new state."""

    def __init__(self, write: Callable[[str], None] = _stdout, render: Callable[[str], str] = render_qr) -> None:
        self.write = write
        self.render = render
        self._qr: dict[str, str] = {}
        self._code: dict[str, str] = {}
        self._state: dict[str, tuple[str, str | None]] = {}

    def update(self, senders: Iterable[SenderView]) -> None:
        for sender in senders:
            self._show_state(sender)
            if sender.qr and self._qr.get(sender.id) != sender.qr:
                self._qr[sender.id] = sender.qr
                self.write(
                    f"\n{sender.label}: scan this QR code with WhatsApp on that phone "
                    "(Settings > Linked devices > Link a device).\n"
                    "It is replaced every ~20 s while linking; each new one prints here.\n"
                    f"{self.render(sender.qr)}"
                )
            if sender.pairing_code and self._code.get(sender.id) != sender.pairing_code:
                self._code[sender.id] = sender.pairing_code
                self.write(
                    f"\n{sender.label}: pairing code {sender.pairing_code}\n"
                    "  on the phone: Settings > Linked devices > Link a device > Link with phone number instead\n"
                )

    def _show_state(self, sender: SenderView) -> None:
        state = (sender.state, sender.last_error)
        if self._state.get(sender.id) == state:
            return
        self._state[sender.id] = state
        detail = f" ({sender.last_error})" if sender.last_error else ""
        self.write(f"{sender.label}: {sender.state}{detail}\n")


def dynamodb_senders(client: Any, table: str) -> Callable[[], list[SenderView]]:
    """Every sender of the table, read through the host's own index (local tooling: no account scope)."""

    def read() -> list[SenderView]:
        pages = client.get_paginator("query").paginate(
            TableName=table,
            IndexName=SENDERS_INDEX,
            KeyConditionExpression="gsi1pk = :senders",
            ExpressionAttributeValues={":senders": {"S": SENDERS_KEY}},
        )
        return [sender_view(item) for page in pages for item in page.get("Items", [])]

    return read


class SenderWatcher:
    """Looks at the senders every `interval` seconds, on a daemon thread, and feeds the printer."""

    def __init__(self, read: Callable[[], list[SenderView]], printer: QrPrinter, interval: float = 1.0) -> None:
        self.read = read
        self.printer = printer
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="qr-terminal", daemon=True)
        self._failing = False

    def start(self) -> SenderWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def look(self) -> None:
        """One look (the loop's body)."""
        try:
            senders = self.read()
        except Exception as exc:  # moto going away on stop, or a hiccup: say it once, keep looking
            if not self._failing and not self._stop.is_set():
                self.printer.write(f"(cannot read the senders for the terminal QR codes: {exc})\n")
            self._failing = True
            return
        self._failing = False
        self.printer.update(senders)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.look()
            self._stop.wait(self.interval)
