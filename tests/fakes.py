"""In-memory fakes of our own ports (no mocks): they keep the same contracts as the adapters."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from session_host.drivers.media import Media, MediaUnavailable
from tests.fakes_workspace import InMemoryContacts, WriteBudget
from wacast.domain.accounts import Account, AccountSettings, User
from wacast.domain.campaigns import FAILABLE, CampaignStatus
from wacast.domain.errors import Conflict, NotFound, StaleState
from wacast.domain.events import ReceiptStatus
from wacast.domain.governor import AccountSignal, Cooling
from wacast.domain.messages import Message, MessageStatus, StatusChange, can_transition, counter_delta
from wacast.domain.optout import OptOut
from wacast.domain.outcomes import SendOutcome
from wacast.domain.pacing import PresetGaps, gap_bounds_ms
from wacast.domain.senders import Sender, SenderState
from wacast.ports import QueueDepth, QueueMessage, SendsTo

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SENDER_STATE_FIELDS = {"state", "state_since", "last_error", "qr", "qr_updated_at", "pairing_code"}


class FakeClock:
    """A manual clock. `sleep` advances it (and runs due timers, when timers are attached)."""

    def __init__(self, start: datetime = T0) -> None:
        self.current = start
        self.slept: list[float] = []
        self.timers: ManualTimers | None = None

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=max(0.0, seconds))
        if self.timers is not None:
            self.timers.run_due()


class ManualTimers:
    """Timers on a FakeClock: callbacks run when the clock passes their time."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        clock.timers = self
        self._heap: list[tuple[datetime, int, Callable[[], None]]] = []
        self._seq = itertools.count()

    def call_later(self, delay: float, fn: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (self.clock.now() + timedelta(seconds=delay), next(self._seq), fn))

    def run_due(self) -> None:
        while self._heap and self._heap[0][0] <= self.clock.now():
            _, _, fn = heapq.heappop(self._heap)
            fn()

    def run_all(self) -> None:
        while self._heap:
            due, _, fn = heapq.heappop(self._heap)
            self.clock.current = max(self.clock.current, due)
            fn()

    def stop(self) -> None:
        self._heap.clear()


class InMemoryMessages:
    """MessageRepository: conditional on the version read; campaign counters move with each write."""

    def __init__(self) -> None:
        self.items: dict[str, Message] = {}
        self.counters: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._lock = threading.Lock()

    def create(self, message: Message) -> bool:
        with self._lock:
            if message.id in self.items:
                return False
            self.items[message.id] = message.model_copy(deep=True)
            self._count(message, counter_delta(None, message.status))
            return True

    def get(self, message_id: str, *, consistent: bool = True) -> Message | None:
        item = self.items.get(message_id)
        return item.model_copy(deep=True) if item else None

    def transition(
        self,
        message: Message,
        new: MessageStatus,
        now: datetime,
        *,
        detail: str | None = None,
        changes: Mapping[str, Any] | None = None,
    ) -> Message:
        if not can_transition(message.status, new):
            raise StaleState(f"a message cannot go from {message.status} to {new}")
        with self._lock:
            current = self.items[message.id]
            if current.version != message.version or current.status is not message.status:
                raise StaleState("the message changed meanwhile")
            updated = current.model_copy(
                update={**dict(changes or {}), "status": new, "updated_at": now, "version": current.version + 1}
            )
            updated.history = [*current.history, StatusChange(status=new, at=now, detail=detail)]
            self.items[message.id] = updated
            self._count(message, counter_delta(message.status, new))
            return updated.model_copy(deep=True)

    def sends_to(self, account_id: str, sender_id: str, phone: str) -> SendsTo:
        mine = [
            m for m in self.items.values() if (m.account_id, m.sender_id, m.phone) == (account_id, sender_id, phone)
        ]
        newest = sorted(mine, key=lambda m: m.created_at, reverse=True)
        return SendsTo(iter([m.model_copy(deep=True) for m in newest[:50]]), len(newest) <= 50)

    def _count(self, message: Message, delta: Mapping[str, int]) -> None:
        group = message.campaign_id or f"direct:{message.account_id}"
        for name, amount in delta.items():
            self.counters[group][name] += amount

    def direct_counters(self, account_id: str) -> dict[str, int]:
        return dict(self.counters.get(f"direct:{account_id}", {}))


