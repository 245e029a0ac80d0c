"""Keeping a local stack's data across restarts (`make run DRIVER=neonize`).

moto keeps DynamoDB in memory, so the accounts, users and senders would vanish with the stack, and the
session host would not know which linked sessions to reopen (the session stores on disk would be left
behind, unused). A `StackSnapshot` saves the table's items to `<state>/table.json` and the template's
secrets (the JWT signing key, the sidecar's secret) to `<state>/secrets.json` when the stack stops, and
every `AUTOSAVE_SECONDS` while it runs; the next start of the same stack puts them back before any
deployable starts. Queues and schedules are not kept.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FORMAT = 1
#: BatchWriteItem takes at most 25 items.
BATCH = 25
AUTOSAVE_SECONDS = 30.0


def encode(value: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB attribute value as JSON (binary values as base64)."""
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B64": base64.b64encode(inner).decode()}
    if kind == "BS":
        return {"BS64": [base64.b64encode(b).decode() for b in inner]}
    if kind == "M":
        return {"M": {k: encode(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [encode(v) for v in inner]}
    return {kind: inner}


def decode(value: Mapping[str, Any]) -> dict[str, Any]:
    ((kind, inner),) = value.items()
    if kind == "B64":
        return {"B": base64.b64decode(inner)}
    if kind == "BS64":
        return {"BS": [base64.b64decode(b) for b in inner]}
    if kind == "M":
        return {"M": {k: decode(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [decode(v) for v in inner]}
    return {kind: inner}


def write_private(path: Path, document: Any) -> None:
    """Write JSON readable by the owner only (password hashes, signing keys), replacing the file at once."""
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(document, out)
    partial.replace(path)


class SnapshotError(Exception):
    """The saved state cannot be put back (the message says which file, and how to start afresh)."""


class StackSnapshot:
    """The table's items and the secrets' values of one local stack, on disk."""

    def __init__(self, state: Path, dynamodb: Any, secretsmanager: Any, table: str, secrets: Mapping[str, str]):
        self.state = state
        self.dynamodb = dynamodb
        self.secretsmanager = secretsmanager
        self.table = table
        #: logical id -> ARN of this run's secret
        self.secrets = dict(secrets)
        self._lock = threading.Lock()

    @property
    def table_file(self) -> Path:
        return self.state / "table.json"

    @property
    def secrets_file(self) -> Path:
        return self.state / "secrets.json"

    def restore(self) -> int:
        """Put the saved items and secrets back; the number of items (0 when nothing was saved)."""
        try:
            secrets = json.loads(self.secrets_file.read_text()) if self.secrets_file.exists() else {}
            saved = json.loads(self.table_file.read_text()) if self.table_file.exists() else {"items": []}
            items = [{k: decode(v) for k, v in item.items()} for item in saved["items"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SnapshotError(
                f"cannot read the saved local state in {self.state} ({exc}); delete that folder to start afresh"
            ) from exc
        for logical_id, value in secrets.items():
            if logical_id in self.secrets:
                self.secretsmanager.put_secret_value(SecretId=self.secrets[logical_id], SecretString=value)
        for start in range(0, len(items), BATCH):
            self._write([{"PutRequest": {"Item": item}} for item in items[start : start + BATCH]])
        return len(items)

    def save(self) -> int:
        """Write every item of the table and every secret to disk; the number of items."""
        with self._lock:
            pages = self.dynamodb.get_paginator("scan").paginate(TableName=self.table, ConsistentRead=True)
            items = [{k: encode(v) for k, v in item.items()} for page in pages for item in page.get("Items", [])]
            secrets = {
                logical_id: self.secretsmanager.get_secret_value(SecretId=arn)["SecretString"]
                for logical_id, arn in self.secrets.items()
            }
            saved_at = datetime.now(UTC).isoformat()
            write_private(self.table_file, {"format": FORMAT, "saved_at": saved_at, "items": items})
            write_private(self.secrets_file, secrets)
            return len(items)

    def _write(self, requests: list[dict[str, Any]], attempts: int = 8) -> None:
        for attempt in range(attempts):
            answer = self.dynamodb.batch_write_item(RequestItems={self.table: requests})
            requests = answer.get("UnprocessedItems", {}).get(self.table, [])
            if not requests:
                return
            time.sleep(min(1.0, 0.05 * 2**attempt))
        raise SnapshotError(f"{len(requests)} saved items could not be written back to {self.table}")


class Autosave:
    """Saves the snapshot every `every` seconds, so a stack that is killed loses at most that much."""

    def __init__(self, snapshot: StackSnapshot, every: float = AUTOSAVE_SECONDS) -> None:
        self.snapshot = snapshot
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="local-autosave", daemon=True)

    def start(self) -> Autosave:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.snapshot.save()
            except Exception as exc:  # the next round, or the save on stop, tries again
                sys.stderr.write(f"saving the local state to {self.snapshot.state} failed: {exc}\n")
