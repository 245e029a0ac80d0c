"""`python -m session_host [--driver simulated|neonize]`: run the session host until SIGTERM.

`--driver neonize` runs neonize as the primary and the whatsapp-web.js sidecar as the fallback (each
sender's `drivers` list says which it uses, in which order). `--driver simulated` (the default) runs
the simulated WhatsApp network for local use; `--simulated-config '{"simulated": {...}, "neonize": {...}}'`
tunes it, and simulated stand-ins under the real drivers' names let a test run a primary and a fallback.

The environment is the container's (template.yaml, SessionHostTask): a missing variable stops the
process at once with a message naming it.

On SIGTERM (ECS stops the task; StopTimeout 120 s): stop taking commands, finish the sends in flight,
hand every waiting outbox message back to SQS, then close the sessions and flush the metrics.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Mapping

from session_host.drivers.base import SessionDriver
from session_host.drivers.neonize_client import RealNeonizeFactory
from session_host.drivers.neonize_driver import NeonizeConfig, NeonizeDriver
from session_host.drivers.simulated import SimulatedConfig, SimulatedDriver
from session_host.drivers.webjs import WebjsDriver
from session_host.host import DriverFactory, EventsFor, SessionHost
from session_host.stopping import wait_for_stop_signal
from session_host.timers import Timers
from wacast.adapters.clock import SystemClock
from wacast.bootstrap.host import build_session_host
from wacast.observability import logger, set_metrics_sink
from wacast.settings import ConfigError, SessionHostSettings

#: After a graceful stop, how long leftover non-daemon threads (neonize's connect workers, which can
#: hang for 60 s on a black-holed connection) may delay the exit.
EXIT_GRACE_SECONDS = 10.0


def simulated_drivers(config: SimulatedConfig, **stand_ins: SimulatedConfig) -> DriverFactory:
    """The simulated network as the "simulated" driver; `stand_ins` add simulated drivers under other
    names (e.g. neonize=..., webjs=...) so tests can run a primary and a fallback with their own rates."""

    def factory(events_for: EventsFor, timers: Timers) -> Mapping[str, SessionDriver]:
        configs = {"simulated": config, **stand_ins}
        return {name: SimulatedDriver(events_for(name), SystemClock(), timers, c, name) for name, c in configs.items()}

    return factory


def whatsapp_drivers(settings: SessionHostSettings) -> DriverFactory:
    """neonize (primary) and the whatsapp-web.js sidecar (fallback)."""

    def factory(events_for: EventsFor, timers: Timers) -> Mapping[str, SessionDriver]:
        clock = SystemClock()
        neonize = NeonizeDriver(
            events_for("neonize"),
            clock,
            timers,
            RealNeonizeFactory(),
            NeonizeConfig(
                store_root=settings.session_store,
                proxy=settings.neonize_proxy,
                connect_timeout=settings.connect_timeout_seconds,
                send_timeout=settings.send_timeout_seconds,
            ),
        )
        drivers: dict[str, SessionDriver] = {"neonize": neonize}
        if settings.webjs_secret is not None:
            secret = settings.webjs_secret.get_secret_value()
            drivers["webjs"] = WebjsDriver(
                events_for("webjs"), clock, settings.webjs_url, secret, send_timeout=settings.send_timeout_seconds
            )
        else:
            logger.warning("WACAST_WEBJS_SECRET is not set: the whatsapp-web.js fallback is off")
        return drivers

    return factory


def simulated_from_json(text: str) -> DriverFactory:
    """`{"simulated": {...}, "neonize": {...}}`: a SimulatedConfig per driver name ("simulated" first)."""
    configs = {name: SimulatedConfig.model_validate(c) for name, c in json.loads(text or "{}").items()}
    return simulated_drivers(configs.pop("simulated", SimulatedConfig()), **configs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="wacast session host")
    parser.add_argument("--driver", choices=["simulated", "neonize"], default="simulated")
    parser.add_argument("--simulated-config", default="", help="JSON: a SimulatedConfig per driver name")
    parser.add_argument("--wait-seconds", type=int, default=20, help="SQS long-poll wait (and stop latency)")
    args = parser.parse_args(argv)
    try:
        settings = SessionHostSettings.load()
    except ConfigError as exc:
        sys.stderr.write(f"{exc}\n")
        sys.exit(2)
    services = build_session_host(settings)
    metrics_sink = services.metrics_sink
    set_metrics_sink(metrics_sink)
    metrics_sink.start()
    drivers = whatsapp_drivers(settings) if args.driver == "neonize" else simulated_from_json(args.simulated_config)
    host = SessionHost(services, drivers, wait_seconds=args.wait_seconds)
    host.start()
    wait_for_stop_signal()
    logger.info("stopping: finishing the sends in flight")
    host.stop()
    metrics_sink.stop()
    exit_when_threads_end(EXIT_GRACE_SECONDS)


def exit_when_threads_end(grace_seconds: float) -> None:
    """Give leftover non-daemon threads a bounded time, then exit: everything that matters (SQS,
    DynamoDB, metrics) is done by now, and a hung Go connect must not keep the task alive."""
    deadline = time.monotonic() + grace_seconds
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() and not t.daemon and t is not threading.current_thread() for t in threading.enumerate()):
        logger.warning("threads still running at exit; exiting anyway")
        sys.stdout.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
