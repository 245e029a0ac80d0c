"""Checks what `sam build` wrote before it is deployed, and compiles its Python code to bytecode.

- Every ELF file (and every `.so`) must be aarch64: the functions run on arm64, and a wheel for the
  build host's architecture would only fail at import time, on AWS.
- Each function's code plus its layers must stay under Lambda's 250 MB unzipped limit.
- The layers' and functions' Python is compiled to `.pyc` for the runtime's interpreter, as
  unchecked-hash files: SAM zips every file with the date 1980-01-01, so timestamp-based `.pyc`
  would never match on Lambda, and its read-only file system means each cold start would compile
  the code again.

Standard library only, so the runtime's interpreter runs it:

    python3.12 -m deploy.check_artifacts --build-dir .aws-sam/build --python python3.12
"""

from __future__ import annotations

import argparse
import os
import re
import struct
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from deploy.built_template import BuiltTemplate, parse_built_template

ELF_MAGIC = b"\x7fELF"
AARCH64 = 183
MACHINES = {3: "x86", 8: "MIPS", 20: "PowerPC", 21: "PowerPC64", 22: "s390", 40: "ARM (32-bit)", 62: "x86-64"}
SHARED_OBJECT = re.compile(r"\.so(\.\d+)*$")
LAMBDA_UNZIPPED_LIMIT = 262_144_000  # bytes, a function's code and all its layers (250 MiB)
MIB = 1024 * 1024
RUNTIME_CACHE_TAG = "cpython-312"  # Runtime: python3.12
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, source not checked


@dataclass(frozen=True)
class Offender:
    path: Path
    machine: str


@dataclass(frozen=True)
class SizeRow:
    function: str
    code_bytes: int
    layer_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.code_bytes + self.layer_bytes

    @property
    def percent_of_limit(self) -> float:
        return 100 * self.total_bytes / LAMBDA_UNZIPPED_LIMIT


def files(root: Path) -> Iterator[Path]:
    """Every file under root, symlinks followed, as SAM's zip does."""
    for dirpath, _dirs, names in os.walk(root, followlinks=True):
        for name in sorted(names):
            path = Path(dirpath, name)
            if path.is_file():
                yield path


def elf_machine(path: Path) -> int | None:
    """The ELF header's e_machine, or None when the file is not ELF. ValueError on a damaged header."""
    with path.open("rb") as f:
        header = f.read(20)
    if not header.startswith(ELF_MAGIC):
        return None
    order = {1: "<", 2: ">"}.get(header[5]) if len(header) == 20 else None
    if order is None or header[4] not in (1, 2):  # EI_DATA: 1 little, 2 big endian; EI_CLASS: 1 32-bit, 2 64-bit
        raise ValueError("damaged ELF header")
    (machine,) = struct.unpack_from(order + "H", header, 18)  # after e_ident[16] and e_type: same in both classes
    return int(machine)


def foreign_binaries(root: Path) -> list[Offender]:
    """Every ELF file under root that is not aarch64, and every `.so` that is not ELF at all."""
    offenders = []
    for path in files(root):
        try:
            machine = elf_machine(path)
        except ValueError as exc:
            offenders.append(Offender(path, str(exc)))
            continue
        if machine is None:
            if SHARED_OBJECT.search(path.name):
                offenders.append(Offender(path, "not an ELF file"))
        elif machine != AARCH64:
            offenders.append(Offender(path, f"{MACHINES.get(machine, 'unknown')} (e_machine {machine})"))
    return offenders


def dir_size(root: Path) -> int:
    return sum(path.stat().st_size for path in files(root))


def size_rows(build_dir: Path, template: BuiltTemplate) -> list[SizeRow]:
    """Unzipped size of each function and of the layers it uses (layers not built here are not counted)."""
    layer_bytes = {name: dir_size(build_dir / uri) for name, uri in template.layers.items()}
    return [
        SizeRow(
            name, dir_size(build_dir / uri), sum(layer_bytes.get(layer, 0) for layer in template.function_layers[name])
        )
        for name, uri in sorted(template.functions.items())
    ]


def size_table(rows: Sequence[SizeRow]) -> str:
    lines = [f"{'function':<24}{'code MB':>10}{'layers MB':>12}{'total MB':>11}{'% of 250 MB':>14}"]
    for row in rows:
        code, layers, total = (b / MIB for b in (row.code_bytes, row.layer_bytes, row.total_bytes))
        lines.append(f"{row.function:<24}{code:>10.2f}{layers:>12.2f}{total:>11.2f}{row.percent_of_limit:>13.1f}%")
    return "\n".join(lines)


def code_dirs(build_dir: Path, template: BuiltTemplate) -> list[Path]:
    """Where Python code is: each layer's `python/` (what Lambda puts on sys.path) and each function dir."""
    layers = [build_dir / uri / "python" for uri in template.layers.values()]
    return [path for path in layers if path.is_dir()] + [build_dir / uri for uri in template.functions.values()]


