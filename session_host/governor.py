"""The account-safety governor in the session host: it watches each sender's own signals (its drivers'
account events, its send outcomes, its receipts) and cools the sender down before WhatsApp bans it.

The rules are pure (wacast.domain.governor); the writes (the sender's cooling, its campaigns paused and
resumed) are wacast.services.governor's. The delivery service asks `hold` before every claim, so a sender
stops within one send of the signal: the cooling is kept in memory at once, before (and whether or not)
the sender item is written, for as long as a cached read of the sender could still miss it.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from wacast.domain.governor import AccountSignal, Cooling, GovernorThresholds, SenderWatch, cooling_for
from wacast.domain.outcomes import OutcomeKind, SendCode, SendOutcome
from wacast.domain.senders import Sender
from wacast.observability import logger
from wacast.services.governor import GovernorService
from wacast.settings import SessionHostSettings

#: Not a sign of trouble with WhatsApp: the session is down (a deferral), the host's own plumbing failed, or
#: the message itself was refused before it reached WhatsApp (a bad number, text or media).
NOT_SIGNALS = frozenset(
    {
        SendCode.NOT_CONNECTED,
        SendCode.NO_DRIVER,
        SendCode.SIDECAR_UNREACHABLE,
        SendCode.SIDECAR_AUTH,
        SendCode.NOT_ON_WHATSAPP,
        SendCode.INVALID_RECIPIENT,
        SendCode.INVALID_MESSAGE,
        SendCode.TOO_LARGE,
        SendCode.BAD_JSON,
        SendCode.MEDIA,
    }
)
#: How long an in-memory cooling outlives its write: longer than the delivery service trusts a read sender.
MEMORY_GRACE = timedelta(seconds=30)


def thresholds_of(settings: SessionHostSettings) -> GovernorThresholds:
    fields = GovernorThresholds.model_fields
    return GovernorThresholds(**{name: getattr(settings, f"governor_{name}") for name in fields})


class HostGovernor:
    """Implements wacast.ports.SendGovernor, and takes the drivers' account signals and receipts."""

    def __init__(self, service: GovernorService, thresholds: GovernorThresholds) -> None:
        self.service = service
        self.thresholds = thresholds
        self._lock = threading.Lock()
        self._watches: dict[str, SenderWatch] = {}
        self._senders: dict[str, Sender] = {}
        self._held: dict[str, tuple[Cooling, datetime]] = {}  # sender id -> (cooling, trust memory until)
        self._unsaved: dict[str, tuple[Sender, Cooling]] = {}  # coolings whose write failed: written again

    # -- the delivery path ------------------------------------------------------------------------------

    def hold(self, sender: Sender, now: datetime) -> Cooling | None:
        with self._lock:
            held = self._held.get(sender.id)
            if held is not None and (now >= held[1] or not held[0].in_force(now)):
                del self._held[sender.id]
                held = None
        if held is not None:
            return held[0]
        return sender.cooling_at(now)

    def pause_campaign(self, account_id: str, campaign_id: str, cooling: Cooling) -> bool:
        return self.service.pause_campaign(account_id, campaign_id, cooling)

    def observe(self, sender: Sender, outcome: SendOutcome, now: datetime) -> None:
        if outcome.code in NOT_SIGNALS:
            return
        sent = outcome.kind is OutcomeKind.SENT
        with self._lock:
            watch = self._watch(sender)
            cooling = watch.record_call(now, failed=not sent, provider_id=outcome.provider_message_id if sent else None)
        if cooling is not None:
            self.cool_down(sender, cooling, now)

    # -- driver events ----------------------------------------------------------------------------------

    def on_signal(self, sender: Sender, signal: AccountSignal, now: datetime) -> None:
        """A temporary ban or a forced logout reported by a driver."""
        logger.warning("account signal", sender_id=sender.id, kind=signal.kind, code=signal.code, driver=signal.driver)
        self.cool_down(sender, cooling_for(signal, now, self.thresholds), now)

    def on_receipt(self, sender: Sender, provider_ids: list[str]) -> None:
        with self._lock:
            watch = self._watches.get(sender.id)
            if watch is not None:
                for provider_id in provider_ids:
                    watch.record_receipt(provider_id)

    # -- periodic ---------------------------------------------------------------------------------------

    def tick(self, senders: list[Sender], now: datetime) -> None:
        """Judge the receipts that are overdue, and end the coolings that expired (every host does this
        for every sender, so a cooling ends even if the host that started it is gone)."""
        with self._lock:
            due = [(self._senders[sid], w.check(now)) for sid, w in self._watches.items()]
            due += [(sender, cooling) for sender, cooling in self._unsaved.values() if cooling.in_force(now)]
            self._unsaved.clear()
        for sender, cooling in due:
            if cooling is not None:
                self.cool_down(sender, cooling, now)
        self.service.expire(senders, now)

    def cool_down(self, sender: Sender, cooling: Cooling, now: datetime) -> None:
        with self._lock:
            self._held[sender.id] = (cooling, now + MEMORY_GRACE)
            self._watch(sender).reset()
        try:
            in_force = self.service.cool_down(sender, cooling)
        except Exception:  # the memory holds the sender until the write succeeds (the next tick tries again)
            logger.exception("could not record the sender's cooling", sender_id=sender.id)
            with self._lock:
                self._held[sender.id] = (cooling, cooling.until or now + timedelta(days=3650))
                self._unsaved[sender.id] = (sender, cooling)
            return
        with self._lock:
            self._held[sender.id] = (in_force, now + MEMORY_GRACE)

    def _watch(self, sender: Sender) -> SenderWatch:
        self._senders[sender.id] = sender
        watch = self._watches.get(sender.id)
        if watch is None:
            watch = self._watches[sender.id] = SenderWatch(self.thresholds)
        return watch
