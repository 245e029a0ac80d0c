"""`python -m session_host [--driver simulated|neonize]`: run the session host until SIGTERM."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Mapping

from session_host.drivers.base import Driver
from session_host.drivers.simulated import SimulatedConfig, SimulatedDriver
from session_host.events import HostEvents
from session_host.host import DriverFactory, SessionHost
from session_host.timers import Timers
from wacast.adapters.aws import client
from wacast.adapters.cloudwatch import CloudWatchMetricsSink
from wacast.bootstrap import build_services
from wacast.observability import set_metrics_sink


def simulated_drivers(config: SimulatedConfig) -> DriverFactory:
    def factory(events: HostEvents, timers: Timers) -> Mapping[str, Driver]:
        from wacast.adapters.clock import SystemClock

        return {"simulated": SimulatedDriver(events, SystemClock(), timers, config)}

    return factory


def main() -> None:
    parser = argparse.ArgumentParser(description="wacast session host")
    parser.add_argument("--driver", choices=["simulated"], default="simulated")
    parser.parse_args()
    services = build_services()
    metrics_sink = CloudWatchMetricsSink(
        client("cloudwatch", services.settings.region, services.settings.aws_endpoint_url)
    )
    set_metrics_sink(metrics_sink)
    metrics_sink.start()
    host = SessionHost(services, simulated_drivers(SimulatedConfig()))
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    host.start()
    done.wait()
    host.stop()
    metrics_sink.stop()


if __name__ == "__main__":
    main()
