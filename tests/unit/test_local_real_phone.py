"""`make run DRIVER=neonize`: the QR code in the terminal, the table kept across restarts, the Chromium
check, and what the host and the whatsapp-web.js sidecar are started with (no sockets here: fakes for
DynamoDB and Secrets Manager, and the template translated without AWS)."""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import segno

from local.deployables import Deployable, deployables
from local.persist import StackSnapshot
from local.qr_terminal import QrPrinter, SenderView, SenderWatcher, render_qr, sender_view
from local.real_phone import CHROMIUM, RealPhone, find_chromium, howto, plan
from local.sidecar import WEBJS_MAIN, WebjsSidecar, sidecar_address, sidecar_environment
from local.stack import local_overrides
from local.template import LocalTemplate

WHATSAPP_QR = "2@Xk3bLr0pQm8vT1u5GhYw,Zq9Rj2Ls7Nv4Mp6Kc1Dx0Fw=,aGVsbG8td2FjYXN0LXRlc3Q=,c2Vzc2lvbi1rZXk="
HALF_BLOCKS = {" ": (1, 1), "\u2580": (0, 1), "\u2584": (1, 0), "\u2588": (0, 0)}  # (top, bottom) dark


def modules(block: str) -> list[list[int]]:
    """The dark (1) and light (0) modules of a compact terminal QR block, quiet zone included."""
    rows: list[list[int]] = []
    for line in block.splitlines():
        pairs = [HALF_BLOCKS[c] for c in line]
        rows += [[top for top, _ in pairs], [bottom for _, bottom in pairs]]
    return rows


def qr_modules(text: str, border: int = 4) -> list[list[int]]:
    """The modules of `text`'s QR code as segno encodes it, with the quiet zone."""
    matrix = [list(row) for row in segno.make(text, micro=False).matrix]
    width = len(matrix[0]) + 2 * border
    blank = [[0] * width for _ in range(border)]
    return blank + [[0] * border + row + [0] * border for row in matrix] + blank


# -- the QR code in the terminal -------------------------------------------------------------------


def test_the_printed_block_is_the_qr_code_of_the_string() -> None:
    printed = modules(render_qr(WHATSAPP_QR))
    expected = qr_modules(WHATSAPP_QR)
    assert printed[: len(expected)] == expected
    assert len(printed) - len(expected) in (0, 1)  # an odd height leaves half a line of terminal background
    assert all(all(row) for row in printed[len(expected) :])
    assert len(expected) > 21  # a normal QR code, not a micro one (phones do not read those)


def linking(qr: str, sender_id: str = "sndr_1", code: str | None = None) -> SenderView:
    return SenderView(id=sender_id, phone="+919876543210", state="linking", qr=qr, pairing_code=code)


def test_each_new_qr_code_prints_once_with_the_sender_and_its_number() -> None:
    # given
    out: list[str] = []
    printer = QrPrinter(out.append)
    # when the host shows a QR code, then shows it again, then rotates it
    printer.update([linking("2@first")])
    printer.update([linking("2@first")])
    printer.update([linking("2@second")])
    # then
    blocks = [text for text in out if "scan this QR code" in text]
    assert len(blocks) == 2
    assert all("sndr_1 (+919876543210)" in block for block in blocks)
    assert blocks[0].endswith(render_qr("2@first")) and blocks[1].endswith(render_qr("2@second"))
    assert out.count("sender sndr_1 (+919876543210): linking\n") == 1


def test_two_senders_linking_at_once_each_get_their_qr_code() -> None:
    out: list[str] = []
    printer = QrPrinter(out.append, render=lambda qr: f"<{qr}>\n")
    printer.update([linking("2@a", "sndr_a"), linking("2@b", "sndr_b")])
    printer.update([linking("2@a", "sndr_a"), linking("2@b", "sndr_b")])
    qr_lines = [text for text in out if "scan this QR code" in text]
    assert len(qr_lines) == 2
    assert "sender sndr_a" in qr_lines[0] and qr_lines[0].endswith("<2@a>\n")
    assert "sender sndr_b" in qr_lines[1] and qr_lines[1].endswith("<2@b>\n")


def test_a_pairing_code_prints_once_and_a_state_change_with_its_error() -> None:
    out: list[str] = []
    printer = QrPrinter(out.append)
    printer.update([SenderView(id="s", phone="+1555", state="linking", pairing_code="ABCD-EFGH")])
    printer.update([SenderView(id="s", phone="+1555", state="linking", pairing_code="ABCD-EFGH")])
    failed = "neonize: connect_failed: dial tcp 127.0.0.1:9: connect: connection refused"
    printer.update([SenderView(id="s", phone="+1555", state="disconnected", last_error=failed)])
    printer.update([SenderView(id="s", phone="+1555", state="connected")])
    assert [text for text in out if "pairing code" in text] == [
        "\nsender s (+1555): pairing code ABCD-EFGH\n"
        "  on the phone: Settings > Linked devices > Link a device > Link with phone number instead\n"
    ]
    states = [text for text in out if "pairing code" not in text]
    assert states == [
        "sender s (+1555): linking\n",
        f"sender s (+1555): disconnected ({failed})\n",
        "sender s (+1555): connected\n",
    ]


