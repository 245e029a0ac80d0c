"""A Lambda function's cold start imports its handler module: it must load only what that function needs
to start. Password hashing (argon2), QR drawing (segno), phone metadata (phonenumbers) and boto3 are
loaded by the routes and services that use them, and no function loads another deployable's root.
Each import runs in a fresh interpreter, laid out as Lambda lays it out (the function's directory, then
the layer), with tracing on as in Lambda (`Tracing: Active`). The times live in bench/bench_cold_start.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(p.parent for p in (ROOT / "functions").glob("*/app.py"))
#: Loaded on first use only: never by importing a handler module.
LAZY = ("argon2", "segno", "phonenumbers", "boto3", "httpx", "sqlite3")
#: The api's routers are built by the first request under their paths (functions/api/app.py).
ROUTERS = ("routes.auth", "routes.campaigns", "routes.contacts", "routes.messages", "routes.senders")
#: Each function's own composition root: it loads that one and no other.
OWN_ROOT = {
    name: f"wacast.bootstrap.{name}" for name in ("api", "counters", "dispatcher", "dlq", "events", "files", "webhooks")
}
ROOTS = (*OWN_ROOT.values(), "wacast.bootstrap.host")
#: The api builds the file services as the files function does (`wacast.bootstrap.files.file_services`).
SHARED_ROOTS = {"api": {"wacast.bootstrap.files"}}

IMPORT = """
import importlib, json, sys
sys.path[:0] = {paths!r}
importlib.import_module("app")
print(json.dumps(sorted(sys.modules)))
"""


def loaded_by_import(function: Path) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERTOOLS_TRACE")}
    env.update(LAMBDA_TASK_ROOT=str(function), AWS_LAMBDA_FUNCTION_NAME=function.name)  # the tracer is on
    script = IMPORT.format(paths=[str(function), str(ROOT / "layers" / "common")])
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize("function", FUNCTIONS, ids=[f.name for f in FUNCTIONS])
def test_a_handler_module_loads_no_library_it_only_needs_later(function: Path) -> None:
    # given a fresh interpreter / when the handler module is imported
    modules = loaded_by_import(function)
    # then no library that only some requests use is loaded, nor another deployable's composition root
    assert sorted(m for m in (*LAZY, *ROUTERS) if m in modules) == []
    own_root = OWN_ROOT[function.name]
    assert own_root in modules
    others = {own_root} | SHARED_ROOTS.get(function.name, set())
    assert sorted(r for r in ROOTS if r in modules and r not in others) == []


def test_where_tracing_is_off_the_x_ray_sdk_is_not_loaded() -> None:
    # given a process outside Lambda (the session host on ECS, the local stack): Powertools turns tracing off
    env = {k: v for k, v in os.environ.items() if k not in ("LAMBDA_TASK_ROOT", "POWERTOOLS_TRACE_DISABLED")}
    script = """
import sys
from wacast.observability import tracer

@tracer.capture_lambda_handler(capture_response=False)
def handler(event, context):
    return event["n"] + 1

print(handler({"n": 41}, None), "aws_xray_sdk.core" in sys.modules, "botocore.session" in sys.modules)
"""
    # when the observability module is imported and a traced handler runs
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    # then the handler ran, and X-Ray's recorder (whose sampler opens a botocore session of its own) never loaded
    assert done.stdout.split() == ["42", "False", "False"]
