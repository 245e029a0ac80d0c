"""The session host's container health check: a heartbeat file the outbox consumer touches on each poll."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from session_host.consumer import OutboxConsumer
from session_host.health import HEARTBEAT_FILE_ENV, Heartbeat, main
from tests.fakes import FakeClock, InMemoryQueue
from wacast.domain.outbox import OutboxMessage
from wacast.ports import QueueMessage
from wacast.services.delivery import ACK, Disposition

NOW = 1_800_000_000.0


# -- the heartbeat file -------------------------------------------------------------------------


def test_a_recent_beat_is_fresh(tmp_path: Path) -> None:
    heartbeat = Heartbeat(tmp_path / "hb")
    heartbeat.beat(now=NOW)
    assert heartbeat.age(NOW + 30) == pytest.approx(30)
    assert heartbeat.is_fresh(120, now=NOW + 30)


def test_an_old_beat_is_stale(tmp_path: Path) -> None:
    heartbeat = Heartbeat(tmp_path / "hb")
    heartbeat.beat(now=NOW)
    assert not heartbeat.is_fresh(120, now=NOW + 121)


def test_no_file_has_no_age_and_is_not_fresh(tmp_path: Path) -> None:
    heartbeat = Heartbeat(tmp_path / "never-written")
    assert heartbeat.age(NOW) is None
    assert not heartbeat.is_fresh(120, now=NOW)


def test_a_garbled_file_counts_as_no_heartbeat(tmp_path: Path) -> None:
    (tmp_path / "hb").write_text("not a time")
    assert Heartbeat(tmp_path / "hb").age(NOW) is None


def test_each_beat_replaces_the_last_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    heartbeat = Heartbeat(tmp_path / "dir" / "hb")
    heartbeat.beat(now=NOW)
    heartbeat.beat(now=NOW + 50)
    assert heartbeat.age(NOW + 60) == pytest.approx(10)
    assert [p.name for p in (tmp_path / "dir").iterdir()] == ["hb"]


def test_a_beat_without_a_time_uses_the_current_time(tmp_path: Path) -> None:
    heartbeat = Heartbeat(tmp_path / "hb")
    heartbeat.beat()
    assert heartbeat.is_fresh(120)


# -- the CLI: python -m session_host.health ------------------------------------------------------


def _exit_code(argv: list[str]) -> int | str | None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    return exited.value.code


def test_the_check_passes_on_a_fresh_heartbeat(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Heartbeat(tmp_path / "hb").beat()
    assert _exit_code(["--file", str(tmp_path / "hb")]) == 0
    assert capsys.readouterr().err == ""


def test_the_check_fails_on_a_stale_heartbeat_and_says_how_old(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Heartbeat(tmp_path / "hb").beat(now=time.time() - 3600)
    assert _exit_code(["--file", str(tmp_path / "hb"), "--max-age", "120"]) == 1
    err = capsys.readouterr().err
    assert "old" in err and "max 120s" in err
    assert err.count("\n") == 1


def test_the_check_fails_when_there_is_no_heartbeat(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _exit_code(["--file", str(tmp_path / "missing")]) == 1
    err = capsys.readouterr().err
    assert str(tmp_path / "missing") in err
    assert err.count("\n") == 1


def test_max_age_is_configurable(tmp_path: Path) -> None:
    Heartbeat(tmp_path / "hb").beat(now=time.time() - 600)
    assert _exit_code(["--file", str(tmp_path / "hb"), "--max-age", "3600"]) == 0
    assert _exit_code(["--file", str(tmp_path / "hb"), "--max-age", "300"]) == 1


def test_the_file_comes_from_the_environment_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HEARTBEAT_FILE_ENV, str(tmp_path / "from-env"))
    assert _exit_code([]) == 1
    Heartbeat(tmp_path / "from-env").beat()
    assert _exit_code([]) == 0


# -- the outbox consumer beats once per poll ------------------------------------------------------


class ScriptedOutbox(InMemoryQueue):
    """The in-memory queue, for a given number of receives. The receive after those announces it
    (`drained`), waits for the test to `release` it, then fails, as a receive from a broken SQS would."""

    def __init__(self, good_receives: int) -> None:
        super().__init__(FakeClock(), "outbox")
        self.good_receives = good_receives
        self.receives = 0
        self.drained = threading.Event()
        self.release = threading.Event()

    def receive(self, max_messages: int = 10, wait_seconds: int = 20) -> list[QueueMessage]:
        self.receives += 1
        if self.receives > self.good_receives:
            self.drained.set()
            self.release.wait(timeout=10)
            raise ConnectionError("SQS is unreachable")
        return super().receive(max_messages, wait_seconds)


class AckingDelivery:
    """A DeliveryService stand-in: every message is sent."""

    def handle(self, body: OutboxMessage) -> Disposition:
        return ACK


def _run_until_drained(outbox: ScriptedOutbox, heartbeat: Callable[[], None]) -> None:
    """Start a consumer, let it go through the good receives into a failing one, then stop it (which
    waits for the poll loop to end)."""
    consumer = OutboxConsumer(outbox, AckingDelivery(), wait_seconds=1, heartbeat=heartbeat)  # type: ignore[arg-type]
    consumer.start()
    try:
        assert outbox.drained.wait(timeout=10), "the consumer never got through its receives"
    finally:
        outbox.release.set()
        consumer.stop(timeout=5)


def test_the_consumer_beats_once_per_receive_with_messages_or_empty_but_not_when_receive_fails() -> None:
    # given one message waiting: the first receive returns it, the next two find the queue empty,
    # and the fourth raises
    outbox = ScriptedOutbox(good_receives=3)
    outbox.send(OutboxMessage(message_id="m1", account_id="a1", sender_id="s1").model_dump())
    beats: list[int] = []
    # when
    _run_until_drained(outbox, lambda: beats.append(outbox.receives))
    # then: a beat after each of the three good receives, none after the failed one
    assert outbox.receives == 4
    assert beats == [1, 2, 3]


def test_a_consumer_whose_receives_fail_never_beats() -> None:
    outbox = ScriptedOutbox(good_receives=0)
    beats: list[int] = []
    _run_until_drained(outbox, lambda: beats.append(outbox.receives))
    assert outbox.receives == 1
    assert beats == []


def test_a_failing_heartbeat_does_not_stop_the_poll_loop() -> None:
    outbox = ScriptedOutbox(good_receives=2)

    def broken_heartbeat() -> None:
        raise OSError("no space left on device")

    _run_until_drained(outbox, broken_heartbeat)
    assert outbox.receives == 3  # the loop went on polling after each failed beat


def test_the_consumer_writes_the_heartbeat_the_health_check_reads(tmp_path: Path) -> None:
    heartbeat = Heartbeat(tmp_path / "hb")
    _run_until_drained(ScriptedOutbox(good_receives=1), heartbeat.beat)
    assert _exit_code(["--file", str(tmp_path / "hb")]) == 0
