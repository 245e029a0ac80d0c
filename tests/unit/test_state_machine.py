from __future__ import annotations

import random

import pytest

from wacast.domain.messages import (
    COUNTER_OF,
    PENDING,
    SETTLED,
    MessageStatus,
    can_transition,
    counter_delta,
    message_id_for,
    receipt_target,
    retry_delay_seconds,
)

S = MessageStatus


def test_a_message_is_claimed_only_from_queued_or_retrying_or_a_dead_workers_claim() -> None:
    assert {old for old in MessageStatus if can_transition(old, S.SENDING)} == {S.QUEUED, S.RETRYING, S.SENDING}


@pytest.mark.parametrize("settled", sorted(SETTLED))
def test_nothing_settled_is_ever_claimed_again(settled: MessageStatus) -> None:
    assert not can_transition(settled, S.SENDING)
    assert not can_transition(settled, S.QUEUED)
    assert not can_transition(settled, S.RETRYING)


def test_unknown_never_goes_back_to_a_sendable_status_but_a_receipt_can_settle_it() -> None:
    assert not (set(S) - SETTLED) & {s for s in S if can_transition(S.UNKNOWN, s)}
    assert receipt_target(S.UNKNOWN, S.DELIVERED) is S.DELIVERED


@pytest.mark.parametrize(
    ("current", "receipt", "expected"),
    [
        (S.SENT, S.DELIVERED, S.DELIVERED),
        (S.SENT, S.READ, S.READ),
        (S.DELIVERED, S.READ, S.READ),
        (S.READ, S.DELIVERED, None),  # out of order: never backwards
        (S.DELIVERED, S.DELIVERED, None),
        (S.FAILED, S.READ, None),
        (S.QUEUED, S.DELIVERED, None),
    ],
)
def test_receipts_only_move_forward(current: MessageStatus, receipt: MessageStatus, expected: object) -> None:
    assert receipt_target(current, receipt) is expected


def test_counter_deltas_keep_the_total_equal_to_the_sum_of_buckets() -> None:
    counts: dict[str, int] = {}
    path = [None, S.QUEUED, S.SENDING, S.RETRYING, S.SENDING, S.SENT, S.DELIVERED, S.READ]
    for old, new in zip(path, path[1:], strict=False):
        assert new is not None
        for name, amount in counter_delta(old, new).items():
            counts[name] = counts.get(name, 0) + amount
    assert counts["total"] == 1
    assert sum(v for k, v in counts.items() if k != "total") == 1
    assert counts["read"] == 1


def test_pending_statuses_share_the_queued_counter() -> None:
    assert {COUNTER_OF[s] for s in PENDING} == {"queued"}
    assert counter_delta(S.QUEUED, S.SENDING) == {}


def test_message_ids_derive_from_campaign_run_and_contact() -> None:
    assert message_id_for("c1", "k1") == message_id_for("c1", "k1")
    assert message_id_for("c1", "k1", run=1) != message_id_for("c1", "k1", run=2)
    assert message_id_for("c1", "k1") != message_id_for("c1", "k2")


def test_retry_backoff_doubles_with_jitter() -> None:
    rng = random.Random(1)
    delays = [retry_delay_seconds(n, rng) for n in (1, 2, 3, 4)]
    for n, delay in zip((1, 2, 3, 4), delays, strict=True):
        assert 0.8 * 2**n - 1 <= delay <= 1.25 * 2**n + 1
    assert retry_delay_seconds(30, rng) == 900