class InMemorySenders:
    def __init__(self, *senders: Sender) -> None:
        self.items = {s.id: s for s in senders}

    def create(self, sender: Sender) -> None:
        self.items[sender.id] = sender

    def get(self, account_id: str, sender_id: str) -> Sender | None:
        sender = self.items.get(sender_id)
        return sender if sender and sender.account_id == account_id else None

    def list_for_account(self, account_id: str) -> list[Sender]:
        return [s for s in self.items.values() if s.account_id == account_id]

    def list_all(self) -> list[Sender]:
        return list(self.items.values())

    def save_config(self, sender: Sender) -> None:
        current = self._existing(sender)
        config = sender.model_dump(include={"phone", "display_name", "drivers", "pacing"})
        self.items[sender.id] = current.model_copy(update=config)

    def save_state(self, sender: Sender) -> None:
        current = self._existing(sender)
        state = sender.model_dump(include=SENDER_STATE_FIELDS)
        self.items[sender.id] = current.model_copy(update={**state, "driver_states": sender.driver_states})

    def save_cooling(
        self, account_id: str, sender_id: str, cooling: Cooling | None, expected_since: datetime | None
    ) -> None:
        current = self.get(account_id, sender_id)
        if current is None:
            raise NotFound("no such sender", details={"sender_id": sender_id})
        if (current.cooling.since if current.cooling else None) != expected_since:
            raise StaleState("the sender's cooling changed meanwhile")
        self.items[sender_id] = current.model_copy(update={"cooling": cooling})

    def delete(self, account_id: str, sender_id: str) -> bool:
        if self.get(account_id, sender_id) is None:
            return False
        del self.items[sender_id]
        return True

    def _existing(self, sender: Sender) -> Sender:
        current = self.get(sender.account_id, sender.id)
        if current is None:
            raise NotFound("no such sender", details={"sender_id": sender.id})
        return current


class InMemoryAccounts:
    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.users: dict[str, User] = {}

    def create_with_owner(self, account: Account, owner: User) -> None:
        if owner.email in self.users:
            raise Conflict("this email is already registered", details={"field": "email"})
        self.accounts[account.id] = account
        self.users[owner.email] = owner

    def get(self, account_id: str) -> Account | None:
        return self.accounts.get(account_id)

    def save(self, account: Account) -> None:
        self.accounts[account.id] = account

    def save_settings(self, account_id: str, settings: AccountSettings) -> None:
        if account_id not in self.accounts:
            raise NotFound("account not found")
        self.accounts[account_id] = self.accounts[account_id].model_copy(update={"settings": settings})

    def add_user(self, user: User) -> None:
        if user.email in self.users:
            raise Conflict("this email is already registered", details={"field": "email"})
        self.users[user.email] = user

    def get_user_by_email(self, email: str) -> User | None:
        return self.users.get(email)

    def get_user(self, account_id: str, user_id: str) -> User | None:
        return next((u for u in self.users.values() if u.id == user_id and u.account_id == account_id), None)


class InMemoryOptOuts:
    """OptOutRepository. Given the contacts fake, it mirrors opt-outs on contacts as the adapter does."""

    def __init__(self, contacts: InMemoryContacts | None = None, budget: WriteBudget | None = None) -> None:
        self.items: dict[tuple[str, str], OptOut] = {}
        self.contacts = contacts
        self.budget = budget or WriteBudget()

    def is_opted_out(self, account_id: str, phone: str) -> bool:
        return (account_id, phone) in self.items

    def opted_out_among(self, account_id: str, phones: Sequence[str]) -> set[str]:
        return {p for p in phones if (account_id, p) in self.items}

    def find_many(self, account_id: str, phones: Sequence[str]) -> dict[str, OptOut]:
        return {p: self.items[(account_id, p)] for p in phones if (account_id, p) in self.items}

    def opt_out(self, account_id: str, phone: str, source: str, at: datetime) -> bool:
        self.items[(account_id, phone)] = OptOut(phone=phone, source=source, at=at)
        return self.contacts is not None and self.contacts.mirror(
            account_id, phone, self.items[(account_id, phone)], at
        )

    def opt_in(self, account_id: str, phone: str, at: datetime) -> bool:
        self.items.pop((account_id, phone), None)
        return self.contacts is not None and self.contacts.mirror(account_id, phone, None, at)

    def add_many(self, account_id: str, opt_outs: Sequence[OptOut]) -> None:
        for opt_out in opt_outs:
            self.budget.spend()
            self.items[(account_id, opt_out.phone)] = opt_out


class InMemoryCampaignStates:
    def __init__(self) -> None:
        self.statuses: dict[str, CampaignStatus | str] = {}
        self.completion_checks: list[str] = []

    def status_of(self, account_id: str, campaign_id: str) -> CampaignStatus | None:
        status = self.statuses.get(campaign_id)
        return CampaignStatus(status) if status is not None else None

    def mark_failed(self, account_id: str, campaign_id: str, reason: str) -> bool:
        if self.status_of(account_id, campaign_id) in FAILABLE:
            self.statuses[campaign_id] = CampaignStatus.FAILED
            return True
        return False

    def complete_if_done(self, account_id: str, campaign_id: str, now: datetime) -> bool:
        self.completion_checks.append(campaign_id)
        return False


