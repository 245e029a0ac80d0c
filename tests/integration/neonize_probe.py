"""Runs the neonize driver with the real neonize client in its own process (a Go crash would end
only this process) against a proxy on 127.0.0.1: refused (`refused`) or one that accepts and never
answers, like a black-holed connection (`blackhole`). Prints one JSON line with what happened."""

from __future__ import annotations

import json
import socket
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from typing import Any


def main(mode: str) -> None:
    held: list[socket.socket] = []
    if mode == "refused":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]  # closed again: connections to it are refused
    else:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        threading.Thread(target=lambda: held.append(listener.accept()[0]), daemon=True).start()

    from session_host.drivers.neonize_client import RealNeonizeFactory
    from session_host.drivers.neonize_driver import NeonizeConfig, NeonizeDriver
    from session_host.timers import ThreadTimers
    from wacast.adapters.clock import SystemClock
    from wacast.domain.senders import Sender

    states: list[tuple[str, str | None, float]] = []
    get_me_calls: list[bool] = []
    started = time.monotonic()

    class Events:
        def on_state(self, sender: Any, state: Any, error: str | None, at: datetime) -> None:
            states.append((state.value, error, round(time.monotonic() - started, 2)))

        def __getattr__(self, name: str) -> Any:
            return lambda *args: None

    class SpyFactory(RealNeonizeFactory):
        def new_client(self, store: str, uuid: str, device_user: str | None) -> Any:
            client = super().new_client(store, uuid, device_user)
            real = client.get_me

            def spy() -> Any:
                get_me_calls.append(True)
                return real()

            client.get_me = spy  # type: ignore[method-assign]
            return client

    timers = ThreadTimers()
    config = NeonizeConfig(store_root=tempfile.mkdtemp(), proxy=f"http://127.0.0.1:{port}", connect_timeout=2.0)
    driver = NeonizeDriver(Events(), SystemClock(), timers, SpyFactory(), config)
    sender = Sender(id="probe", account_id="a", phone="+919800000001", created_at=datetime.now(UTC))
    driver.start(sender)
    returned_after = round(time.monotonic() - started, 2)
    deadline = time.monotonic() + 15
    while not states and time.monotonic() < deadline:
        time.sleep(0.05)
    connected = driver.is_connected("probe")
    outcome = driver.send(sender, "+919876543210", "hello")
    for conn in held:
        conn.close()  # let the hung Go dial fail now, so this process can exit
    timers.stop()
    print(
        json.dumps(
            {
                "start_returned_after": returned_after,
                "states": states,
                "connected": connected,
                "send": [outcome.kind.value, outcome.reason],
                "get_me_calls": len(get_me_calls),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main(sys.argv[1])
