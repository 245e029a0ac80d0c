"""deploy/check_artifacts.py, the gate of `make build`: it must catch a binary built for the wrong
architecture, a function over Lambda's size limit, and code left without runtime bytecode."""

from __future__ import annotations

import importlib.util
import py_compile
import struct
import sys
from pathlib import Path

from deploy import check_artifacts as ca
from deploy.built_template import parse_built_template

# The shape `sam build` writes: indentless lists, `Ref:` maps, folded strings, block scalars.
BUILT_TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: 'wacast: WhatsApp campaigns on AWS. HTTP API + SQS consumers on Lambda,
  state in DynamoDB.

  '
Globals:
  Function:
    Runtime: python3.12
    Architectures:
    - arm64
    Layers:
    - Ref: CommonLayer
Resources:
  CommonLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: CommonLayer
      CompatibleRuntimes:
      - python3.12
    Metadata:
      BuildMethod: python3.12
  ApiFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ApiFunction
      Handler: app.handler
      Policies:
      - DynamoDBCrudPolicy:
          TableName:
            Ref: Table
  ReportsFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ReportsFunction
      Layers:
      - Ref: ChartsLayer
      - arn:aws:lambda:us-east-1:580247275435:layer:LambdaInsightsExtension-Arm64:20
      - Fn::If:
        - HasCharts
        - NotALayer
        - Ref: AWS::NoValue
      Environment:
        Variables:
          Layers: NotALayer
  ChartsLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: ChartsLayer
  Dashboard:
    Type: AWS::CloudWatch::Dashboard
    Properties:
      DashboardBody: |
        Layers:
        - Ref: NotALayer
