"""The counters function: message creations and status changes from the table's stream move the counters
exactly once, however often Lambda delivers a batch again, and complete the campaigns whose runs are over;
and how a dispatch window counts its messages for the run's completion."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from local.lambda_runtime import load_module
from tests.fakes import FakeClock, InMemoryCampaignStates
from wacast.domain.counters import CounterKey, StatusChange, aggregate, moves_of
from wacast.domain.errors import StaleState
from wacast.domain.messages import Message, MessageStatus
from wacast.services.counters import TARGETS_PER_WRITE, CountersService
from wacast.services.dispatch import WindowCount

S = MessageStatus
ROOT = Path(__file__).resolve().parents[2]
CAMPAIGN = CounterKey("a1", "c1")


class InMemoryLedger:
    """CounterLedger: applies moves with the batch's ledger entry, all or nothing."""

    def __init__(self) -> None:
        self.through: dict[str, int] = {}
        self.counters: dict[CounterKey, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.writes = 0
        self.fail_next = False

    def applied_through(self, batch_id: str) -> int:
        return self.through.get(batch_id, 0)

    def apply(self, batch_id: str, expected: int, through: int, moves: Mapping[CounterKey, Mapping[str, int]]) -> None:
        if self.through.get(batch_id, 0) != expected:
            raise StaleState("raced")
        if self.fail_next:  # the transaction is refused: nothing moves
            self.fail_next = False
            raise RuntimeError("throttled")
        for key, moved in moves.items():
            for name, amount in moved.items():
                self.counters[key][name] += amount
        self.through[batch_id] = through
        self.writes += 1


def change(seq: int, old: MessageStatus, new: MessageStatus, key: CounterKey = CAMPAIGN, **kw: Any) -> StatusChange:
    return StatusChange(sequence=seq, key=key, old=old, new=new, **kw)


def world() -> tuple[CountersService, InMemoryLedger, InMemoryCampaignStates]:
    ledger, campaigns = InMemoryLedger(), InMemoryCampaignStates()
    return CountersService(ledger, campaigns, FakeClock(datetime(2026, 12, 1, tzinfo=UTC))), ledger, campaigns


def test_a_send_moves_one_message_from_queued_to_sent_and_counts_its_driver() -> None:
    moves = moves_of(change(1, S.SENDING, S.SENT, driver="webjs", fallback_used=True))
    assert moves == {"queued": -1, "sent": 1, "via_webjs": 1, "fallback": 1}
    assert moves_of(change(2, S.QUEUED, S.SENDING)) == {}  # both count as queued


def test_a_batch_is_one_write_per_key_with_the_net_moves() -> None:
    other = CounterKey("a1", None)  # the account's direct messages
    moves = aggregate(
        [
            change(1, S.SENDING, S.SENT, driver="neonize"),
            change(2, S.SENT, S.READ),
            change(3, S.QUEUED, S.SKIPPED, key=other),
        ]
    )
    assert moves == {CAMPAIGN: {"queued": -1, "read": 1, "via_neonize": 1}, other: {"queued": -1, "skipped": 1}}


def test_a_batch_delivered_again_moves_nothing_more_and_a_longer_retry_only_its_new_records() -> None:
    service, ledger, campaigns = world()
    first = [change(10, S.SENDING, S.SENT), change(11, S.SENT, S.DELIVERED)]
    assert service.apply("batch-A", first) == 2
    assert service.apply("batch-A", first) == 0  # Lambda was not told it succeeded: the same batch again
    assert service.apply("batch-A", [*first, change(12, S.DELIVERED, S.READ)]) == 1  # the retry grew
    moved = ledger.counters[CAMPAIGN]
    assert (moved["queued"], moved["sent"], moved["delivered"], moved["read"]) == (-1, 0, 0, 1)
    assert campaigns.completion_checks == ["c1", "c1", "c1"]  # each batch checks whether its run is over


def test_a_refused_write_moves_nothing_so_the_retry_moves_everything_once() -> None:
    service, ledger, _ = world()
    batch = [change(1, S.SENDING, S.SENT), change(2, S.SENDING, S.FAILED)]
    ledger.fail_next = True
    with pytest.raises(RuntimeError):
        service.apply("batch-B", batch)
    assert service.apply("batch-B", batch) == 2
    assert dict(ledger.counters[CAMPAIGN]) == {"queued": -2, "sent": 1, "failed": 1}


def test_a_batch_touching_more_keys_than_one_transaction_holds_is_applied_in_steps() -> None:
    service, ledger, _ = world()
    keys = [CounterKey("a1", f"c{i}") for i in range(TARGETS_PER_WRITE + 5)]
    batch = [change(i + 1, S.SENDING, S.SENT, key=key) for i, key in enumerate(keys)]
    assert service.apply("batch-C", batch) == len(keys)
    assert ledger.writes == 2 and ledger.through["batch-C"] == len(keys)
    assert all(ledger.counters[key]["sent"] == 1 for key in keys)


def test_the_function_reads_status_changes_from_stream_records_and_skips_the_rest() -> None:
    app = load_module(ROOT / "functions/counters", "app", "wacast_fn_CountersFunction")
    event = json.loads((ROOT / "events/dynamodb_message_changes.json").read_text())
    changes = [app.status_change(r) for r in event["Records"]]
    assert [(c.old, c.new, c.key.campaign_id, c.driver) for c in changes] == [
        (S.QUEUED, S.SENDING, "cmp_demo", None),
        (S.SENDING, S.SENT, "cmp_demo", "neonize"),
        (S.SENT, S.READ, "cmp_demo", "neonize"),
    ]
    inserted = {**event["Records"][0], "eventName": "INSERT"}
    unchanged = json.loads(json.dumps(event["Records"][0]))
    unchanged["dynamodb"]["NewImage"]["status"] = unchanged["dynamodb"]["OldImage"]["status"]
    assert app.status_change(inserted) is None and app.status_change(unchanged) is None


def test_a_messages_first_reply_counts_once_in_replied_and_moves_nothing_else() -> None:
    app = load_module(ROOT / "functions/counters", "app", "wacast_fn_CountersFunction")
    sent = json.loads((ROOT / "events/dynamodb_message_changes.json").read_text())["Records"][1]
    replied = json.loads(json.dumps(sent))
    data = replied["dynamodb"]
    data["OldImage"] = json.loads(json.dumps(data["NewImage"]))  # SENT before and after: only the mark is new
    data["NewImage"]["replied_at"] = {"S": "2026-11-28T10:05:00.000000+0000"}
    change = app.status_change(replied)
    assert change is not None and change.first_reply and change.old is change.new is S.SENT
    assert moves_of(change) == {"replied": 1}  # not a second send by its driver
    again = json.loads(json.dumps(replied))
    again["dynamodb"]["OldImage"]["replied_at"] = data["NewImage"]["replied_at"]  # a later write: no new reply
    assert app.status_change(again) is None
    service, ledger, _ = world()
    assert service.apply("batch-R", [change]) == 1
    assert service.apply("batch-R", [change]) == 0  # Lambda delivers the batch again: counted once
    assert ledger.counters[CounterKey("acct_demo", "cmp_demo")] == {"replied": 1}


def inserted_record(run: int, campaign: str | None = "cmp_demo", marked: bool = True) -> dict[str, Any]:
    """The fixture's INSERT record (a direct message), made a run's message of `campaign` when asked."""
    record = json.loads((ROOT / "events/dynamodb_message_created.json").read_text())["Records"][0]
    image = record["dynamodb"]["NewImage"]
    image["run"] = {"N": str(run)}
    if campaign is not None:
        image["campaign_id"] = {"S": campaign}
    if not marked:
        del image["ins"]
    return dict(record)


def test_a_creation_is_counted_from_its_insert_record_and_a_runs_message_also_in_inserted() -> None:
    app = load_module(ROOT / "functions/counters", "app", "wacast_fn_CountersFunction")
    dispatched = app.status_change(inserted_record(run=2))
    assert dispatched is not None and dispatched.old is None and dispatched.key == CounterKey("acct_demo", "cmp_demo")
    assert moves_of(dispatched) == {"total": 1, "queued": 1, "inserted": 1}
    linked = app.status_change(inserted_record(run=0))  # sent to the campaign directly: not the dispatcher's
    assert linked is not None and moves_of(linked) == {"total": 1, "queued": 1}
    direct = app.status_change(inserted_record(run=0, campaign=None))
    assert direct is not None and direct.key == CounterKey("acct_demo", None)
    # an item written before creations were counted from the stream was counted by its own write
    assert app.status_change(inserted_record(run=2, marked=False)) is None


def test_a_creation_and_the_settle_of_the_same_message_in_one_batch_net_out() -> None:
    service, ledger, campaigns = world()
    created = StatusChange(sequence=1, key=CAMPAIGN, old=None, new=S.QUEUED, dispatched=True)
    assert service.apply("batch-I", [created, change(2, S.SENDING, S.SENT, driver="neonize")]) == 2
    assert service.apply("batch-I", [created]) == 0  # delivered again: counted once
    assert dict(ledger.counters[CAMPAIGN]) == {"total": 1, "inserted": 1, "sent": 1, "via_neonize": 1}
    assert campaigns.completion_checks == ["c1", "c1"]


def message(message_id: str, created_at: datetime) -> Message:
    return Message(
        id=message_id,
        account_id="a1",
        sender_id="s1",
        phone="+919876543210",
        body="hi",
        campaign_id="c1",
        run=1,
        created_at=created_at,
        updated_at=created_at,
        counted_on_insert=True,
    )


def test_a_window_counts_each_of_its_messages_once_and_none_an_earlier_window_counted() -> None:
    committed, crashed, now = (datetime(2026, 12, 1, 10, m, tzinfo=UTC) for m in (0, 5, 9))
    window = WindowCount(counted_through=committed)
    window.add(created=[message("new", now)], found=[])
    window.add(
        created=[],
        found=[
            message("new", now),  # the same contact again in this window
            message("left-by-a-crash", crashed),  # written by an attempt that never committed
            message("met-before", committed),  # an earlier window's message, its contact met again
        ],
    )
    assert window.ids == {"new", "left-by-a-crash"} and window.through(now) == now
    raced = WindowCount(counted_through=committed)  # a duplicate job, started after this one, wrote it
    raced.add(created=[], found=[message("later", now + timedelta(seconds=1))])
    assert raced.ids == {"later"} and raced.through(now) == now + timedelta(seconds=1)
    assert WindowCount(counted_through=None).through(now) == now
    assert WindowCount(counted_through=now).through(committed) == now  # never back: another Lambda's clock


def test_a_window_never_counts_a_message_written_before_creations_were_counted_from_the_stream() -> None:
    # a run that was mid-way at the upgrade: its window is done again by the new code and finds a message
    # the old code wrote (counted by its own transaction, never in `inserted`): not in `dispatched` either
    now = datetime(2026, 12, 1, 10, 9, tzinfo=UTC)
    window = WindowCount(counted_through=None)
    window.add(created=[], found=[message("old", now).model_copy(update={"counted_on_insert": False})])
    assert window.ids == set()
