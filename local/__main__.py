"""`python -m local`: the whole of wacast on this machine, then a demo message sent through it.

python -m local                   start, run the demo, keep running until Ctrl-C
python -m local --no-demo         start and keep running
python -m local --driver neonize  the real WhatsApp drivers: link your own phone with the QR code printed
                                  here; the data and the linked session are kept across restarts
                                  (docs/local-real-phone.md)
python -m local --no-console      the API alone on --api-port, without the web console in front of it

The web console (web/dist, built by `make run`) is served on --api-port beside the API, as CloudFront
serves it on AWS (local/web.py, docs/console.md).

Each deployable runs in a process of its own with the environment template.yaml gives it and under its
role's policies; their logs are in .local-state/<stack>/.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
import uuid
from pathlib import Path

import httpx

from local.qr_terminal import QrPrinter, SenderWatcher, dynamodb_senders
from local.real_phone import RealPhone, detect, howto
from local.stack import MOTO_PORT, LocalStack, StackConfig
from local.web import DIST
from session_host.drivers.simulated import SimulatedConfig
from session_host.stopping import wait_for_stop_signal

#: How long the deployables get to stop on the Ctrl-C they received too, before the stack sends SIGTERM.
CTRL_C_GRACE_SECONDS = 10.0


def simulated_host(sim: SimulatedConfig, **stand_ins: SimulatedConfig) -> list[str]:
    """The session host's arguments for the simulated network (`stand_ins`: simulated drivers under the
    real drivers' names, so a primary and a fallback can fail at their own rates)."""
    configs = {"simulated": sim, **stand_ins}
    as_json = json.dumps({name: c.model_dump(mode="json") for name, c in configs.items()})
    return ["--driver", "simulated", "--simulated-config", as_json, "--wait-seconds", "1"]


def linking_stand_ins(link_after_s: float = 10.0) -> dict[str, SimulatedConfig]:
    """Simulated drivers under the real drivers' names for a number added with the default drivers (neonize
    primary, webjs fallback): linking one shows a QR code, then it links by itself after `link_after_s`, so
    the console's Numbers page can be tried without a phone. The account's own simulated sender links at once."""
    return {
        name: SimulatedConfig(seed=seed, auto_link=False, link_after_s=link_after_s)
        for name, seed in (("neonize", 21), ("webjs", 22))
    }


def console_of(args: argparse.Namespace) -> Path | None:
    """The console's build to serve in front of the API, or None (`--no-console`)."""
    if args.no_console:
        return None
    if not (DIST / "index.html").is_file():
        print(f"the web console is not built ({DIST}): `make web-build`, or `make run`, builds it")
    return DIST


def console_line(stack: LocalStack) -> str:
    if stack.config.console is None:
        return ""
    return f"\n  console      {stack.api_url}/        (the web console: sign up there; docs/console.md)"


def demo(api: str, timeout: float = 60.0) -> bool:
    """Register, send one message, and follow it to READ. Returns True when it got there."""
    with httpx.Client(base_url=api, timeout=30) as http:
        email = f"demo-{uuid.uuid4().hex[:8]}@example.com"
        session = http.post("/api/auth/register", json={"email": email, "password": "demo-password-1"}).json()
        headers = {"Authorization": f"Bearer {session['token']}"}
        print(f"  registered {email} (account {session['account']['id']})")
        sent = http.post(
            "/api/messages/send", json={"phone": "+919876543210", "message": "Hello from wacast!"}, headers=headers
        )
        job = sent.json()
        print(f"  POST /api/messages/send -> {sent.status_code} {job['status']} via {job.get('driver')}")
        deadline = time.monotonic() + timeout
        while job["status"] != "READ" and time.monotonic() < deadline:
            time.sleep(0.5)
            job = http.get(f"/api/messages/queue/job/{job['jobId']}", headers=headers).json()
        for change in job["history"]:
            print(f"    {change['at']}  {change['status']:<9} {change.get('detail') or ''}")
        return bool(job["status"] == "READ") and demo_campaign(http, headers, timeout)