"""


def elf(machine: int, *, bits: int = 64, big_endian: bool = False) -> bytes:
    """An ELF header: e_ident (class, data, version), then e_type ET_DYN, e_machine, e_version."""
    ident = b"\x7fELF" + bytes([2 if bits == 64 else 1, 2 if big_endian else 1, 1]) + bytes(9)
    return ident + struct.pack(">HHI" if big_endian else "<HHI", 3, machine, 1) + bytes(40)


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_an_aarch64_shared_object_passes(tmp_path: Path) -> None:
    write(tmp_path / "CommonLayer/python/pydantic_core/_core.cpython-312-aarch64-linux-gnu.so", elf(183))
    write(tmp_path / "CommonLayer/python/_ffi.abi3.so", elf(183, big_endian=True))

    assert ca.foreign_binaries(tmp_path) == []


def test_an_x86_64_shared_object_is_reported_with_its_path_and_machine(tmp_path: Path) -> None:
    write(tmp_path / "CommonLayer/python/good.so", elf(183))
    bad = write(tmp_path / "CommonLayer/python/pydantic_core/_core.cpython-312-x86_64-linux-gnu.so", elf(62))

    assert ca.foreign_binaries(tmp_path) == [ca.Offender(bad, "x86-64 (e_machine 62)")]


def test_every_foreign_elf_is_listed_whatever_its_name_class_or_byte_order(tmp_path: Path) -> None:
    # given an executable without .so, a 32-bit ARM library and a versioned big-endian MIPS one
    tool = write(tmp_path / "CommonLayer/python/bin/tool", elf(62))
    arm32 = write(tmp_path / "ApiFunction/libfoo.so", elf(40, bits=32))
    mips = write(tmp_path / "ApiFunction/libbar.so.1.2", elf(8, bits=32, big_endian=True))

    offenders = ca.foreign_binaries(tmp_path)

    assert {(o.path, o.machine) for o in offenders} == {
        (tool, "x86-64 (e_machine 62)"),
        (arm32, "ARM (32-bit) (e_machine 40)"),
        (mips, "MIPS (e_machine 8)"),
    }


def test_files_that_are_not_elf_are_ignored_but_a_so_must_be_elf(tmp_path: Path) -> None:
    write(tmp_path / "ApiFunction/app.py", b"def handler(event, context): ...\n")
    write(tmp_path / "ApiFunction/data.bin", b"\x00\x01\xfe\xff binary, the magic not first: \x7fELF\x02\x01")
    write(tmp_path / "ApiFunction/empty", b"")
    fake = write(tmp_path / "ApiFunction/libfake.so", b"/* GNU ld script */\n")
    cut = write(tmp_path / "ApiFunction/libcut.so", b"\x7fELF\x02\x01")

    offenders = ca.foreign_binaries(tmp_path)

    assert offenders == [ca.Offender(cut, "damaged ELF header"), ca.Offender(fake, "not an ELF file")]


def test_the_built_template_gives_each_function_its_code_and_its_layers() -> None:
    built = parse_built_template(BUILT_TEMPLATE)

    assert built.functions == {"ApiFunction": "ApiFunction", "ReportsFunction": "ReportsFunction"}
    assert built.layers == {"CommonLayer": "CommonLayer", "ChartsLayer": "ChartsLayer"}
    # Globals' layers come first, then the function's own (SAM merges the lists)
    insights = "arn:aws:lambda:us-east-1:580247275435:layer:LambdaInsightsExtension-Arm64:20"
    assert built.function_layers == {
        "ApiFunction": ["CommonLayer"],
        "ReportsFunction": ["CommonLayer", "ChartsLayer", insights, "Fn::If"],
    }


def test_the_size_table_sums_a_function_and_its_layers(tmp_path: Path) -> None:
    # given
    write(tmp_path / "ApiFunction/app.py", bytes(300_000))
    write(tmp_path / "ApiFunction/routes/contacts.py", bytes(200_000))
    write(tmp_path / "ReportsFunction/app.py", bytes(1_000))
    write(tmp_path / "CommonLayer/python/wacast/__init__.py", bytes(4_000_000))
    write(tmp_path / "CommonLayer/python/pydantic_core/_core.so", bytes(6_000_000))
    write(tmp_path / "ChartsLayer/python/charts.py", bytes(2_000_000))

    # when
    rows = ca.size_rows(tmp_path, parse_built_template(BUILT_TEMPLATE))

    # then
    assert rows == [
        ca.SizeRow("ApiFunction", code_bytes=500_000, layer_bytes=10_000_000),
        ca.SizeRow("ReportsFunction", code_bytes=1_000, layer_bytes=12_000_000),
    ]
    table = ca.size_table(rows).splitlines()
    assert table[1].split() == ["ApiFunction", "0.48", "9.54", "10.01", "4.0%"]
    assert table[2].split() == ["ReportsFunction", "0.00", "11.44", "11.45", "4.6%"]


def test_a_function_at_lambdas_unzipped_limit_fails_the_check(tmp_path: Path) -> None:
    # given a layer 10 bytes under the limit (a sparse file: its size without the disk space)
    layer_file = tmp_path / "CommonLayer/python/big.bin"
    layer_file.parent.mkdir(parents=True)
    with layer_file.open("wb") as f:
        f.truncate(ca.LAMBDA_UNZIPPED_LIMIT - 10)
    write(tmp_path / "ApiFunction/app.py", bytes(10))
    write(tmp_path / "ReportsFunction/app.py", bytes(9))
    write(tmp_path / "ChartsLayer/python/charts.py", b"")

    failures = ca.check_sizes(tmp_path, parse_built_template(BUILT_TEMPLATE))

    assert failures == ["ApiFunction: 262,144,000 bytes unzipped, Lambda's limit is 262,144,000"]


def test_only_unchecked_hash_bytecode_of_the_interpreter_counts(tmp_path: Path) -> None:
    # given a package with one module compiled as compileall does for make build, one compiled with
    # timestamps (stale on Lambda: the zip dates every file 1980) and one not compiled at all
    tag, magic = sys.implementation.cache_tag, importlib.util.MAGIC_NUMBER
    good = write(tmp_path / "wacast/good.py", b"X = 1\n")
    stamped = write(tmp_path / "wacast/stamped.py", b"Y = 2\n")
    bare = write(tmp_path / "wacast/domain/bare.py", b"Z = 3\n")
    py_compile.compile(str(good), invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH, doraise=True)
    py_compile.compile(str(stamped), invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP, doraise=True)

    count, problems = ca.missing_bytecode(tmp_path / "wacast", tag, magic)

    assert count == 1
    assert problems == [
        f"{bare}: no bare.{tag}.pyc",
        f"{tmp_path}/wacast/__pycache__/stamped.{tag}.pyc: not an unchecked-hash .pyc",
    ]
    count, problems = ca.missing_bytecode(tmp_path / "wacast", tag, b"\x00\x00\r\n")  # another interpreter's
    assert count == 0
    assert (
        f"{tmp_path}/wacast/__pycache__/good.{tag}.pyc: written by another Python (magic {magic[:4].hex()})" in problems
    )


def test_compiling_replaces_timestamp_bytecode_with_unchecked_hash(tmp_path: Path) -> None:
    source = write(tmp_path / "CommonLayer/python/wacast/settings.py", b"NAME = 'wacast'\n")
    py_compile.compile(str(source), invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP, doraise=True)

    result = ca.compile_bytecode(sys.executable, [tmp_path / "CommonLayer/python"])

    assert result.returncode == 0, result.stdout + result.stderr
    count, problems = ca.missing_bytecode(tmp_path, sys.implementation.cache_tag, importlib.util.MAGIC_NUMBER)
    assert (count, problems) == (1, [])
