"""The session host task's second container, the whatsapp-web.js sidecar, as the local stack runs it:
`node session_host/webjs/src/main.js` with exactly the environment template.yaml gives the webjs container
(its secret resolved with the task's execution role, as ECS does), started before the host (the host
container DependsOn it) and stopped after it.

Locally two variables point at this machine instead of the container's: WEBJS_AUTH_DIR (the LocalAuth
sessions, next to neonize's stores under the host's WACAST_SESSION_STORE) and PUPPETEER_EXECUTABLE_PATH
(the Chromium found here).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from local.deployables import FARGATE_RUNTIME, container_secrets
from local.template import LocalTemplate

WEBJS_CONTAINER = "SessionHostTask/webjs"
WEBJS_MAIN = "session_host/webjs/src/main.js"


@dataclass(frozen=True)
class WebjsSidecar:
    """How to run the webjs container here: the browser it drives and its command (run from the repo)."""

    chromium: str
    command: tuple[str, ...] = ("node", WEBJS_MAIN)


def sidecar_overrides(state: Path, sidecar: WebjsSidecar) -> dict[str, str]:
    return {
        "WEBJS_AUTH_DIR": str(state / "sessions" / "webjs"),
        "PUPPETEER_EXECUTABLE_PATH": sidecar.chromium,
    }


def sidecar_environment(template: LocalTemplate, state: Path, sidecar: WebjsSidecar) -> dict[str, str]:
    """The webjs container's environment: Fargate's runtime variables, the template's Environment and
    Secrets, and the local overrides (each of which must be a variable the template gives it)."""
    container = template.containers()[WEBJS_CONTAINER]
    environment = {**container.environment, **container_secrets(template, container.execution_role_id, container)}
    overrides = sidecar_overrides(state, sidecar)
    unknown = sorted(set(overrides) - set(environment))
    if unknown:
        raise ValueError(f"{WEBJS_CONTAINER}: the template gives it no {', '.join(unknown)} to override")
    runtime = {
        "AWS_REGION": template.region,
        "AWS_DEFAULT_REGION": template.region,
        "AWS_EXECUTION_ENV": "AWS_ECS_FARGATE",
    }
    return {**{k: v for k, v in runtime.items() if k in FARGATE_RUNTIME}, **environment, **overrides}


def sidecar_address(environment: dict[str, str]) -> tuple[str, int]:
    """Where the sidecar listens (and where the host's WACAST_WEBJS_URL points)."""
    return environment["WEBJS_HOST"], int(environment["WEBJS_PORT"])
