"""`python -m session_host` stopped with SIGTERM mid-backlog (what ECS does on a deploy): the sends in
flight finish, the rest stays in SQS, and no message is left claimed (SENDING) but unsent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.integration.services import Services
from tests.integration.test_session_host import owner, wait_until  # noqa: F401 - the fixture
from wacast.domain.accounts import Principal
from wacast.domain.messages import MessageStatus

S = MessageStatus
ROOT = Path(__file__).resolve().parents[2]


def test_sigterm_leaves_nothing_claimed_but_unsent(
    services: Services,
    owner: Principal,  # noqa: F811
    tmp_path: Path,
) -> None:
    # given a backlog on one sender (balanced pacing: one send every ~0.3 s here)
    sent = [services.messaging.send_direct(owner, f"+9198765432{i:02d}", "hi") for i in range(8)]
    # and the host's process with exactly its container's environment from template.yaml
    host_env = services.roots.deployables["SessionHost"].process_environment(
        "us-east-1",
        os.environ["AWS_ENDPOINT_URL"],
        {"WACAST_SESSION_STORE": str(tmp_path), "WACAST_HEARTBEAT_FILE": str(tmp_path / "heartbeat")},
    )
    env = {**host_env, "PATH": os.environ["PATH"], "DELAY_BALANCED": "300", "POWERTOOLS_LOG_LEVEL": "WARNING"}
    host = subprocess.Popen(
        [sys.executable, "-m", "session_host", "--driver", "simulated", "--wait-seconds", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_until(lambda: any(services.messages.get(m.id).status is S.SENT for m in sent), 30)  # type: ignore[union-attr]
        # when ECS stops the task
        host.send_signal(signal.SIGTERM)
        assert host.wait(timeout=60) == 0
    finally:
        if host.poll() is None:
            host.kill()
    # then every message is sent or still queued, none claimed but unsent, and the queued ones are in SQS
    statuses = [services.messages.get(m.id).status for m in sent]  # type: ignore[union-attr]
    assert S.SENDING not in statuses and set(statuses) <= {S.SENT, S.QUEUED}, statuses
    assert S.QUEUED in statuses  # the pacing left a backlog for the next host
    depth = services.queues.outbox.depth()
    assert depth.visible + depth.in_flight + depth.delayed >= statuses.count(S.QUEUED)
