"""One sender's neonize session: its client, the thread `connect()` blocks in, and the gate every other
call goes through. neonize's `connect()` blocks for the life of the session, and its `stop()` can
block for a minute on a black-holed connection, so both run off the caller's thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from session_host.drivers.neonize_client import CallGate, NeonizeClient
from wacast.domain.senders import Sender
from wacast.observability import logger

T = TypeVar("T")


@dataclass
class Bounded:
    """The result of a call made with a time bound."""

    kind: str  # "ok", "error", "timeout" (still running: it may yet complete) or "closed" (never called)
    value: Any = None
    error: BaseException | None = None


@dataclass
class NeonizeSession:
    sender: Sender
    client: NeonizeClient
    generation: int
    gate: CallGate = field(default_factory=CallGate)
    #: Set by the first sign of life: a QR code, a connection, a pairing result, or connect() returning.
    signalled: threading.Event = field(default_factory=threading.Event)
    connected: bool = False
    #: Keep-alive pings fail: the connection may be dead even though nothing said so yet.
    suspect: bool = False
    #: Over: ended by itself, or closed by us. Its events are ignored from then on.
    ended: bool = False
    #: Closed on purpose (stop, logout, close): no "disconnected" is reported for it.
    closing: bool = False
    own_phone: str | None = None

    def call(self, fn: Callable[[NeonizeClient], T], timeout: float) -> Bounded:
        """Run `fn(client)` through the gate on a worker thread, waiting at most `timeout` seconds."""
        if not self.gate.enter():
            return Bounded("closed")
        result = Bounded("timeout")
        done = threading.Event()

        def run() -> None:
            try:
                value = fn(self.client)
                result.kind, result.value = "ok", value
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                result.kind, result.error = "error", exc
            finally:
                self.gate.leave()
                done.set()

        threading.Thread(target=run, name=f"neonize-call-{self.sender.id}", daemon=True).start()
        done.wait(timeout)
        return result if done.is_set() else Bounded("timeout")

    def shut(self, gate_wait: float) -> None:
        """Refuse new calls and stop the client, off the caller's thread (stop may block for a minute)."""
        self.ended = True
        self.connected = False

        def stop() -> None:
            self.gate.close(gate_wait)
            try:
                self.client.stop()
            except Exception:
                logger.exception("neonize stop failed", sender_id=self.sender.id)

        threading.Thread(target=stop, name=f"neonize-stop-{self.sender.id}", daemon=True).start()
