"""Cold start per function: how long importing its handler module takes under Python 3.12 (Lambda's
runtime), in a fresh interpreter each time (the median of several), and its three biggest imports.

The code is laid out as Lambda loads it, `make build`'s way: the function's directory first on sys.path,
then the layer (the wacast package and its requirements), every .py compiled to unchecked-hash bytecode
(deploy/check_artifacts.py). The requirements are this machine's wheels (x86_64; `make build` fetches
aarch64 ones, which cannot be loaded here), installed once into .tools/bench-layer-py312-<hash>/. The
environment is the function's own from template.yaml, plus LAMBDA_TASK_ROOT, so Powertools' tracer is
on as on Lambda (Tracing: Active). The time is measured inside the process around the import: it is what
the handler costs over a bare interpreter, whose own start is shown apart.

Run: .venv/bin/python bench/bench_cold_start.py [runs]  (PY312=/path/to/python3.12 to choose the interpreter)
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

from bench.harness import save
from local.deployables import deployables
from local.template import ROOT, TEMPLATE, LocalTemplate

REGION = "us-east-1"
FUNCTIONS = (
    "ApiFunction",
    "DispatcherFunction",
    "EventsFunction",
    "DlqFunction",
    "CountersFunction",
    "WebhooksFunction",
    "FilesFunction",
)
IMPORT = """
import importlib, sys, time
sys.path[:0] = {paths!r}
started = time.perf_counter()
importlib.import_module({module!r})
print(time.perf_counter() - started)
"""


def python312() -> str:
    """The interpreter the Makefile's PY312 names, or the first python3.12 it would find."""
    candidates = [os.environ.get("PY312", ""), shutil.which("python3.12") or ""]
    candidates += sorted(glob.glob(str(Path.home() / ".pyenv/versions/3.12*/bin/python3.12")))
    for candidate in filter(None, candidates):
        check = [candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 12)"]
        if subprocess.run(check, capture_output=True, check=False).returncode == 0:
            return candidate
    raise RuntimeError("no python3.12 found (PY312, PATH or pyenv): the cold start is measured under Lambda's 3.12")


def layer_requirements(python: str) -> Path:
    """The layer's requirements for this machine, installed once per requirements file."""
    requirements = ROOT / "layers" / "common" / "requirements.txt"
    digest = hashlib.sha256(requirements.read_bytes() + python.encode()).hexdigest()[:12]
    target = ROOT / ".tools" / f"bench-layer-py312-{digest}"
    if not (target / ".installed").exists():
        shutil.rmtree(target, ignore_errors=True)
        install = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", str(target)]
        subprocess.run([*install, "-r", str(requirements)], check=True, timeout=600, capture_output=True)
        compile_all(python, target)
        (target / ".installed").touch()
    return target


def compile_all(python: str, where: Path) -> None:
    command = [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(where)]
    subprocess.run(command, check=True, capture_output=True, timeout=600)


def build(python: str, into: Path, functions: dict[str, Path]) -> dict[str, Path]:
    """Each function's CodeUri and the layer's ContentUri (template.yaml), copied and compiled as `make build`
    leaves them. Returns each function's directory; the layer is `into/layer`."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "requirements.txt")
    layer = yaml_parse(TEMPLATE.read_text())["Resources"]["CommonLayer"]["Properties"]["ContentUri"]
    shutil.copytree(ROOT / layer, into / "layer", ignore=ignore)
    dirs = {}
    for function, code in functions.items():
        dirs[function] = into / function
        shutil.copytree(code, dirs[function], ignore=ignore)
    compile_all(python, into)
    return dirs


def biggest_imports(stderr: str, module: str, top: int = 3) -> list[dict[str, Any]]:
    """The largest imports by cumulative time (python -X importtime), skipping the handler itself and any
    import that only passes through to one child (that child is listed instead)."""
    nodes: list[dict[str, Any]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative, name = line.split(":", 1)[1].split("|")
        depth = (len(name) - len(name.lstrip())) // 2
        nodes.append(
            {"name": name.strip(), "self_ms": int(self_us) / 1000, "ms": int(cumulative) / 1000, "depth": depth}
        )
    # importtime prints children before their parent: a node's children are the deeper ones just before it
    for i, node in enumerate(nodes):
        children, j = [], i - 1
        while j >= 0 and nodes[j]["depth"] > node["depth"]:
            if nodes[j]["depth"] == node["depth"] + 1:
                children.append(nodes[j])
                nodes[j]["parent"] = node["name"]
            j -= 1
        node["largest_child_ms"] = max((c["ms"] for c in children), default=0.0)
    chosen = []
    for node in sorted(nodes, key=lambda n: -n["ms"]):
        if node["name"] == module or node["largest_child_ms"] >= 0.8 * node["ms"]:
            continue
        chosen.append({k: node.get(k) for k in ("name", "ms", "self_ms", "parent")})
        if len(chosen) == top:
            break
    return chosen


def measure(python: str, function: str, paths: list[str], env: dict[str, str], runs: int) -> dict[str, Any]:
    script = IMPORT.format(paths=paths, module="app")

    def run(*flags: str) -> subprocess.CompletedProcess[str]:
        command = [python, "-I", *flags, "-c", script]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=True)

    times = [float(run().stdout.strip().splitlines()[-1]) for _ in range(runs)]
    traced = run("-X", "importtime")
    return {
        "function": function,
        "median_ms": 1000 * statistics.median(times),
        "min_ms": 1000 * min(times),
        "max_ms": 1000 * max(times),
        "runs": runs,
        "biggest": biggest_imports(traced.stderr, "app"),
    }


def bare_start_ms(python: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([python, "-I", "-c", "pass"], check=True, timeout=60)
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def main(runs: int = 7) -> dict[str, Any]:
    python = python312()
    deps = layer_requirements(python)
    version = subprocess.run([python, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    found = deployables(LocalTemplate(None, "bench-cold-start", REGION))
    code = {f: found[f].function.code_dir for f in FUNCTIONS if found[f].function is not None}  # type: ignore[union-attr]
    results = []
    with tempfile.TemporaryDirectory(prefix="wacast-cold-") as tmp:
        dirs = build(python, Path(tmp), code)
        for function in FUNCTIONS:
            env = found[function].process_environment(REGION, None, {})
            env.pop("POWERTOOLS_TRACE_DISABLED", None)  # the local stack's: on Lambda (Tracing: Active) it is on
            env.update({"LAMBDA_TASK_ROOT": str(dirs[function]), "PATH": os.environ.get("PATH", "")})
            paths = [str(dirs[function]), str(Path(tmp) / "layer"), str(deps)]
            results.append(measure(python, function, paths, env, runs))
            r = results[-1]
            top = ", ".join(f"{b['name']} {b['ms']:.0f} ms" for b in r["biggest"])
            print(f"{function:<20} {r['median_ms']:6.0f} ms median of {runs} (min {r['min_ms']:.0f}); biggest: {top}")
    bare = bare_start_ms(python, runs)
    print(f"bare interpreter start ({version}): {bare:.0f} ms median")
    figures = {"python": version, "bare_interpreter_ms": bare, "functions": results}
    save("cold_start", figures)
    return figures


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
