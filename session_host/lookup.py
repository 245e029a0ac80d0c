"""The not-on-WhatsApp check before each send: the driver's number lookup (neonize's is-on-WhatsApp query,
the simulated network's), cached per phone with an expiry and rate-limited per sender
(wacast.domain.reachability). Implements wacast.ports.NumberCheck."""

from __future__ import annotations

import threading
from datetime import datetime

from session_host.drivers.chain import DriverChain
from wacast.domain.reachability import LookupPolicy, ReachabilityCache
from wacast.domain.senders import Sender
from wacast.observability import logger
from wacast.settings import SessionHostSettings


def lookup_policy_of(settings: SessionHostSettings) -> LookupPolicy:
    return LookupPolicy(
        found_ttl_seconds=settings.lookup_found_ttl_seconds,
        missing_ttl_seconds=settings.lookup_missing_ttl_seconds,
        min_interval_seconds=settings.lookup_min_interval_seconds,
    )


class NumberChecker:
    def __init__(self, chain: DriverChain, policy: LookupPolicy) -> None:
        self.chain = chain
        self.cache = ReachabilityCache(policy)
        self._lock = threading.Lock()

    def not_on_whatsapp(self, sender: Sender, phone: str, now: datetime) -> bool:
        """True only when a lookup said so (now or within the cache's expiry). Unknown numbers, lookups the
        rate limit holds back and failed lookups all answer False: the send path checks again."""
        with self._lock:
            known = self.cache.known(phone, now)
            if known is not None:
                return not known
            if not self.cache.may_ask(sender.id, now):
                return False
        try:
            found = self.chain.lookup(sender, phone)
        except Exception:
            logger.exception("number lookup failed", sender_id=sender.id)
            return False
        if found is None:
            return False
        self.remember(phone, found, now)
        return not found

    def remember(self, phone: str, found: bool, now: datetime) -> None:
        with self._lock:
            self.cache.remember(phone, found, now)
