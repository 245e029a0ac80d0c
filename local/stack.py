"""The local stack, start to stop: moto, the template's resources, then each deployable in a process of
its own, with its own environment and under its own role (local/deployables.py, local/iam.py), and the
EventBridge Scheduler emulator."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from local.deployables import Deployable, deployables, state_dir
from local.iam import Account, RoleGuard
from local.meter import meter_spec
from local.moto import MotoServer
from local.persist import Autosave, StackSnapshot
from local.scheduler import SchedulerEmulator
from local.sidecar import WebjsSidecar, sidecar_address, sidecar_environment
from local.template import ROOT, LocalTemplate
from local.web import command as console_command

REGION = "us-east-1"
CLIENTS = ("sqs", "dynamodb", "scheduler", "secretsmanager", "sts", "cloudwatch", "s3")
#: Not LocalStack's 4566, so a user can run both.
MOTO_PORT = 4700
#: What a process needs from the machine itself (not configuration: the template gives that).
MACHINE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TERM")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


@dataclass
class StackConfig:
    moto_port: int = MOTO_PORT
    api_port: int = 3000
    stack_name: str = "wacast-local"
    #: Optional settings every deployable that reads them gets (pacing presets, the send wait...). Never a
    #: required variable: those come from the template alone.
    tuning: dict[str, str] = field(default_factory=dict)
    #: The session host's arguments (`python -m session_host ...`), or None for no host.
    host_args: list[str] | None = field(default_factory=lambda: ["--driver", "simulated"])
    #: Where logs, launch specs, the IAM journal and sessions go (default: .local-state/<stack name>).
    state: Path | None = None
    poll_wait_seconds: int = 1
    #: Keep the table and the secrets across restarts of this stack name (<state>/table.json, secrets.json):
    #: restored before the deployables start, saved while running and on stop (local/persist.py).
    persist: bool = False
    #: Run the task's webjs container (the whatsapp-web.js sidecar) before the host, or None for none.
    webjs: WebjsSidecar | None = None
    #: Serve the web console's build (web/dist) on `api_port` as CloudFront does on AWS, with the API behind
    #: it on a port of its own (local/web.py); None: the API itself listens on `api_port`.
    console: Path | None = None
    #: Meter every AWS call of each deployable into <state>/meter-<Deployable>.json (local/meter.py, `make bench`).
    meter: bool = False


def local_overrides(name: str, state: Path, host_args: list[str] | None) -> dict[str, str]:
    """Template variables the local stack replaces, per deployable (each one must exist in the template)."""
    real = host_args is not None and "neonize" in host_args
    # webhooks to receivers on this machine (http://127.0.0.1:...); private and link-local stay refused
    webhooks = {"WACAST_WEBHOOK_ALLOW_HTTP": "true", "WACAST_WEBHOOK_ALLOW_LOOPBACK": "true"}
    if name == "ApiFunction":
        return {**webhooks, **({} if real else {"WACAST_DEFAULT_DRIVER": "simulated"})}  # simulated: a connected sender
    if name == "WebhooksFunction":
        return {**webhooks, "WACAST_WEBHOOK_ENDPOINT_CACHE_SECONDS": "2"}  # a test's new endpoint is seen at once
    if name == "SessionHost":
        return {
            "WACAST_SESSION_STORE": str(state / "sessions"),
            "WACAST_HEARTBEAT_FILE": str(state / "session-host.heartbeat"),
        }
    return {}


def check_tuning(tuning: dict[str, str]) -> None:
    from wacast.settings import (
        ApiSettings,
        DispatcherSettings,
        DlqSettings,
        EventsSettings,
        FilesSettings,
        SessionHostSettings,
        WebhooksSettings,
    )

    required = {
        v
        for s in (
            ApiSettings,
            DispatcherSettings,
            EventsSettings,
            DlqSettings,
            FilesSettings,
            SessionHostSettings,
            WebhooksSettings,
        )
        for v in s.required_variables()
    }
    wrong = sorted(set(tuning) & required)
    if wrong:
        raise ValueError(f"tuning may not set required variables ({', '.join(wrong)}): they come from template.yaml")


class LocalStack:
    """Everything `make run` starts: moto, the resources, a process per deployable, the scheduler."""

    def __init__(self, config: StackConfig | None = None) -> None:
        self.config = config or StackConfig()
        self.endpoint = f"http://127.0.0.1:{self.config.moto_port}"
        self.api_url = f"http://127.0.0.1:{self.config.api_port}"
        #: Where the API process listens: `api_port`, or a port of its own behind the console.
        self.api_port = free_port() if self.config.console is not None else self.config.api_port
        #: The console's proxy (local/web.py), when the stack serves the console.
        self.web: dict[str, subprocess.Popen[bytes]] = {}
        self.state = self.config.state or state_dir(ROOT, self.config.stack_name)
        self.state.mkdir(parents=True, exist_ok=True)
        self.moto = MotoServer(self.config.moto_port)
        self.template: LocalTemplate | None = None
        self.deployables: dict[str, Deployable] = {}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        #: Non-essential containers of the host's task (the webjs sidecar): started before, stopped after it.
        self.sidecars: dict[str, subprocess.Popen[bytes]] = {}
        #: Why the webjs sidecar is not running although it was asked for (None when it runs or was not asked).
        self.sidecar_problem: str | None = None
        self.scheduler: SchedulerEmulator | None = None
        self.snapshot: StackSnapshot | None = None
        #: How many saved items were put back at start (persist only).
        self.restored = 0
        self._autosave: Autosave | None = None

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto's
        )

    @property
    def journal(self) -> Path:
        return self.state / "iam.jsonl"

    @property
    def ledger(self) -> Path:
        """What the simulated WhatsApp network received (when the host was started with a ledger)."""
        return self.state / "simulated-sends.jsonl"

    def log(self, name: str) -> Path:
        return self.state / f"{name}.log"

    def start(self) -> LocalStack:
        check_tuning(self.config.tuning)
        for stale in (self.journal, self.ledger, self.state / "session-host.heartbeat"):
            stale.unlink(missing_ok=True)
        self.moto.start()
        clients = {s: self.client(s) for s in CLIENTS}
        self.template = LocalTemplate(clients, self.config.stack_name, REGION)
        self.template.provision()
        try:
            if self.config.persist:  # before the deployables read the secrets (ECS resolves them at start)
                self._restore(clients)
            self.deployables = deployables(self.template)
            for deployable in self.deployables.values():
                if deployable.kind == "host" and self.config.host_args is None:
                    continue
                if deployable.kind == "host" and self.config.webjs is not None:
                    self._launch_sidecar(self.config.webjs)
                self._launch(deployable)
            if self.config.console is not None:
                self._launch_console(self.config.console)
            self.scheduler = SchedulerEmulator(
                clients["scheduler"],
                clients["sqs"],
                self.template.physical_ref("ScheduleGroup"),
                self._scheduler_guard(),
            )
            self.scheduler.start()
            self._wait_until_ready()
            if self.snapshot is not None:
                self._autosave = Autosave(self.snapshot).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, *, grace: float = 0.0) -> None:
        """Stop everything, the host's sidecars after the host, then moto (saving the table first when the
        stack keeps it). `grace`: first wait that long for the processes to end by themselves, as they do
        after a Ctrl-C in the terminal (which signals the whole process group), so that they are not
        signalled twice at once."""
        if grace > 0:
            _await_exit(self.processes, grace)
        if self._autosave is not None:
            self._autosave.stop()
            self._autosave = None
        if self.scheduler is not None:
            self.scheduler.stop()
        _terminate(self.web, 10)
        _terminate(self.processes, 60)
        _terminate(self.sidecars, 30)  # after the host: it closes its sidecar sessions on the way out
        self._save()
        self.moto.stop()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- what happened -------------------------------------------------------------------------

    def iam_decisions(self) -> Iterator[dict[str, Any]]:
        if self.journal.exists():
            for line in self.journal.read_text().splitlines():
                yield json.loads(line)

    def denied(self) -> list[dict[str, Any]]:
        """Every distinct AWS call a deployable's role did not allow (empty on a healthy stack)."""
        return [d for d in self.iam_decisions() if not d["allowed"]]

    def sends(self) -> list[dict[str, Any]]:
        if not self.ledger.exists():
            return []
        return [json.loads(line) for line in self.ledger.read_text().splitlines()]

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.log(name)
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    @property
    def table_name(self) -> str:
        assert self.template is not None
        return self.template.physical_ref("Table")

    # -- internals -----------------------------------------------------------------------------

    def _restore(self, clients: dict[str, Any]) -> None:
        assert self.template is not None
        secrets = {
            logical_id: self.template.physical_ref(logical_id)
            for logical_id, resource in self.template.resources.items()
            if resource["Type"] == "AWS::SecretsManager::Secret"
        }
        snapshot = StackSnapshot(self.state, clients["dynamodb"], clients["secretsmanager"], self.table_name, secrets)
        self.restored = snapshot.restore()
        self.snapshot = snapshot  # only now: a stack that could not restore must not overwrite what was saved

    def _save(self) -> None:
        if self.snapshot is None:
            return
        try:
            self.snapshot.save()
        except Exception as exc:
            print(f"could not save the local state to {self.state}: {exc}", file=sys.stderr)
        self.snapshot = None

    def _launch_sidecar(self, sidecar: WebjsSidecar) -> None:
        """The webjs container, before the host (DependsOn START). It is not essential to the task: when it
        cannot start, the host runs without its fallback, and `sidecar_problem` says why."""
        assert self.template is not None
        env = sidecar_environment(self.template, self.state, sidecar)
        host, port = sidecar_address(env)
        if _listening(port, host):
            self.sidecar_problem = f"something else already listens on {host}:{port}; the webjs sidecar was not started"
            return
        env.update({k: os.environ[k] for k in MACHINE_ENV if k in os.environ})
        with self.log("webjs").open("ab") as log:
            process = subprocess.Popen(  # a session of its own: a Ctrl-C must not stop it before the host
                list(sidecar.command), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.sidecars["webjs"] = process
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.sidecar_problem = f"the webjs sidecar exited with {process.returncode}:\n{self.tail('webjs', 10)}"
                return
            if _listening(port, host):
                return
            time.sleep(0.1)
        self.sidecar_problem = f"the webjs sidecar does not listen on {host}:{port} yet; see {self.log('webjs')}"

    def _launch(self, deployable: Deployable) -> None:
        assert self.template is not None
        overrides = local_overrides(deployable.name, self.state, self.config.host_args)
        env = deployable.process_environment(REGION, self.endpoint, overrides)
        env.update(self.config.tuning)
        env.update({k: os.environ[k] for k in MACHINE_ENV if k in os.environ})
        env["PYTHONUNBUFFERED"] = "1"
        spec = deployable.spec(
            Account(REGION, self.template.account_id),
            journal=str(self.journal),
            api_port=self.api_port,
            host_args=self.config.host_args or [],
            poll_wait_seconds=self.config.poll_wait_seconds,
        )
        if self.config.meter:
            spec["meter"] = meter_spec(self.template, self.state, deployable.name)
        spec_path = self.state / f"{deployable.name}.json"
        spec_path.write_text(json.dumps(spec, indent=1))
        with self.log(deployable.name).open("ab") as log:
            self.processes[deployable.name] = subprocess.Popen(
                [sys.executable, "-m", "local.run_deployable", str(spec_path)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def _launch_console(self, dist: Path) -> None:
        """The console's proxy on the public port, in front of the API (local/web.py); the files bucket lets
        its origin PUT and GET, as the distribution's on AWS."""
        assert self.template is not None
        self.template.allow_browser_origin(f"http://127.0.0.1:{self.config.api_port}")
        env = {k: os.environ[k] for k in MACHINE_ENV if k in os.environ} | {"PYTHONUNBUFFERED": "1"}
        upstream = f"http://127.0.0.1:{self.api_port}"
        with self.log("Console").open("ab") as log:
            self.web["Console"] = subprocess.Popen(
                [sys.executable, *console_command(self.config.api_port, upstream, dist)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def _scheduler_guard(self) -> RoleGuard:
        """EventBridge Scheduler assumes the role the schedule names; the emulator checks its policies."""
        assert self.template is not None
        account = Account(REGION, self.template.account_id)
        return RoleGuard("SchedulerRole", self.template.role_policies("SchedulerRole"), account, self.journal)

    def _wait_until_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        heartbeat = self.state / "session-host.heartbeat"
        while time.monotonic() < deadline:
            for name, process in {**self.processes, **self.web}.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.tail(name)}")
            api_up = _listening(self.api_port) and _listening(self.config.api_port)
            host_up = "SessionHost" not in self.processes or heartbeat.exists()
            if api_up and host_up:
                return
            time.sleep(0.2)
        raise TimeoutError(f"the local stack did not come up in {timeout:.0f} s; logs in {self.state}")


def _listening(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) == 0


def _await_exit(processes: dict[str, subprocess.Popen[bytes]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(p.poll() is None for p in processes.values()):
        time.sleep(0.1)


def _terminate(processes: dict[str, subprocess.Popen[bytes]], timeout: float) -> None:
    """SIGTERM to all, then wait for each until the shared deadline; kill what is left."""
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for name, process in processes.items():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            print(f"{name} did not stop on SIGTERM within the deadline: killed", file=sys.stderr)
    processes.clear()
