"""What the events function does with what happens on WhatsApp: receipts, incoming messages,
and changes of sender state.

The events of one SQS batch are applied together (`handle_batch`): their receipts are grouped by
message and only the one that says the most is applied, so a message whose DELIVERED and READ arrive
in one batch is written once (SENT -> READ). The result says, per event, what failed it: that event's
record is retried; what the others applied is never undone, and a receipt applied twice is a no-op.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TypeVar, assert_never

from wacast import observability as obs
from wacast.domain.errors import ProofPending, StaleState
from wacast.domain.events import (
    HostEvent,
    IncomingEvent,
    Receipt,
    ReceiptBatchEvent,
    ReceiptEvent,
    SenderStateEvent,
    strongest,
)
from wacast.domain.messages import RECEIPT_RANK, Message, MessageStatus, is_unproven, receipt_target
from wacast.domain.optout import is_stop_keyword
from wacast.observability import logger
from wacast.ports import AccountRepository, CampaignStates, MessageRepository
from wacast.services.optouts import OptOutService
from wacast.services.replies import ReplyService

STALE_RETRIES = 5
S = MessageStatus
E = TypeVar("E", IncomingEvent, SenderStateEvent, Receipt)
#: Receipts of one batch applied at once (each a read and a write of its own message).
RECEIPT_WORKERS = 8


class EventsService:
    """Applies events from the session host to messages and contacts."""

    def __init__(
        self,
        messages: MessageRepository,
        opt_outs: OptOutService,
        accounts: AccountRepository,
        campaigns: CampaignStates,
        replies: ReplyService | None = None,
    ) -> None:
        self.messages = messages
        self.opt_outs = opt_outs
        self.accounts = accounts
        self.campaigns = campaigns
        self.replies = replies  # stores every incoming message (services/replies.py)

    def handle(self, event: HostEvent) -> None:
        """Apply one event of the events queue (raises what failed it)."""
        (failure,) = self.handle_batch([event])
        if failure is not None:
            raise failure

    def handle_batch(self, events: Sequence[HostEvent]) -> list[Exception | None]:
        """Apply the events of one batch: the one place that tells their kinds apart. Returns, for each
        event, the exception that failed it, or None when it was applied."""
        failures: list[Exception | None] = [None] * len(events)
        receipts: list[tuple[int, Receipt]] = []
        for i, event in enumerate(events):
            match event:
                case ReceiptBatchEvent():
                    receipts.extend((i, r) for r in event.receipts)
                case ReceiptEvent():
                    receipts.extend((i, r) for r in event.as_receipts())
                case IncomingEvent():
                    failures[i] = _failure_of(self.on_incoming, event)
                case SenderStateEvent():
                    failures[i] = _failure_of(self.on_sender_state, event)
                case _:
                    assert_never(event)
        events_of: dict[tuple[str, str], list[int]] = {}
        for i, receipt in receipts:
            events_of.setdefault(receipt.key, []).append(i)
        best = strongest(r for _, r in receipts)
        # one message per receipt, each its own read and conditional write: several at once (a batch waits on
        # DynamoDB, not on the CPU, and Lambda bills the wait)
        with ThreadPoolExecutor(max_workers=max(1, min(RECEIPT_WORKERS, len(best)))) as pool:
            outcomes = list(pool.map(lambda r: _failure_of(self.apply_receipt, r, _log_failed_receipt), best.values()))
        for key, failure in zip(best, outcomes, strict=True):
            if failure is not None:  # that message's events are retried; the others stay applied
                for i in events_of[key]:
                    failures[i] = failures[i] or failure
        return failures

    def on_receipt(self, event: ReceiptEvent) -> int:
        """Move each message of the event forward. Returns how many moved."""
        return sum(self.apply_receipt(r) for r in event.as_receipts())

    def apply_receipt(self, receipt: Receipt) -> bool:
        """Move one message forward to DELIVERED/READ, in one write. Out-of-order receipts never move one
        back. Returns True when it moved."""
        message = self._named(receipt)
        if message is None and receipt.recipient:
            message = self._found_by_recipient(receipt)
        if message is None:
            logger.info("receipt for no message of ours", provider_id=receipt.provider_message_id)
            return False
        return self._advance(message, MessageStatus(receipt.status), receipt.at)

    def _named(self, receipt: Receipt) -> Message | None:
        """The message the host named (it remembers its sends): an eventually consistent read, then a
        consistent one if that was stale (the message must show the receipt's provider id)."""
        if receipt.message_id is not None:
            for consistent in (False, True):
                message = self.messages.get(receipt.message_id, consistent=consistent)
                if message is not None and _is_about(receipt, message):
                    return message
        return None

    def _found_by_recipient(self, receipt: Receipt) -> Message | None:
        """Among the newest sends to the receipt's recipient: the one with its provider id, else an unproven
        send it proves (_prove_send)."""
        assert receipt.recipient is not None
        unproven: list[Message] = []
        sends = self.messages.sends_to(receipt.account_id, receipt.sender_id, receipt.recipient)
        for message in sends.messages:
            if message.provider_message_id == receipt.provider_message_id:
                return message
            if is_unproven(message):
                unproven.append(message)
        if not sends.complete:  # an older send, beyond what was read, may have this id: prove nothing
            logger.info("receipt not matched among the newest sends", provider_id=receipt.provider_message_id)
            return None
        return self._prove_send(receipt, unproven)

    def on_incoming(self, event: IncomingEvent) -> bool:
        """An incoming message is stored as a reply; a stop keyword also opts its writer out (and marks their
        contact). Returns True when it opted out."""
        account = self.accounts.get(event.account_id)
        keywords = account.settings.stop_keywords if account else None
        stop = is_stop_keyword(event.text, keywords)
        if stop:
            self.opt_outs.record(event.account_id, event.sender_phone, "keyword", event.at)
        if self.replies is not None:
            self.replies.record(event, opted_out=stop)
        return stop

    def on_sender_state(self, event: SenderStateEvent) -> None:
        logger.info("sender state changed", sender_id=event.sender_id, state=event.state, error=event.error)

    def _prove_send(self, receipt: Receipt, candidates: list[Message]) -> Message | None:
        """A receipt for a provider id we never recorded, from a recipient we have an unproven send to
        (a worker died during or right after the driver call): that send happened. The oldest one
        takes the provider id and becomes SENT.

        A message still SENDING under a live lease is not proven by a stray receipt (it may be for a
        message typed on the phone): its worker is about to record what happened, so the receipt
        waits for that (ProofPending) and is tried again."""
        provider_id, at = receipt.provider_message_id, receipt.at
        waiting = False
        for candidate in sorted(candidates, key=lambda m: m.driver_called_at or m.created_at):
            live = candidate.status is MessageStatus.SENDING and (
                candidate.lease_expires_at is None or candidate.lease_expires_at > at
            )
            if live:
                waiting = True
                continue
            try:
                proven = self.messages.transition(
                    candidate,
                    MessageStatus.SENT,
                    at,
                    detail="a receipt proved the send",
                    changes={"provider_message_id": provider_id, "lease_owner": None, "lease_expires_at": None},
                )
            except StaleState:
                continue
            if proven.campaign_id is not None:
                self.campaigns.complete_if_done(proven.account_id, proven.campaign_id, at)
            return proven
        if waiting:
            raise ProofPending("a send to this recipient is still being recorded", details={"provider_id": provider_id})
        return None

    def _advance(self, message: Message, receipt: MessageStatus, at: datetime) -> bool:
        for _ in range(STALE_RETRIES):
            target = receipt_target(message.status, receipt)
            if target is None:
                return False
            try:
                self.messages.transition(message, target, at, detail=f"{receipt.lower()} receipt")
            except StaleState:
                message = self.messages.get(message.id) or message
                continue
            _count(message.status, target)
            return True
        raise StaleState("the message kept changing", details={"message_id": message.id})


def _is_about(receipt: Receipt, message: Message) -> bool:
    return (
        message.account_id == receipt.account_id
        and message.sender_id == receipt.sender_id
        and message.provider_message_id == receipt.provider_message_id
    )


def _count(old: MessageStatus, new: MessageStatus) -> None:
    """Delivered counts the messages that reached the phone, Read those read: a message that goes from
    SENT (or UNKNOWN) straight to READ was delivered too, so it counts in both."""
    if RECEIPT_RANK[old] < RECEIPT_RANK[S.DELIVERED] <= RECEIPT_RANK[new]:
        obs.emit(obs.DELIVERED)
    if new is S.READ:
        obs.emit(obs.READ)


def _failure_of(
    apply: Callable[[E], object], event: E, log: Callable[[E, Exception], None] | None = None
) -> Exception | None:
    try:
        apply(event)
    except Exception as exc:  # the event's record is reported as a batch item failure
        if log is not None:
            log(event, exc)
        else:
            logger.exception("event not applied; its record will be retried", type=type(event).__name__)
        return exc
    return None


def _log_failed_receipt(receipt: Receipt, exc: Exception) -> None:
    if isinstance(exc, ProofPending):  # expected: a worker is still recording that send
        logger.info("receipt waits for its send to be recorded", provider_id=receipt.provider_message_id)
    else:
        logger.exception(
            "receipt not applied; its records will be retried",
            sender_id=receipt.sender_id,
            provider_id=receipt.provider_message_id,
        )
