"""`make run DRIVER=neonize` as far as this machine allows: the whole local stack with the real neonize
driver and no route to WhatsApp (neonize dials a refused proxy on loopback), the whatsapp-web.js sidecar
with a stand-in for Chromium, and the table kept across two runs of the same stack name."""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.__main__ import simulated_host
from local.qr_terminal import QrPrinter, SenderWatcher, dynamodb_senders, render_qr
from local.real_phone import plan
from local.sidecar import WebjsSidecar
from local.stack import LocalStack, StackConfig, free_port
from session_host.drivers.simulated import SimulatedConfig

PASSWORD = "a-long-password"
pytestmark = pytest.mark.timeout(90)  # each takes 10-30 s here


def refused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: connections to it are refused


def real_drivers(state: Path, name: str, **config: Any) -> StackConfig:
    """What `--driver neonize` starts, with neonize's way out pointed at a refused port on loopback."""
    return StackConfig(
        moto_port=free_port(),
        api_port=free_port(),
        stack_name=name,
        state=state,
        host_args=plan(None, None, False).host_args,
        tuning={"WACAST_NEONIZE_PROXY": f"http://127.0.0.1:{refused_port()}", "WACAST_CONNECT_TIMEOUT_SECONDS": "5"},
        **config,
    )


@contextmanager
def user(stack: LocalStack, email: str, register: bool = True) -> Iterator[tuple[httpx.Client, dict[str, Any]]]:
    with httpx.Client(base_url=stack.api_url, timeout=30) as http:
        body = {"email": email, "password": PASSWORD}
        session = http.post("/api/auth/register" if register else "/api/auth/login", json=body)
        assert session.status_code in (200, 201), session.text
        http.headers["Authorization"] = f"Bearer {session.json()['token']}"
        yield http, session.json()


def terminal(stack: LocalStack) -> tuple[SenderWatcher, list[str]]:
    """What `make run DRIVER=neonize` prints about the senders, captured (looked at by calling `look`)."""
    out: list[str] = []
    watcher = SenderWatcher(dynamodb_senders(stack.client("dynamodb"), stack.table_name), QrPrinter(out.append))
    return watcher, out


def until(watcher: SenderWatcher, out: list[str], seen: Callable[[str], bool], timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        watcher.look()
        found = [text for text in out if seen(text)]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"not printed within {timeout:.0f} s; printed: {out}")


def test_linking_with_real_neonize_and_no_route_shows_why_in_the_terminal(tmp_path: Path) -> None:
    with LocalStack(real_drivers(tmp_path, f"it-real-{uuid.uuid4().hex[:8]}")) as stack:
        with user(stack, "owner@example.com") as (http, session):
            # new accounts get no simulated sender with the real drivers
            assert http.get("/api/senders").json() == [] and session["account"]["default_sender_id"] is None
            sender = http.post("/api/senders", json={"phone": "+919800000001", "drivers": ["neonize"]}).json()
            watcher, out = terminal(stack)
            watcher.look()
            assert out == [f"sender {sender['id']} (+919800000001): new\n"]
            # when
            assert http.post(f"/api/senders/{sender['id']}/link").status_code == 202
            # then the attempt fails fast, and the terminal says so (no QR code: WhatsApp never answered)
            line = until(watcher, out, lambda text: "connect_failed" in text)
            assert line.startswith(f"sender {sender['id']} (+919800000001): disconnected (neonize: connect_failed:")
            assert "127.0.0.1" in line
            assert not any("QR code" in text for text in out)
            status = http.get(f"/api/senders/{sender['id']}/status").json()
            assert status["state"] == "disconnected" and status["qr_available"] is False
        assert stack.processes["SessionHost"].poll() is None  # neonize did not take the host down
        assert stack.denied() == []


