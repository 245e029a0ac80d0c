"""Loads a function's handler from its CodeUri and Handler, and gives it a Lambda context."""

from __future__ import annotations

import importlib.util
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Handler = Callable[[dict[str, Any], Any], Any]


def load_module(code_dir: Path, module_name: str, alias: str) -> Any:
    """Import `module_name` from `code_dir` under a unique `alias` (every function has an app.py)."""
    if alias in sys.modules:
        return sys.modules[alias]
    if str(code_dir) not in sys.path:
        sys.path.insert(0, str(code_dir))
    spec = importlib.util.spec_from_file_location(alias, code_dir / f"{module_name}.py")
    assert spec is not None and spec.loader is not None, code_dir
    module = importlib.util.module_from_spec(spec)
    sys.modules[alias] = module
    spec.loader.exec_module(module)
    return module


@contextmanager
def services_of(module: Any, root: Any) -> Iterator[None]:
    """Within the block, the handler module's `get_services` answers `root` (the module caches the first
    root it builds; a test or the in-process stack hands it its own)."""
    original = module.get_services
    module.get_services = lambda: root
    try:
        yield
    finally:
        module.get_services = original


def load_handler(code_dir: Path, handler: str, function_id: str) -> Handler:
    module_name, _, attribute = handler.rpartition(".")
    module = load_module(code_dir, module_name, f"wacast_fn_{function_id}")
    fn: Handler = getattr(module, attribute)
    return fn


@dataclass
class LambdaContext:
    """The attributes Powertools and handlers read from a Lambda context."""

    function_name: str
    timeout_seconds: int = 30
    #: The function's ARN names the stack's region and account (the pollers read them off their queue's ARN).
    region: str = "us-east-1"
    account_id: str = "000000000000"
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/wacast/local"
    log_stream_name: str = "local"
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))
