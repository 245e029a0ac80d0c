"""The local stack the console's browser tests drive (web/tests/browser/stack.ts starts it).

The stack of `make run` (moto, each deployable in its own process, the console served in front of the
API as CloudFront does), on free ports, with:
- fast pacing presets (DELAY_*), so a 20-contact campaign runs in seconds;
- the simulated network playing both real drivers: a number added with the default drivers (neonize
  primary, webjs fallback) shows a QR code and links after 3 s; the primary fails 15% of sends, which
  the fallback then sends, so the driver split has both;
- replies: about a third of the recipients answer after reading (never with a stop keyword, so no one is
  opted out behind the tests' back), so the Conversations page has something to show.

It prints one JSON line, {"url": ...}, once everything is up, and stops on SIGTERM or SIGINT (exit 1 when
a deployable's role refused an AWS call).
"""

from __future__ import annotations

import json
import sys

from local.__main__ import simulated_host
from local.stack import LocalStack, StackConfig, free_port
from local.template import ROOT
from local.web import DIST
from session_host.drivers.simulated import SimulatedConfig
from session_host.stopping import wait_for_stop_signal

STATE = ROOT / ".local-state" / "wacast-console-test"


def config() -> StackConfig:
    receipts = {"delivered_after_s": (0.2, 0.6), "read_after_s": (0.2, 0.8)}
    linking = {"auto_link": False, "link_after_s": 3.0}
    replies = ["Is the offer on at the Pune store too?", "Thanks! See you Saturday."]
    return StackConfig(
        moto_port=free_port(),
        api_port=free_port(),
        stack_name="wacast-console-test",
        state=STATE,
        host_args=simulated_host(
            SimulatedConfig(**receipts),
            neonize=SimulatedConfig(
                seed=11, latency_ms=(1, 5), transient_rate=0.15, **linking, **receipts, reply_rate=0.3, replies=replies
            ),
            webjs=SimulatedConfig(seed=12, latency_ms=(1, 5), **linking, **receipts, reply_rate=0.3, replies=replies),
        ),
        tuning={"DELAY_FAST": "200", "DELAY_BALANCED": "250", "DELAY_SAFE": "300"},
        console=DIST,
    )


def main() -> int:
    with LocalStack(config()) as stack:
        sys.stdout.write(json.dumps({"url": stack.api_url, "state": str(stack.state)}) + "\n")
        sys.stdout.flush()
        wait_for_stop_signal()
        denied = stack.denied()
    if denied:
        sys.stderr.write(f"AWS calls refused by a deployable's role: {denied}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
