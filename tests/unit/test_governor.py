"""The account-safety governor: on a fake clock, with the simulated driver taught to emit temporary bans,
forced logouts, failure bursts and missing receipts. It pauses within one send of the signal, sends
nothing while the sender cools down (deferrals, never attempts), and resumes after the expiry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.fakes import T0
from tests.fakes_governor import GovernedHost, campaign
from wacast import observability as obs
from wacast.domain.campaign_jobs import DispatchJob, RequeueJob
from wacast.domain.campaigns import CampaignStatus
from wacast.domain.errors import Unavailable
from wacast.domain.governor import AccountSignal, CoolingReason, GovernorThresholds, SenderWatch, cooling_for
from wacast.domain.messages import MessageStatus
from wacast.services.delivery import Act

S = MessageStatus


@pytest.fixture
def sink() -> Iterator[obs.MemorySink]:
    memory = obs.MemorySink()
    obs.set_metrics_sink(memory)
    yield memory
    obs.set_metrics_sink(None)


# -- the pure rules -----------------------------------------------------------------------------------------


def test_a_temporary_ban_cools_until_its_expiry_and_names_its_code() -> None:
    signal = AccountSignal(kind="temporary_ban", driver="neonize", code=104, expires_in_seconds=7200)
    cooling = cooling_for(signal, T0, GovernorThresholds())
    assert cooling.reason is CoolingReason.TEMPORARY_BAN and cooling.code == 104
    assert cooling.until == T0 + timedelta(hours=2)
    assert "the same message sent to too many people" in cooling.detail
    assert cooling.in_force(T0 + timedelta(minutes=119)) and not cooling.in_force(T0 + timedelta(hours=2))


def test_a_ban_without_an_expiry_still_cools_for_the_minimum_and_a_forced_logout_until_resumed() -> None:
    thresholds = GovernorThresholds(ban_min_cooldown_seconds=1800)
    ban = cooling_for(AccountSignal(kind="temporary_ban", driver="webjs", detail="TOS_BLOCK"), T0, thresholds)
    assert ban.until == T0 + timedelta(minutes=30)
    logout = cooling_for(AccountSignal(kind="logged_out", driver="neonize"), T0, thresholds)
    assert logout.reason is CoolingReason.LOGGED_OUT and logout.until is None
    assert logout.in_force(T0 + timedelta(days=365)) and logout.defer_seconds(T0) == 900


def test_failures_trip_only_past_the_minimum_sample_and_the_share() -> None:
    watch = SenderWatch(GovernorThresholds(failure_min_sends=10, failure_share=0.5))
    for i in range(9):
        assert watch.record_call(T0 + timedelta(seconds=i), failed=True) is None  # too few to judge
    assert watch.record_call(T0 + timedelta(seconds=9), failed=False) is not None  # 9 of 10 failed
    healthy = SenderWatch(GovernorThresholds(failure_min_sends=10, failure_share=0.5))
    for i in range(40):
        assert healthy.record_call(T0 + timedelta(seconds=i), failed=i % 3 == 0) is None  # a third fail: fine


def test_old_failures_leave_the_window() -> None:
    watch = SenderWatch(GovernorThresholds(failure_window_seconds=60, failure_min_sends=4))
    for i in range(3):
        watch.record_call(T0 + timedelta(seconds=i), failed=True)
    later = T0 + timedelta(seconds=600)
    assert watch.record_call(later, failed=True) is None  # the three earlier ones are out of the window


def test_missing_receipts_trip_once_enough_sends_are_overdue() -> None:
    t = GovernorThresholds(receipt_timeout_seconds=900, receipt_min_sends=20, missing_receipt_share=0.8)
    watch = SenderWatch(t)
    for i in range(20):
        watch.record_call(T0 + timedelta(seconds=i), failed=False, provider_id=f"p{i}")
    assert watch.check(T0 + timedelta(seconds=899)) is None  # not overdue yet
    for i in range(5):
        watch.record_receipt(f"p{i}")  # 15 of 20 missing: 75 %, under 80 %
    assert watch.check(T0 + timedelta(seconds=1000)) is None
    for i in range(20, 40):
        watch.record_call(T0 + timedelta(seconds=1000 + i), failed=False, provider_id=f"p{i}")
    cooling = watch.check(T0 + timedelta(seconds=3000))
    assert cooling is not None and cooling.reason is CoolingReason.MISSING_RECEIPTS


# -- the host, on the simulated driver ----------------------------------------------------------------------


def test_a_temporary_ban_pauses_at_once_defers_without_attempts_and_resumes_after_the_expiry(
    sink: obs.MemorySink,
) -> None:
    host = GovernedHost()
    host.campaigns.add(campaign("c1", CampaignStatus.RUNNING, host.clock.now()))
    host.campaigns.add(campaign("c2", CampaignStatus.RUNNING, host.clock.now(), sender_id="other"))
    first = host.queue("c1")
    assert host.deliver(first).act is Act.ACK and host.status(first) is S.SENT

    # given WhatsApp bans the number for an hour (code 101)
    host.driver.temporary_ban("s1", code=101, expires_in_s=3600)
    host.driver.start(host.sender)  # even with the session back, nothing may go out

    # then the sender cools down, its running campaign pauses with the reason, another sender's does not
    stored = host.stored_sender()
    assert stored.cooling is not None and stored.cooling.code == 101
    assert stored.shown_state(host.clock.now()).value == "cooling_down"
    paused = host.campaigns.items["c1"]
    assert paused.status is CampaignStatus.PAUSED and paused.paused_by == "governor"
    assert paused.pause_reason and "temporary_ban" in paused.pause_reason and "code 101" in paused.pause_reason
    assert host.campaigns.items["c2"].status is CampaignStatus.RUNNING
    assert sink.total(obs.SENDER_PAUSED) == 1

    # and the next sends wait: a campaign message is parked, a direct message deferred; no attempt burnt
    parked, direct = host.queue("c1"), host.queue()
    assert host.deliver(parked).act is Act.ACK and host.status(parked) is S.QUEUED
    deferred = host.deliver(direct)
    assert deferred.act is Act.DEFER and 0 < deferred.seconds <= 900 and "cooling" in deferred.reason
    assert host.messages.get(direct).attempts == 0  # type: ignore[union-attr]
    for _ in range(3):  # the direct message comes back every 15 minutes, and waits again
        host.clock.advance(900)
        assert host.deliver(direct).act is Act.DEFER
    assert host.sent_count() == 1  # nothing was sent while cooling down

    # when the hour is over, the periodic check ends the cooling and resumes the campaign it paused
    host.clock.advance(3600)
    host.governor.tick(host.senders.list_all(), host.clock.now())
    ended = host.stored_sender().cooling
    assert ended is not None and ended.ended_by == "expiry" and not ended.in_force(host.clock.now())
    resumed = host.campaigns.items["c1"]
    assert resumed.status is CampaignStatus.RUNNING and resumed.pause_reason is None
    kinds = {body["type"] for body, _ in host.jobs.sent}
    assert kinds == {RequeueJob.model_fields["type"].default, DispatchJob.model_fields["type"].default}
    assert all(body["seq"] == 4 for body, _ in host.jobs.sent)
    host.clock.advance(10)  # past the delivery path's cached read of the sender
    assert host.deliver(direct).act is Act.ACK and host.status(direct) is S.SENT
    assert host.sent_count() == 2


def test_a_burst_of_failures_stops_the_sender_within_one_send() -> None:
    host = GovernedHost(GovernorThresholds(failure_min_sends=10, failure_share=0.5, failure_cooldown_seconds=600))
    host.driver.fail_next("s1", 10)
    ids = [host.queue() for _ in range(12)]
    for message_id in ids[:10]:
        assert host.deliver(message_id).act is Act.RETRY  # real failures: these are attempts
    # the 10th failure tripped the governor: the very next send is held
    assert host.deliver(ids[10]).act is Act.DEFER
    assert host.status(ids[10]) is S.QUEUED and host.messages.get(ids[10]).attempts == 0  # type: ignore[union-attr]
    cooling = host.stored_sender().cooling
    assert cooling is not None and cooling.reason is CoolingReason.FAILURES
    assert host.sent_count() == 0
    host.clock.advance(601)
    host.governor.tick(host.senders.list_all(), host.clock.now())
    host.clock.advance(10)
    assert host.deliver(ids[11]).act is Act.ACK and host.sent_count() == 1


def test_sends_without_delivery_receipts_cool_the_sender_down() -> None:
    host = GovernedHost(GovernorThresholds(receipt_min_sends=20, receipt_timeout_seconds=600))
    host.driver.withhold_receipts("s1")
    for _ in range(20):
        assert host.deliver(host.queue()).act is Act.ACK
    assert host.sent_count() == 20
    host.clock.advance(300)
    host.governor.tick(host.senders.list_all(), host.clock.now())
    assert host.stored_sender().cooling is None  # not overdue yet
    host.clock.advance(400)
    host.governor.tick(host.senders.list_all(), host.clock.now())
    cooling = host.stored_sender().cooling
    assert cooling is not None and cooling.reason is CoolingReason.MISSING_RECEIPTS
    assert host.deliver(host.queue()).act is Act.DEFER and host.sent_count() == 20


def test_receipts_that_come_keep_the_sender_sending() -> None:
    host = GovernedHost(GovernorThresholds(receipt_min_sends=20, receipt_timeout_seconds=600))
    for _ in range(30):
        assert host.deliver(host.queue()).act is Act.ACK
    host.clock.advance(700)  # the receipts (1 s after each send) ran on the way
    host.governor.tick(host.senders.list_all(), host.clock.now())
    assert host.stored_sender().cooling is None
    assert host.deliver(host.queue()).act is Act.ACK and host.sent_count() == 31


def test_a_forced_logout_holds_until_a_user_resumes_the_sender() -> None:
    host = GovernedHost()
    host.campaigns.add(campaign("c1", CampaignStatus.RUNNING, host.clock.now()))
    host.campaigns.add(campaign("c3", CampaignStatus.PAUSED, host.clock.now()))  # paused by its user
    host.driver.remote_logout("s1")
    host.driver.start(host.sender)
    host.clock.advance(30 * 24 * 3600)
    host.governor.tick(host.senders.list_all(), host.clock.now())
    assert host.stored_sender().cooling_at(host.clock.now()) is not None  # no expiry: it never ends by itself
    assert host.deliver(host.queue()).act is Act.DEFER and host.sent_count() == 0

    host.service.end_cooling(host.stored_sender(), "user")
    assert host.campaigns.items["c1"].status is CampaignStatus.RUNNING
    assert host.campaigns.items["c3"].status is CampaignStatus.PAUSED  # the user's own pause stays
    host.clock.advance(31)  # past the in-memory hold
    assert host.deliver(host.queue()).act is Act.ACK and host.sent_count() == 1


def test_a_campaign_started_during_a_cooling_pauses_at_its_first_message() -> None:
    host = GovernedHost()
    host.driver.temporary_ban("s1", code=104, expires_in_s=600)
    host.campaigns.add(campaign("late", CampaignStatus.RUNNING, host.clock.now()))
    message_id = host.queue("late")
    assert host.deliver(message_id).act is Act.ACK and host.status(message_id) is S.QUEUED  # parked
    assert host.campaigns.items["late"].status is CampaignStatus.PAUSED
    assert host.campaigns.items["late"].paused_by == "governor"


def test_a_longer_cooling_in_force_is_never_shortened() -> None:
    host = GovernedHost()
    host.driver.temporary_ban("s1", code=102, expires_in_s=7200)
    host.driver.temporary_ban("s1", code=104, expires_in_s=60)
    cooling = host.stored_sender().cooling
    assert cooling is not None and cooling.code == 102


class FlakySenders:
    """The sender repository of a host whose DynamoDB writes fail for a while."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.failing = True

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def save_cooling(self, *args: object) -> None:
        if self.failing:
            raise Unavailable("DynamoDB is unavailable")
        self.inner.save_cooling(*args)  # type: ignore[attr-defined]


def test_a_cooling_the_host_could_not_write_still_holds_and_is_written_at_the_next_check() -> None:
    host = GovernedHost()
    flaky = FlakySenders(host.senders)
    host.service.senders = flaky  # type: ignore[assignment]
    host.driver.temporary_ban("s1", code=101, expires_in_s=3600)
    host.driver.start(host.sender)
    assert host.stored_sender().cooling is None  # the write failed ...
    host.clock.advance(120)
    assert host.deliver(host.queue()).act is Act.DEFER and host.sent_count() == 0  # ... and memory holds it
    flaky.failing = False
    host.governor.tick(host.senders.list_all(), host.clock.now())
    cooling = host.stored_sender().cooling
    assert cooling is not None and cooling.code == 101
