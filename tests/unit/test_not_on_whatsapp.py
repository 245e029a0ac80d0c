"""The not-on-WhatsApp check before each send: the driver's lookup, cached per phone with an expiry and
rate-limited per sender; such recipients are SKIPPED with the reason, never sent, never an attempt."""

from __future__ import annotations

from datetime import timedelta

from session_host.drivers.simulated import SimulatedConfig
from tests.fakes import T0
from tests.fakes_governor import GovernedHost
from wacast.domain.messages import MessageStatus
from wacast.domain.reachability import LookupPolicy, ReachabilityCache
from wacast.services.delivery import Act

GONE = "+15550001111"
S = MessageStatus


def host(min_interval: float = 0.0) -> GovernedHost:
    config = SimulatedConfig(latency_ms=(10, 10), unregistered={GONE}, read_rate=0.0)
    policy = LookupPolicy(min_interval_seconds=min_interval, missing_ttl_seconds=3600, found_ttl_seconds=7200)
    return GovernedHost(config=config, lookups=policy)


def test_a_recipient_not_on_whatsapp_is_skipped_before_any_send() -> None:
    h = host()
    gone, here = h.queue(phone=GONE), h.queue()
    assert h.deliver(gone).act is Act.ACK
    message = h.messages.get(gone)
    assert message is not None and message.status is S.SKIPPED and message.attempts == 0
    assert message.last_error == "not on WhatsApp" and message.driver_called_at is None
    assert h.deliver(here).act is Act.ACK and h.status(here) is S.SENT
    assert [phone for _, phone, _, _ in h.driver.sent_to("s1")] == [h.messages.get(here).phone]  # type: ignore[union-attr]


def test_answers_are_cached_per_phone_until_they_expire() -> None:
    h = host()
    for _ in range(3):
        h.deliver(h.queue(phone=GONE))
    assert h.driver.lookups == 1  # asked once, remembered
    h.clock.advance(3601)
    h.deliver(h.queue(phone=GONE))
    assert h.driver.lookups == 2  # the answer expired: asked again


def test_lookups_are_rate_limited_per_sender_and_the_send_path_still_checks() -> None:
    h = host(min_interval=60.0)
    first, second = h.queue(phone="+919800000001"), h.queue(phone=GONE)
    h.deliver(first)
    assert h.driver.lookups == 1
    assert h.deliver(second).act is Act.ACK  # no lookup allowed yet: the driver's own check refuses it
    assert h.driver.lookups == 1 and h.status(second) is S.SKIPPED
    assert h.sent_count() == 1
    assert h.deliver(h.queue(phone=GONE)).act is Act.ACK and h.driver.lookups == 1  # remembered from the send


def test_the_cache_keeps_found_numbers_longer_than_missing_ones() -> None:
    cache = ReachabilityCache(LookupPolicy(found_ttl_seconds=100, missing_ttl_seconds=10, max_entries=2))
    cache.remember("+1", True, T0)
    cache.remember("+2", False, T0)
    later = T0 + timedelta(seconds=50)
    assert cache.known("+1", later) is True and cache.known("+2", later) is None
    cache.remember("+3", True, T0)  # over the bound: the oldest answer goes
    assert cache.known("+1", T0) is None
    assert cache.may_ask("s1", T0) and cache.may_ask("s1", T0 + timedelta(seconds=5))
