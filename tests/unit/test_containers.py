"""The container build files say what the task needs (hadolint lints them in `make lint`; no Docker
engine here, so their content is checked as written)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from local.template import translate

ROOT = Path(__file__).resolve().parents[2]
HOST = (ROOT / "session_host/Dockerfile").read_text()
WEBJS = (ROOT / "session_host/webjs/Dockerfile").read_text()


def instructions(dockerfile: str, keyword: str) -> list[str]:
    return [line.split(None, 1)[1] for line in dockerfile.splitlines() if line.startswith(keyword + " ")]


def test_the_session_host_image_is_python_312_slim_with_libmagic_running_as_the_efs_user() -> None:
    assert instructions(HOST, "FROM")[0].startswith("python:3.12-slim")
    assert re.search(r"apt-get install[^\n]*libmagic1", HOST)
    assert instructions(HOST, "USER")[-1].split(":")[0] == "10001"
    assert "-r /tmp/requirements-common.txt -r /tmp/requirements-session-host.txt" in HOST
    assert instructions(HOST, "STOPSIGNAL") == ["SIGTERM"]
    entry = json.loads(instructions(HOST, "ENTRYPOINT")[0]) + json.loads(instructions(HOST, "CMD")[0])
    assert entry == ["python", "-m", "session_host", "--driver", "neonize"]


def test_the_sidecar_image_uses_debian_chromium_and_never_downloads_a_browser() -> None:
    assert instructions(WEBJS, "FROM")[0].startswith("node:20-")
    assert re.search(r"apt-get install[^\n]*\bchromium\b", WEBJS)
    assert "PUPPETEER_SKIP_DOWNLOAD=1" in WEBJS and "PUPPETEER_EXECUTABLE_PATH=/usr/bin/chromium" in WEBJS
    assert "npm ci" in WEBJS and instructions(WEBJS, "USER")[-1].split(":")[0] == "10001"
    package = json.loads((ROOT / "session_host/webjs/package.json").read_text())
    assert package["overrides"]["puppeteer"].startswith("npm:puppeteer-core@")
    lock = json.loads((ROOT / "session_host/webjs/package-lock.json").read_text())
    assert lock["packages"]["node_modules/puppeteer"]["name"] == "puppeteer-core"


def test_the_task_definition_matches_the_images() -> None:
    task = translate()["Resources"]["SessionHostTask"]["Properties"]
    containers = {c["Name"]: c for c in task["ContainerDefinitions"]}
    host, webjs = containers["session-host"], containers["webjs"]
    assert host["User"] == "10001" and webjs["User"] == "10001"
    assert host["StopTimeout"] >= 60  # sends in flight finish after SIGTERM
    env = {e["Name"]: e["Value"] for e in webjs["Environment"]}
    assert env["WEBJS_HOST"] == "127.0.0.1" and env["PUPPETEER_EXECUTABLE_PATH"] == "/usr/bin/chromium"
    assert {s["Name"] for s in webjs["Secrets"]} == {"WEBJS_SECRET"}
    assert {s["Name"] for s in host["Secrets"]} == {"WACAST_WEBJS_SECRET"}
    # the host opens no port: its health check is the outbox consumer's heartbeat file
    assert host["HealthCheck"]["Command"][:4] == ["CMD", "python", "-m", "session_host.health"]
    assert host["HealthCheck"]["StartPeriod"] >= 60
    host_env = {e["Name"]: e["Value"] for e in host["Environment"]}
    assert host_env["WACAST_HEARTBEAT_FILE"].startswith("/tmp/")
    assert webjs["HealthCheck"]["Command"][0] == "CMD"