def test_a_sender_item_reads_as_the_host_wrote_it() -> None:
    item = {
        "pk": {"S": "ACCT#a"},
        "sk": {"S": "SENDER#sndr_9"},
        "id": {"S": "sndr_9"},
        "phone": {"S": "+919800000001"},
        "state": {"S": "linking"},
        "qr": {"S": "2@abc"},
        "drivers_json": {"S": '["neonize"]'},
    }
    assert sender_view(item) == SenderView(id="sndr_9", phone="+919800000001", state="linking", qr="2@abc")
    assert sender_view({"id": {"S": "s"}}).state == "new"


def test_the_watcher_says_once_that_it_cannot_read_and_goes_on_when_it_can() -> None:
    out: list[str] = []
    answers: Iterator[Any] = iter([OSError("moto is gone"), OSError("moto is gone"), [linking("2@q")]])

    def read() -> list[SenderView]:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return list(answer)

    watcher = SenderWatcher(read, QrPrinter(out.append, render=lambda qr: qr))
    for _ in range(3):
        watcher.look()
    assert out[0] == "(cannot read the senders for the terminal QR codes: moto is gone)\n"
    assert len(out) == 3 and out[2].endswith("2@q")


# -- the table and the secrets across restarts ----------------------------------------------------------


class FakeDynamo:
    """The part of a boto3 DynamoDB client StackSnapshot uses: Scan in pages, BatchWriteItem (which leaves
    the first request of each batch unprocessed once, as DynamoDB may)."""

    def __init__(self, items: list[dict[str, Any]] | None = None, page: int = 2) -> None:
        self.items = list(items or [])
        self.page = page
        self.batches: list[int] = []
        self._throttled: set[str] = set()

    def get_paginator(self, operation: str) -> FakeDynamo:
        assert operation == "scan"
        return self

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        assert kwargs["TableName"] == "t" and kwargs["ConsistentRead"] is True
        for start in range(0, len(self.items), self.page):
            yield {"Items": self.items[start : start + self.page]}

    def batch_write_item(self, RequestItems: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:  # noqa: N803
        ((table, requests),) = RequestItems.items()
        assert table == "t" and 0 < len(requests) <= 25
        self.batches.append(len(requests))
        key = json.dumps(requests[0]["PutRequest"]["Item"]["sk"])
        unprocessed = requests[:1] if key not in self._throttled else []
        self._throttled.add(key)
        self.items += [r["PutRequest"]["Item"] for r in requests[len(unprocessed) :]]
        return {"UnprocessedItems": {table: unprocessed} if unprocessed else {}}


class FakeSecrets:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def get_secret_value(self, SecretId: str) -> dict[str, str]:  # noqa: N803
        return {"SecretString": self.values[SecretId]}

    def put_secret_value(self, SecretId: str, SecretString: str) -> None:  # noqa: N803
        self.values[SecretId] = SecretString


def item(n: int) -> dict[str, Any]:
    return {
        "pk": {"S": f"ACCT#{n}"},
        "sk": {"S": f"SENDER#{n}"},
        "count": {"N": str(n)},
        "raw": {"B": bytes([n, 0, 255])},
        "tags": {"SS": ["a", "b"]},
        "nested": {"M": {"blob": {"B": b"\x00x"}, "list": {"L": [{"S": "x"}, {"BOOL": True}, {"NULL": True}]}}},
    }


def test_the_table_and_the_secrets_come_back_in_the_next_run(tmp_path: Path) -> None:
    # given a run that saved 30 items and its secrets
    saved = [item(n) for n in range(30)]
    first = StackSnapshot(
        tmp_path, FakeDynamo(saved), FakeSecrets({"arn:jwt-1": "signing-key"}), "t", {"JwtSecret": "arn:jwt-1"}
    )
    assert first.save() == 30
    # when the next run, with a new empty table and new secrets, restores them
    table, secrets = FakeDynamo(), FakeSecrets({"arn:jwt-2": "fresh-random-key"})
    restored = StackSnapshot(tmp_path, table, secrets, "t", {"JwtSecret": "arn:jwt-2"}).restore()
    # then
    assert restored == 30
    assert sorted(table.items, key=lambda i: i["count"]["N"]) == sorted(saved, key=lambda i: i["count"]["N"])
    assert secrets.values == {"arn:jwt-2": "signing-key"}  # tokens signed before the restart stay valid
    assert all(size <= 25 for size in table.batches)
    for saved_file in (tmp_path / "table.json", tmp_path / "secrets.json"):
        assert stat.S_IMODE(saved_file.stat().st_mode) == 0o600  # password hashes and signing keys


def test_binary_values_are_kept_as_base64_in_the_file(tmp_path: Path) -> None:
    StackSnapshot(tmp_path, FakeDynamo([item(7)]), FakeSecrets({}), "t", {}).save()
    document = json.loads((tmp_path / "table.json").read_text())
    assert document["items"][0]["raw"] == {"B64": base64.b64encode(bytes([7, 0, 255])).decode()}


def test_a_first_run_restores_nothing(tmp_path: Path) -> None:
    table = FakeDynamo()
    assert StackSnapshot(tmp_path, table, FakeSecrets({"arn": "x"}), "t", {"JwtSecret": "arn"}).restore() == 0
    assert table.batches == []


def test_a_damaged_save_stops_the_start_and_says_how_to_start_afresh(tmp_path: Path) -> None:
    (tmp_path / "table.json").write_text('{"items": [')
    with pytest.raises(Exception, match="delete that folder to start afresh") as refused:
        StackSnapshot(tmp_path, FakeDynamo(), FakeSecrets({}), "t", {}).restore()
    assert str(tmp_path) in str(refused.value)


# -- Chromium, the host's arguments and the sidecar's environment -----------------------------------------


def test_chromium_is_found_where_debian_puts_it_or_on_path() -> None:
    assert find_chromium(lambda path: path == CHROMIUM, lambda name: None) == CHROMIUM
    assert find_chromium(lambda path: False, {"chromium": "/snap/bin/chromium"}.get) == "/snap/bin/chromium"
    assert find_chromium(lambda path: False, lambda name: None) is None


def test_without_chromium_the_fallback_is_off_and_says_why() -> None:
    phone = plan(chromium=None, node="/usr/bin/node", installed=True)
    assert phone.webjs is None and phone.drivers == ["neonize"]
    assert "OFF" in phone.fallback and "Chromium is not installed" in phone.fallback
    assert "apt-get install chromium" in phone.fallback
    assert "make webjs-install" in plan("/usr/bin/chromium", "/usr/bin/node", installed=False).fallback
    assert "node is not on PATH" in plan("/usr/bin/chromium", None, installed=True).fallback


def test_with_chromium_the_sidecar_runs_main_js_with_node() -> None:
    phone = plan(chromium="/usr/bin/chromium", node="/usr/bin/node", installed=True)
    assert phone.webjs == WebjsSidecar(chromium="/usr/bin/chromium", command=("/usr/bin/node", WEBJS_MAIN))
    assert phone.drivers == ["neonize", "webjs"] and "on" in phone.fallback
    assert phone.host_args[:2] == ["--driver", "neonize"]


@cache
def dry_template() -> LocalTemplate:
    return LocalTemplate(None, "wacast-unit", "us-east-1")


@cache
def template_deployables() -> dict[str, Deployable]:
    return deployables(dry_template())


def test_new_accounts_get_no_simulated_sender_with_the_real_drivers(tmp_path: Path) -> None:
    api = template_deployables()["ApiFunction"]
    real = api.process_environment(
        "us-east-1", None, local_overrides("ApiFunction", tmp_path, plan(None, None, False).host_args)
    )
    simulated = api.process_environment(
        "us-east-1", None, local_overrides("ApiFunction", tmp_path, ["--driver", "simulated"])
    )
    assert real["WACAST_DEFAULT_DRIVER"] == "neonize" and simulated["WACAST_DEFAULT_DRIVER"] == "simulated"


def test_the_sidecar_gets_exactly_the_webjs_containers_environment(tmp_path: Path) -> None:
    # given the template's webjs container and the host as the local stack runs it
    template = dry_template()
    container = template.containers()["SessionHostTask/webjs"]
    host = template_deployables()["SessionHost"]
    host_env = host.process_environment(
        "us-east-1", None, local_overrides("SessionHost", tmp_path, ["--driver", "neonize"])
    )
    # when
    env = sidecar_environment(template, tmp_path, WebjsSidecar(chromium="/opt/chromium/chrome"))
    # then: the template's variables and secret, nothing else but Fargate's own, two of them pointed here
    assert set(env) == set(container.environment) | set(container.secrets) | {
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
    }
    assert env["WEBJS_AUTH_DIR"] == str(Path(host_env["WACAST_SESSION_STORE"]) / "webjs")
    assert env["PUPPETEER_EXECUTABLE_PATH"] == "/opt/chromium/chrome"
    shared = template.containers()["SessionHostTask/session-host"].secrets["WACAST_WEBJS_SECRET"]
    assert container.secrets["WEBJS_SECRET"] == shared  # the host's secret (resolved for real in the integration test)
    host_name, port = sidecar_address(env)
    assert host_env["WACAST_WEBJS_URL"] == f"http://{host_name}:{port}"  # where the host looks for it
    assert not any(k.startswith("AWS_ENDPOINT") or k == "AWS_ACCESS_KEY_ID" for k in env)


def test_the_how_to_names_the_routes_a_user_calls() -> None:
    text = howto("http://127.0.0.1:3000", RealPhone("fallback off"))
    assert "-XPOST http://127.0.0.1:3000/api/auth/register" in text
    assert "-XPOST http://127.0.0.1:3000/api/senders " in text and '"drivers":["neonize"]' in text
    assert "-XPOST http://127.0.0.1:3000/api/senders/$SENDER/link" in text
    assert "/api/senders/$SENDER/pairing-code" in text and "/api/messages/send" in text
