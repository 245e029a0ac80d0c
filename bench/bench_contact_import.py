"""CSV import of contacts: how long checking a 100,000-row file takes (pure code), and how long and how
many DynamoDB calls an import into moto takes. Prints a table.
Run: .venv/bin/python bench/bench_contact_import.py [rows written into moto]
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from moto.server import ThreadedMotoServer

from local.inprocess import build_roots, provision
from local.stack import free_port, wait_for_port
from wacast.adapters.dynamo.contact_items import ContactModel
from wacast.adapters.dynamo.optouts import OptOutModel
from wacast.adapters.dynamo.table import TableModel
from wacast.domain.accounts import Principal, Role
from wacast.domain.contact_csv import parse_contacts_csv
from wacast.domain.contact_import import plan_import
from wacast.observability import logger


def csv_file(rows: int) -> bytes:
    lines = "".join(f"98{i:08d},Person {i},vip;new,Pune,yes\n" for i in range(rows))
    return ("phone,name,tags,city,opt in\n" + lines).encode()


def check_only(rows: int) -> float:
    started = time.perf_counter()
    parsed = parse_contacts_csv(csv_file(rows), "IN")
    plan_import("a1", parsed, "imp_bench", {}, {}, datetime.now(UTC))
    return time.perf_counter() - started


def into_moto(rows: int) -> tuple[float, Counter[str]]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    wait_for_port(port)
    template = provision(f"http://127.0.0.1:{port}", f"bench-{uuid.uuid4().hex[:6]}")
    services = build_roots(template).api
    session = services.auth.register("bench@example.com", "a-long-password", "Bench")
    owner = Principal(account_id=session.account.id, user_id=session.user.id, role=Role.OWNER)
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    for model in (TableModel, ContactModel, OptOutModel):  # each model class has its own client
        model._get_connection().connection.client.meta.events.register("before-call.*.*", count)
    started = time.perf_counter()
    report = services.contacts.import_csv(owner, csv_file(rows))
    elapsed = time.perf_counter() - started
    assert report.imported == rows, report
    moto.stop()
    return elapsed, calls


def main(rows: int = 5000) -> None:
    logger.setLevel("ERROR")
    checked = check_only(100_000)
    elapsed, calls = into_moto(rows)
    print(f"{'what':<44}{'rows':>9}{'seconds':>10}")
    print(f"{'check + plan a file (no I/O)':<44}{100_000:>9}{checked:>10.2f}")
    print(f"{'import into moto (reads, opt-outs, writes)':<44}{rows:>9}{elapsed:>10.2f}")
    print()
    print(f"{'DynamoDB call':<44}{'calls':>9}{'per 1k rows':>12}")
    for name, n in sorted(calls.items()):
        print(f"{name:<44}{n:>9}{n * 1000 / rows:>12.1f}")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:2]))
