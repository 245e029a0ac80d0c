"""The session host's container health check: the outbox consumer touches a heartbeat file on every
poll; `python -m session_host.health` fails when that file is missing or too old, so ECS replaces a
task whose consumer is wedged even though the host opens no port.

Runs every 30 s in the container: standard library only (no boto3, no wacast.bootstrap).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HEARTBEAT_FILE_ENV = "WACAST_HEARTBEAT_FILE"
DEFAULT_HEARTBEAT_FILE = "/tmp/wacast-session-host.heartbeat"
DEFAULT_MAX_AGE_SECONDS = 120.0  # several outbox long-polls (20 s each)


def default_heartbeat_file() -> Path:
    return Path(os.environ.get(HEARTBEAT_FILE_ENV) or DEFAULT_HEARTBEAT_FILE)


class Heartbeat:
    """A file holding the time of the last beat (seconds since the epoch), replaced atomically on each beat."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def beat(self, now: float | None = None) -> None:
        """Record a beat: write the time to a temporary file beside the heartbeat, then rename it over."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as file:
                file.write(f"{time.time() if now is None else now:.3f}\n")
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def last_beat(self) -> float | None:
        """The time of the last beat, or None when there is no (readable) heartbeat."""
        try:
            return float(self.path.read_text().strip())
        except (OSError, ValueError):
            return None

    def age(self, now: float | None = None) -> float | None:
        """Seconds since the last beat, or None when there is none."""
        last = self.last_beat()
        if last is None:
            return None
        return max(0.0, (time.time() if now is None else now) - last)

    def is_fresh(self, max_age_seconds: float, now: float | None = None) -> bool:
        age = self.age(now)
        return age is not None and age <= max_age_seconds


def main(argv: Sequence[str] | None = None) -> None:
    """Exit 0 when the heartbeat is fresh; exit 1 with a one-line reason on stderr otherwise."""
    parser = argparse.ArgumentParser(description="session host health check (the outbox consumer's heartbeat)")
    parser.add_argument("--max-age", type=float, default=DEFAULT_MAX_AGE_SECONDS, help="seconds (default 120)")
    parser.add_argument("--file", type=Path, default=None, help=f"heartbeat file (${HEARTBEAT_FILE_ENV})")
    args = parser.parse_args(argv)
    heartbeat = Heartbeat(args.file or default_heartbeat_file())
    age = heartbeat.age()
    if age is None:
        sys.stderr.write(f"unhealthy: no heartbeat at {heartbeat.path} (missing or unreadable)\n")
        sys.exit(1)
    if age > args.max_age:
        sys.stderr.write(f"unhealthy: the last heartbeat is {age:.0f}s old (max {args.max_age:.0f}s)\n")
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    main()
