"""The moto server in a process of its own: AWS for the local stack and the tests.

A separate process keeps moto off the GIL of the code it serves (the API, the pollers and the
session host run in the local stack's process), which about doubles the throughput on two cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request


class MotoServer:
    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self.endpoint = f"http://{host}:{port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> MotoServer:
        env = {**os.environ, "MOTO_CALL_RESET_API": "false"}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "local.moto_server", "-H", self.host, "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            # its own session: a Ctrl-C in the terminal reaches the stack, which stops the deployables
            # first (and may save the table) while moto still answers, then stops moto itself
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto server exited with {self._process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1):  # noqa: S310 - loopback
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"moto server did not start on {self.endpoint}")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._process = None

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