class InMemoryPacingGuard:
    """The minimum gap per sender (the DynamoDB guard's contract, without the daily cap)."""

    def __init__(self, presets: PresetGaps | None = None) -> None:
        self.presets = presets or PresetGaps()
        self.last: dict[str, datetime] = {}
        self.reserved: list[tuple[str, datetime]] = []

    def reserve(self, sender: Sender, now: datetime) -> float:
        gap = timedelta(milliseconds=gap_bounds_ms(sender.pacing, self.presets)[0])
        last = self.last.get(sender.id)
        if last is not None and now - last < gap:
            return (last + gap - now).total_seconds()
        self.last[sender.id] = now
        self.reserved.append((sender.id, now))
        return 0.0


class InMemoryQueue:
    """A Queue with SQS's visible/delayed/in-flight bookkeeping, on a FakeClock. `calls` counts the SQS
    requests it stands for (a batch is one); `refuse` makes SQS refuse batch entries of a message id."""

    def __init__(self, clock: FakeClock, name: str = "queue") -> None:
        self.name = name
        self.clock = clock
        self._seq = itertools.count()
        self._lock = threading.RLock()  # the host's poller, lanes and flusher share it
        self.messages: dict[str, dict[str, Any]] = {}  # id -> {body, visible_at, receives}
        self.sent: list[tuple[dict[str, Any], int]] = []
        self.calls: Counter[str] = Counter()
        self.deletes: Counter[str] = Counter()  # message id -> deletes that removed or found it gone
        self.refuse: Counter[str] = Counter()  # message id -> how many more batch entries of it SQS refuses

    def arn(self) -> str:
        return f"arn:aws:sqs:us-east-1:000000000000:{self.name}"

    def send(self, body: Mapping[str, Any], delay_seconds: int = 0) -> None:
        self._send([(body, delay_seconds)], "send")

    def send_batch(self, entries: Sequence[tuple[Mapping[str, Any], int]]) -> None:
        self._send(entries, "send_batch")

    def _send(self, entries: Sequence[tuple[Mapping[str, Any], int]], call: str) -> None:
        with self._lock:
            self.calls[call] += -(-len(entries) // 10)
            for body, delay in entries:
                message_id = f"q{next(self._seq)}"
                visible_at = self.clock.now() + timedelta(seconds=delay)
                self.messages[message_id] = {"body": dict(body), "visible_at": visible_at, "receives": 0}
                self.sent.append((dict(body), delay))

    def receive(self, max_messages: int = 10, wait_seconds: int = 20) -> list[QueueMessage]:
        with self._lock:
            self.calls["receive"] += 1
            now = self.clock.now()
            due = [(mid, m) for mid, m in self.messages.items() if m["visible_at"] <= now][:max_messages]
            out = []
            for message_id, m in due:
                m["receives"] += 1
                m["visible_at"] = now + timedelta(seconds=120)
                handle = f"{message_id}:{m['receives']}"
                out.append(
                    QueueMessage(
                        body=dict(m["body"]), receipt_handle=handle, message_id=message_id, receive_count=m["receives"]
                    )
                )
            return out

    def delete(self, message: QueueMessage) -> None:
        with self._lock:
            self.calls["delete"] += 1
            self._delete(message)

    def delete_batch(self, messages: Sequence[QueueMessage]) -> list[QueueMessage]:
        with self._lock:
            self.calls["delete_batch"] += -(-len(messages) // 10)
            refused = [m for m in messages if self._refused(m)]
            for message in messages:
                if message not in refused:
                    self._delete(message)
            return refused

    def _delete(self, message: QueueMessage) -> None:
        self.deletes[message.message_id] += 1
        self.messages.pop(message.message_id, None)

    def change_visibility(self, message: QueueMessage, seconds: int) -> None:
        with self._lock:
            self.calls["change_visibility"] += 1
            self._change_visibility(message, seconds)

    def change_visibility_batch(self, changes: Sequence[tuple[QueueMessage, int]]) -> list[QueueMessage]:
        with self._lock:
            self.calls["change_visibility_batch"] += -(-len(changes) // 10)
            refused = [m for m, _ in changes if self._refused(m)]
            for message, seconds in changes:
                if message not in refused:
                    self._change_visibility(message, seconds)
            return refused

    def _change_visibility(self, message: QueueMessage, seconds: int) -> None:
        if message.message_id in self.messages:
            self.messages[message.message_id]["visible_at"] = self.clock.now() + timedelta(seconds=seconds)

    def _refused(self, message: QueueMessage) -> bool:
        if self.refuse[message.message_id] <= 0:
            return False
        self.refuse[message.message_id] -= 1
        return True

    def visible_at(self, message_id: str) -> datetime | None:
        with self._lock:
            m = self.messages.get(message_id)
            return None if m is None else m["visible_at"]

    def depth(self) -> QueueDepth:
        with self._lock:
            now = self.clock.now()
            visible = sum(1 for m in self.messages.values() if m["visible_at"] <= now)
            return QueueDepth(visible=visible, in_flight=0, delayed=len(self.messages) - visible)


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Until `condition` holds, for a test that runs the host's threads (fails after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "it never happened"
        time.sleep(0.01)


class ScriptedDriver:
    """A driver whose outcomes a test scripts, one per send (then `default`)."""

    def __init__(self, name: str, outcomes: Sequence[SendOutcome] = (), connected: bool = True) -> None:
        self.name = name
        self.outcomes = list(outcomes)
        self.connected = connected
        self.sends: list[tuple[str, str]] = []
        self.media: list[str | None] = []

    def start(self, sender: Sender) -> None:
        pass

    def is_connected(self, sender_id: str) -> bool:
        return self.connected

    def send(self, sender: Sender, phone: str, body: str, media_url: str | None = None) -> SendOutcome:
        self.sends.append((phone, body))
        self.media.append(media_url)
        if self.outcomes:
            return self.outcomes.pop(0)
        return SendOutcome.sent(self.name, f"{self.name}-{len(self.sends)}")

    def request_pairing_code(self, sender: Sender, phone: str) -> None:
        pass

    def logout(self, sender: Sender) -> None:
        self.connected = False

    def stop(self) -> None:
        pass


class HostEventsWithoutSupervisor:
    """DriverEvents for tests that run a driver without the session supervisor: receipts, incoming
    messages, QR and pairing codes go to HostEvents; session states only stay on the driver."""

    def __init__(self, host: Any) -> None:
        self.host = host
        self.states: list[tuple[str, Any]] = []
        self.signals: list[AccountSignal] = []

    def on_state(self, sender: Sender, state: Any, error: str | None, at: datetime) -> None:
        self.states.append((sender.id, state))

    def on_qr(self, sender: Sender, qr: str, at: datetime) -> None:
        self.host.on_qr(sender, qr, at)

    def on_pairing_code(self, sender: Sender, code: str, at: datetime) -> None:
        self.host.on_pairing_code(sender, code, at)

    def on_receipt(
        self, sender: Sender, ids: list[str], status: ReceiptStatus, recipient: str | None, at: datetime
    ) -> None:
        self.host.on_receipt(sender, ids, status, recipient, at)

    def on_incoming(
        self,
        sender: Sender,
        from_phone: str,
        text: str,
        at: datetime,
        *,
        provider_id: str | None = None,
        media_type: str | None = None,
    ) -> None:
        self.host.on_incoming(sender, from_phone, text, at, provider_id=provider_id, media_type=media_type)

    def on_account_signal(self, sender: Sender, signal: AccountSignal, at: datetime) -> None:
        self.signals.append(signal)


class Recorder:
    """DriverEvents that keep what a driver reported, for driver tests."""

    def __init__(self) -> None:
        self.states: list[tuple[SenderState, str | None]] = []
        self.qrs: list[str] = []
        self.codes: list[str] = []
        self.receipts: list[tuple[list[str], ReceiptStatus, str | None]] = []
        self.incoming: list[tuple[str, str]] = []
        self.incoming_meta: list[tuple[str | None, str | None]] = []  # (provider id, media type) of each
        self.signals: list[AccountSignal] = []

    def on_state(self, sender: Sender, state: SenderState, error: str | None, at: datetime) -> None:
        self.states.append((state, error))

    def on_qr(self, sender: Sender, qr: str, at: datetime) -> None:
        self.qrs.append(qr)

    def on_pairing_code(self, sender: Sender, code: str, at: datetime) -> None:
        self.codes.append(code)

    def on_receipt(
        self, sender: Sender, ids: list[str], status: ReceiptStatus, recipient: str | None, at: datetime
    ) -> None:
        self.receipts.append((ids, status, recipient))

    def on_incoming(
        self,
        sender: Sender,
        from_phone: str,
        text: str,
        at: datetime,
        *,
        provider_id: str | None = None,
        media_type: str | None = None,
    ) -> None:
        self.incoming.append((from_phone, text))
        self.incoming_meta.append((provider_id, media_type))

    def on_account_signal(self, sender: Sender, signal: AccountSignal, at: datetime) -> None:
        self.signals.append(signal)


class StaticMedia:
    """A media fetcher that returns one file (or raises one error)."""

    def __init__(self, media: Media | None = None, error: MediaUnavailable | None = None) -> None:
        self.media, self.error = media, error

    def fetch(self, url: str) -> Media:
        if self.error:
            raise self.error
        assert self.media is not None
        return self.media