def test_the_account_sender_and_token_survive_a_restart_of_the_same_stack(tmp_path: Path) -> None:
    name = f"it-keep-{uuid.uuid4().hex[:8]}"
    linking = SimulatedConfig(auto_link=False, link_after_s=4.0)

    def config(sim: SimulatedConfig) -> StackConfig:
        return StackConfig(
            moto_port=free_port(),
            api_port=free_port(),
            stack_name=name,
            state=tmp_path,
            host_args=simulated_host(sim),
            persist=True,
        )

    # given a first run: an account, and a sender linked with the QR code shown in the terminal
    with LocalStack(config(linking)) as first:
        assert os.getpgid(first.moto._process.pid) != os.getpgid(0)  # type: ignore[union-attr]  # no Ctrl-C for it
        with user(first, "keeper@example.com") as (http, _):
            token = http.headers["Authorization"]
            # (a pacing of its own: the safe default's daytime window would hold a send at night)
            body = {"phone": "+919800000002", "drivers": ["simulated"], "pacing": {"preset": "fast"}}
            sender = http.post("/api/senders", json=body).json()
            watcher, out = terminal(first)
            http.post(f"/api/senders/{sender['id']}/link")
            block = until(watcher, out, lambda text: "scan this QR code" in text)
            assert f"sender {sender['id']} (+919800000002)" in block
            served = http.get(f"/api/senders/{sender['id']}/qr").json()["qr"]  # the API's QR code, the same one
            assert block.endswith(render_qr(served)) and served.endswith(f",{sender['id']}")
            until(watcher, out, lambda text: text == f"sender {sender['id']} (+919800000002): connected\n")
    assert (tmp_path / "table.json").exists() and (tmp_path / "secrets.json").exists()

    # when the same stack starts again
    with LocalStack(config(SimulatedConfig())) as second:
        assert second.restored >= 4  # account, user, its simulated default sender, the linked sender
        with httpx.Client(base_url=second.api_url, timeout=30, headers={"Authorization": token}) as old:
            # then the token issued before the restart is still good (the signing key was kept) ...
            assert old.get("/api/auth/me").json()["user"]["email"] == "keeper@example.com"
        with user(second, "keeper@example.com", register=False) as (http, _):
            # ... the password too, and the sender is there, resumed by the host without linking again
            assert sender["id"] in [s["id"] for s in http.get("/api/senders").json()]
            sent = http.post(
                "/api/messages/send", json={"phone": "+919876543210", "message": "hi", "senderId": sender["id"]}
            )
            assert sent.status_code == 200, sent.text
            assert sent.json()["status"] in ("SENT", "DELIVERED", "READ") and sent.json()["driver"] == "simulated"
        assert second.denied() == []


def test_the_webjs_sidecar_runs_as_the_tasks_second_container(tmp_path: Path) -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 3001)) == 0:
            pytest.skip("127.0.0.1:3001 (the template's WEBJS_PORT) is taken on this machine")
    if shutil.which("node") is None or not Path("session_host/webjs/node_modules/whatsapp-web.js").is_dir():
        pytest.skip("node or the sidecar's npm packages (make webjs-install) are missing")
    # a stand-in for Chromium that exits at once: the sidecar starts, and launching a browser fails
    stand_in = WebjsSidecar(chromium=str(shutil.which("false")))
    # and the secret an earlier run of this stack kept, which ECS-like resolution must hand to both containers
    (tmp_path / "secrets.json").write_text(json.dumps({"WebjsSecret": "kept-from-an-earlier-run"}))
    config = real_drivers(tmp_path, f"it-webjs-{uuid.uuid4().hex[:8]}", webjs=stand_in, persist=True)
    with LocalStack(config) as stack:
        assert stack.sidecar_problem is None and stack.sidecars["webjs"].poll() is None
        with user(stack, "webjs@example.com") as (http, _):
            sender = http.post("/api/senders", json={"phone": "+919800000003", "drivers": ["webjs"]}).json()
            watcher, out = terminal(stack)
            http.post(f"/api/senders/{sender['id']}/link")
            # the host reached the sidecar with the secret both got from WebjsSecret (a wrong one is
            # refused with 401), and the sidecar tried the browser the local stack pointed it at
            line = until(watcher, out, lambda text: "initialize_failed" in text)
            assert "webjs: initialize_failed: Failed to launch the browser process" in line
        sidecar = stack.sidecars["webjs"]
    assert sidecar.returncode == 0  # stopped with SIGTERM after the host, and destroyed its browsers
    assert "stopping: destroying every browser" in (tmp_path / "webjs.log").read_text()