def demo_campaign(http: httpx.Client, headers: dict[str, str], timeout: float) -> bool:
    """Import contacts, write a campaign with a variable, run it with a 1-2 s pacing gap, watch it."""
    rows = "phone,name,city\n" + "".join(f"+91987650{i:04d},Friend {i},Pune\n" for i in range(5))
    rows += "+919876509999,Opted Out,Delhi\n"
    http.post("/api/contacts/import", files={"file": ("demo.csv", rows.encode(), "text/csv")}, headers=headers)
    http.post("/api/contacts/opt-out", json={"phone": "+919876509999"}, headers=headers)
    draft = {
        "name": "Demo campaign",
        "body": "Hi {{name}}, our {{city|city}} store opens at 10!",
        "audience": {"contact_ids": [c["id"] for c in http.get("/api/contacts", headers=headers).json()["items"]]},
        "pacing": {"preset": "custom", "min_gap_ms": 1000, "max_gap_ms": 2000},
    }
    campaign = http.post("/api/campaigns", json=draft, headers=headers).json()
    http.post(f"/api/campaigns/{campaign['id']}/start", headers=headers)
    print(f"  campaign {campaign['id']}: {campaign['audience_size']} contacts, 1-2 s between sends")
    deadline, stats = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        stats = http.get(f"/api/campaigns/{campaign['id']}/stats", headers=headers).json()
        print(f"    {stats['status']:<9} {stats['counters']}")
        if stats["status"] == "completed":
            break
        time.sleep(2)
    return bool(stats.get("status") == "completed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    parser.add_argument("--no-demo", action="store_true", help="do not send the demo message")
    parser.add_argument("--exit-after-demo", action="store_true", help="stop once the demo is done")
    parser.add_argument("--api-port", type=int, default=3000, help="where the API listens on 127.0.0.1 (default 3000)")
    parser.add_argument(
        "--moto-port", type=int, default=MOTO_PORT, help=f"where moto plays AWS on 127.0.0.1 (default {MOTO_PORT})"
    )
    parser.add_argument("--failure-rate", type=float, default=0.0, help="simulated transient failure rate")
    parser.add_argument(
        "--driver",
        choices=["simulated", "neonize"],
        default="simulated",
        help="simulated (default: a fake network, fresh every run) or neonize (link your own phone)",
    )
    parser.add_argument("--stack-name", default="wacast-local", help="its state is in .local-state/<name>/")
    parser.add_argument(
        "--no-console", action="store_true", help="no web console: the API itself listens on --api-port"
    )
    args = parser.parse_args(argv)
    if args.driver == "neonize":
        return run_real_phone(args)

    sim = SimulatedConfig(transient_rate=args.failure_rate)
    config = StackConfig(
        moto_port=args.moto_port,
        api_port=args.api_port,
        stack_name=args.stack_name,
        host_args=simulated_host(sim, **linking_stand_ins()),
        console=console_of(args),
    )
    stack = LocalStack(config).start()
    api = stack.api_url
    print(f"""
wacast local stack is running{console_line(stack)}
  API          {api}        (OpenAPI docs: {api}/docs)
  AWS (moto)   {stack.endpoint}  (AWS_ENDPOINT_URL; tables, queues, schedules from template.yaml)
  deployables  {", ".join(stack.processes)} (a process each, own environment and role)
  session host simulated WhatsApp driver (new accounts get a connected simulated sender; a number added
               with the default drivers shows a QR code, then links by itself after 10 s)
  logs         {stack.state}

Try it:
  curl -s -XPOST {api}/api/auth/register -H 'content-type: application/json' \\
       -d '{{"email":"me@example.com","password":"a-long-password"}}'
  curl -s -XPOST {api}/api/messages/send -H "Authorization: Bearer $TOKEN" \\
       -H 'content-type: application/json' -d '{{"phone":"+919876543210","message":"hi"}}'
""")
    ok = True
    if not args.no_demo:
        print("demo: one message through the whole path, then a small campaign")
        ok = demo(api)
        print("demo:", "done: the message reached READ and the campaign completed" if ok else "demo FAILED")
    if args.exit_after_demo:
        stack.stop()
        return 0 if ok else 1
    signum = wait_for_signal()
    stack.stop(grace=CTRL_C_GRACE_SECONDS if signum == signal.SIGINT else 0.0)
    return 0


def wait_for_signal() -> int:
    """Wait for SIGINT, SIGTERM or SIGHUP; the first one's number."""
    print("running; Ctrl-C stops it")
    return wait_for_stop_signal((signal.SIGINT, signal.SIGTERM, signal.SIGHUP))


def run_real_phone(args: argparse.Namespace) -> int:
    """`--driver neonize`: the real drivers, the QR code in the terminal, and the state kept."""
    phone: RealPhone = detect()
    print(phone.fallback)
    config = StackConfig(
        moto_port=args.moto_port,
        api_port=args.api_port,
        stack_name=args.stack_name,
        host_args=phone.host_args,
        webjs=phone.webjs,
        persist=True,
        console=console_of(args),
    )
    stack = LocalStack(config).start()
    if stack.sidecar_problem:
        phone = RealPhone(f"whatsapp-web.js fallback: OFF, {stack.sidecar_problem}", None, phone.host_args)
        print(phone.fallback)
    api = stack.api_url
    kept = f"restored {stack.restored} items from" if stack.restored else "nothing saved yet in"
    print(f"""
wacast local stack is running with the real WhatsApp drivers{console_line(stack)}
  API          {api}        (OpenAPI docs: {api}/docs)
  AWS (moto)   {stack.endpoint}  (AWS_ENDPOINT_URL; tables, queues, schedules from template.yaml)
  deployables  {", ".join(stack.processes)} (a process each, own environment and role)
  session host neonize (primary); {phone.fallback}
  kept         {kept} {stack.state}/table.json; sessions in {stack.state}/sessions
               (queues and schedules are not kept; delete {stack.state} to start afresh)
  logs         {stack.state}
""")
    print(howto(api, phone))
    watcher = SenderWatcher(dynamodb_senders(stack.client("dynamodb"), stack.table_name), QrPrinter()).start()
    signum = wait_for_signal()
    print("stopping: saving the table; linked sessions stay linked")
    watcher.stop()
    # A Ctrl-C in the terminal reached every process of the stack: let them stop by themselves first.
    stack.stop(grace=CTRL_C_GRACE_SECONDS if signum == signal.SIGINT else 0.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