def compile_bytecode(python: str, dirs: Sequence[Path]) -> subprocess.CompletedProcess[str]:
    """compileall with the runtime's interpreter. -f: compileall keeps an existing .pyc whose timestamp
    header matches, and that one would be stale on Lambda."""
    command = [python, "-m", "compileall", "-q", "-f", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    return subprocess.run([*command, *map(str, dirs)], capture_output=True, text=True, check=False)


def interpreter(python: str) -> tuple[str, bytes]:
    """The cache tag and .pyc magic number of an interpreter."""
    probe = "import importlib.util, sys; print(sys.implementation.cache_tag, importlib.util.MAGIC_NUMBER.hex())"
    tag, magic = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    return tag, bytes.fromhex(magic)


def missing_bytecode(root: Path, cache_tag: str, magic: bytes) -> tuple[int, list[str]]:
    """How many `.py` under root have an unchecked-hash `.pyc` for cache_tag, and what is wrong with the rest."""
    good, problems = 0, []
    for source in sorted(root.rglob("*.py")):
        pyc = source.parent / "__pycache__" / f"{source.stem}.{cache_tag}.pyc"
        header = pyc.read_bytes()[:8] if pyc.is_file() else b""
        if not header:
            problems.append(f"{source}: no {pyc.name}")
        elif header[:4] != magic:
            problems.append(f"{pyc}: written by another Python (magic {header[:4].hex()})")
        elif int.from_bytes(header[4:8], "little") != UNCHECKED_HASH:
            problems.append(f"{pyc}: not an unchecked-hash .pyc")
        else:
            good += 1
    return good, problems


def _say(*lines: str) -> None:
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def check_binaries(build_dir: Path) -> list[str]:
    offenders = foreign_binaries(build_dir)
    native = sum(1 for path in files(build_dir) if SHARED_OBJECT.search(path.name))
    _say(f"binaries: {native} shared objects, {len(offenders)} not aarch64")
    return [f"not aarch64: {o.path}: {o.machine}" for o in offenders]


def check_bytecode(build_dir: Path, template: BuiltTemplate, python: str) -> list[str]:
    try:
        tag, magic = interpreter(python)
    except (OSError, subprocess.CalledProcessError) as exc:
        return [f"cannot run {python}: {exc}"]
    if tag != RUNTIME_CACHE_TAG:
        return [f"{python} is {tag}, not the runtime's {RUNTIME_CACHE_TAG}: give a python3.12 with --python"]
    dirs = code_dirs(build_dir, template)
    compiled = compile_bytecode(python, dirs)
    if compiled.returncode != 0:
        return [f"compileall failed ({compiled.returncode}):\n{compiled.stdout}{compiled.stderr}"]
    ours = [d / "wacast" for d in dirs if (d / "wacast").is_dir()] + [
        build_dir / u for u in template.functions.values()
    ]
    if not any(d.name == "wacast" for d in ours):
        return ["the wacast package is in no layer"]
    results = [missing_bytecode(d, tag, magic) for d in ours]
    good, problems = sum(n for n, _ in results), [p for _, found in results for p in found]
    _say(f"bytecode: {len(dirs)} dirs compiled; {good} modules (wacast, functions) have an unchecked-hash {tag} .pyc")
    return problems if good else ["no Python source found in wacast or the functions", *problems]


def check_sizes(build_dir: Path, template: BuiltTemplate) -> list[str]:
    rows = size_rows(build_dir, template)
    _say(size_table(rows))
    external = sorted({layer for used in template.function_layers.values() for layer in used} - set(template.layers))
    if external:
        _say(f"not counted (not built here): {', '.join(external)}")
    over = [row for row in rows if row.total_bytes >= LAMBDA_UNZIPPED_LIMIT]
    return [
        f"{row.function}: {row.total_bytes:,} bytes unzipped, Lambda's limit is {LAMBDA_UNZIPPED_LIMIT:,}"
        for row in over
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", type=Path, default=Path(".aws-sam/build"))
    parser.add_argument("--python", default="python3.12", help="the Lambda runtime's interpreter (python3.12)")
    args = parser.parse_args(argv)
    built_template = args.build_dir / "template.yaml"
    if not built_template.is_file():
        _say(f"check_artifacts: {built_template} not found: run sam build first")
        return 2
    template = parse_built_template(built_template.read_text(encoding="utf-8"))
    if not template.functions:
        _say(f"check_artifacts: no AWS::Serverless::Function with a CodeUri in {built_template}")
        return 1
    failures = check_binaries(args.build_dir)
    failures += check_bytecode(args.build_dir, template, args.python)
    failures += check_sizes(args.build_dir, template)
    if failures:
        _say(f"check_artifacts: FAILED, {len(failures)} problem(s):", *(f"  {f}" for f in failures))
        return 1
    _say("check_artifacts: OK (aarch64 only, under Lambda's size limit, bytecode compiled)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
