"""The state rules of campaigns and messages, as the domain states them (pure: no I/O).

Adapters only turn these sets and functions into DynamoDB conditions, so what is decided here is what
every deployable does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wacast.domain.campaigns import (
    CANCELLABLE,
    COMPLETABLE,
    DELETABLE,
    DISPATCHING,
    EDITABLE,
    FAILABLE,
    FIREABLE,
    PAUSABLE,
    RESUMABLE,
    RETUNABLE,
    SCHEDULABLE,
    STARTABLE,
    UNDERWAY,
    CampaignStatus,
    is_recurring,
    run_is_over,
    status_after_run,
)
from wacast.domain.messages import (
    CLAIMABLE,
    PENDING,
    SETTLED,
    Message,
    MessageStatus,
    can_transition,
    is_unproven,
)
from wacast.domain.schedules import CampaignSchedule

C = CampaignStatus
S = MessageStatus
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ENDED = {C.COMPLETED, C.CANCELLED, C.FAILED}


def schedule(kind: str) -> CampaignSchedule:
    expression = "cron(0 9 * * ? *)" if kind == "cron" else "at(2026-03-01T09:00:00)"
    return CampaignSchedule(kind=kind, expression=expression, timezone="UTC", name="campaign-c1")


# -- campaign completion ----------------------------------------------------------------------------


def test_a_run_is_over_once_everything_is_dispatched_and_every_message_settled() -> None:
    assert run_is_over(C.RUNNING, dispatch_done=True, unsettled=0)
    assert not run_is_over(C.RUNNING, dispatch_done=False, unsettled=0)  # audience still being fanned out
    assert not run_is_over(C.RUNNING, dispatch_done=True, unsettled=1)  # a message still waits or is sending
    # a message the dispatcher wrote is not counted created yet (the stream orders one item's records, not
    # two items'): its settle may still come, whatever `queued` reads now
    assert not run_is_over(C.RUNNING, dispatch_done=True, unsettled=0, uncounted=1)
    assert run_is_over(C.RUNNING, dispatch_done=True, unsettled=0, uncounted=-1)  # a surplus: every one counted


@pytest.mark.parametrize("status", sorted(set(C) - {C.RUNNING}))
def test_only_a_running_run_completes_a_paused_one_waits_for_resume(status: CampaignStatus) -> None:
    assert not run_is_over(status, dispatch_done=True, unsettled=0)


def test_a_recurring_campaign_goes_back_to_scheduled_after_each_run_until_its_schedule_ends() -> None:
    assert status_after_run(recurring=True, schedule_end=None, now=NOW) is C.SCHEDULED
    assert status_after_run(recurring=True, schedule_end=NOW + timedelta(days=1), now=NOW) is C.SCHEDULED
    assert status_after_run(recurring=True, schedule_end=NOW, now=NOW) is C.COMPLETED
    assert status_after_run(recurring=True, schedule_end=NOW - timedelta(days=1), now=NOW) is C.COMPLETED


def test_a_campaign_sent_once_completes_after_its_run() -> None:
    assert status_after_run(recurring=False, schedule_end=None, now=NOW) is C.COMPLETED


def test_only_a_cron_schedule_is_recurring() -> None:
    assert is_recurring(schedule("cron"))
    assert not is_recurring(schedule("once"))
    assert not is_recurring(None)


# -- campaign lifecycle -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "allowed",
    [STARTABLE, PAUSABLE, RESUMABLE, CANCELLABLE, EDITABLE, RETUNABLE, SCHEDULABLE, FIREABLE, FAILABLE, DISPATCHING],
)
def test_a_campaign_that_ended_never_changes_again_except_by_a_new_run(allowed: frozenset[CampaignStatus]) -> None:
    assert not allowed & ENDED


def test_an_ended_or_not_yet_started_campaign_can_be_deleted_but_not_a_run_underway() -> None:
    assert DELETABLE == set(C) - UNDERWAY


def test_what_is_sent_is_frozen_once_a_run_starts_but_its_name_and_pacing_are_not() -> None:
    assert not EDITABLE & UNDERWAY
    assert UNDERWAY <= RETUNABLE


def test_a_run_completes_and_fans_out_only_while_running() -> None:
    assert COMPLETABLE == DISPATCHING == {C.RUNNING}
    assert FIREABLE == {C.SCHEDULED} and FIREABLE <= STARTABLE


# -- message statuses -------------------------------------------------------------------------------


def message(status: MessageStatus, driver_called: bool) -> Message:
    return Message(
        id="m1",
        account_id="a1",
        sender_id="s1",
        phone="+919800000001",
        body="hi",
        status=status,
        created_at=NOW,
        updated_at=NOW,
        driver_called_at=NOW if driver_called else None,
    )


def test_a_worker_claims_only_a_waiting_message_and_a_cancel_can_skip_every_one() -> None:
    assert (
        {old for old in MessageStatus if can_transition(old, S.SENDING)} - {S.SENDING}
        == CLAIMABLE
        == {S.QUEUED, S.RETRYING}
    )
    assert all(can_transition(status, S.SKIPPED) for status in CLAIMABLE)


def test_pending_is_waiting_or_being_sent_and_everything_else_is_settled() -> None:
    assert PENDING == CLAIMABLE | {S.SENDING}
    assert SETTLED == set(S) - PENDING


@pytest.mark.parametrize(
    ("status", "driver_called", "unproven"),
    [
        (S.SENDING, True, True),  # the driver was called and no outcome recorded yet
        (S.UNKNOWN, True, True),  # the call may have reached WhatsApp
        (S.SENDING, False, False),  # claimed, but the driver was never called: nothing reached WhatsApp
        (S.SENT, True, False),
        (S.QUEUED, False, False),
    ],
)
def test_a_receipt_can_prove_only_a_send_whose_driver_was_called_and_whose_outcome_is_unknown(
    status: MessageStatus, driver_called: bool, unproven: bool
) -> None:
    assert is_unproven(message(status, driver_called)) is unproven
