"""Writes the API's OpenAPI document to openapi.json at the repo root (`make openapi`).

The committed file is what clients and reviewers read; a unit test fails when it drifts from the app.
"""

from __future__ import annotations

import json
from typing import Any

from local.lambda_runtime import load_module
from local.template import ROOT

OPENAPI_FILE = ROOT / "openapi.json"


def current() -> dict[str, Any]:
    """The OpenAPI document the app serves at /openapi.json."""
    app = load_module(ROOT / "functions/api", "app", "wacast_fn_ApiFunction").app
    document: dict[str, Any] = app.openapi()
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    OPENAPI_FILE.write_text(render(current()))
    print(f"wrote {OPENAPI_FILE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
