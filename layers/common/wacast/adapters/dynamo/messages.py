"""Message items and the repository that applies the delivery state machine with conditional writes.

Keys: pk MSG#{message}, sk MSG.
gsi1: CAMPAIGN#{campaign} (or ACCT#{account}#DIRECT) / {status}#{message}: a campaign's messages by status.
gsi2: PMID#{sender}#{provider id} / MSG: receipts find their message (sparse: only once sent).
gsi3: UNKNOWN#{sender}#{phone} / {message}: a receipt from a recipient can settle an UNKNOWN (sparse).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from wacast.adapters.dynamo.campaigns import COUNTER_ATTRIBUTES, CampaignCountersModel, campaign_key
from wacast.adapters.dynamo.table import Gsi1, Gsi2, Gsi3, TableModel, reason_codes
from wacast.domain.errors import StaleState, Unavailable
from wacast.domain.messages import (
    Message,
    MessageStatus,
    StatusChange,
    can_transition,
    counter_delta,
)


class StatusChangeAttribute(MapAttribute[str, Any]):
    status = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    detail = UnicodeAttribute(null=True)


class MessageModel(TableModel):
    id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    sender_id = UnicodeAttribute()
    phone = UnicodeAttribute()
    body = UnicodeAttribute()
    status = UnicodeAttribute()
    version = NumberAttribute(default=0)
    campaign_id = UnicodeAttribute(null=True)
    contact_id = UnicodeAttribute(null=True)
    run = NumberAttribute(default=0)
    attempts = NumberAttribute(default=0)
    driver = UnicodeAttribute(null=True)
    fallback_used = BooleanAttribute(default=False)
    provider_message_id = UnicodeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    history = ListAttribute(of=StatusChangeAttribute, default=list)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    send_at = UTCDateTimeAttribute(null=True)
    lease_owner = UnicodeAttribute(null=True)
    lease_expires_at = UTCDateTimeAttribute(null=True)
    driver_called_at = UTCDateTimeAttribute(null=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    by_campaign = Gsi1()
    by_provider_id = Gsi2()
    unknown_by_recipient = Gsi3()


_FIELDS = tuple(Message.model_fields)
_SETTABLE = frozenset(_FIELDS) - {"id", "account_id", "status", "history", "created_at", "version"}


def message_key(message_id: str) -> tuple[str, str]:
    return f"MSG#{message_id}", "MSG"


def _group_key(message: Message) -> str:
    return f"CAMPAIGN#{message.campaign_id}" if message.campaign_id else f"ACCT#{message.account_id}#DIRECT"


def to_model(message: Message) -> MessageModel:
    pk, sk = message_key(message.id)
    data = message.model_dump(exclude={"history"})
    model = MessageModel(pk, sk, **data)
    model.status = message.status.value
    model.history = [StatusChangeAttribute(status=h.status.value, at=h.at, detail=h.detail) for h in message.history]
    model.gsi1pk, model.gsi1sk = _group_key(message), f"{message.status}#{message.id}"
    if message.provider_message_id:
        model.gsi2pk, model.gsi2sk = f"PMID#{message.sender_id}#{message.provider_message_id}", "MSG"
    if message.status is MessageStatus.UNKNOWN:
        model.gsi3pk, model.gsi3sk = f"UNKNOWN#{message.sender_id}#{message.phone}", message.id
    return model


def to_domain(model: MessageModel) -> Message:
    data = {name: getattr(model, name) for name in _FIELDS if name != "history"}
    data["history"] = [
        StatusChange(status=MessageStatus(h.status), at=h.at, detail=h.detail) for h in model.history or []
    ]
    return Message.model_validate(data)


def _is_conditional_failure(exc: Exception) -> bool:
    """True when the message's own condition failed (not a throttle, conflict or outage)."""
    if isinstance(exc, TransactWriteError):
        return reason_codes(exc)[:1] == ["ConditionalCheckFailed"]
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


TRANSACTION_ATTEMPTS = 6


class CampaignMissing(Exception):
    """The campaign a message counts toward no longer exists."""


class DynamoMessageRepository:
    """Messages in DynamoDB. Each status change is one conditional write, on the version read."""

    def __init__(self, connection: Connection | None = None) -> None:
        self._connection = connection

    def _conn(self) -> Connection:
        return self._connection or MessageModel._get_connection().connection

    def create(self, message: Message) -> bool:
        model = to_model(message)
        not_exists = MessageModel.pk.does_not_exist()
        try:
            if message.campaign_id is None:
                model.save(condition=not_exists)
            else:
                counters = self._counter_actions(counter_delta(None, message.status))
                self._transact(lambda tx: tx.save(model, condition=not_exists), self._campaign(message), counters)
        except (PutError, TransactWriteError) as exc:
            if _is_conditional_failure(exc):
                return False
            raise Unavailable("could not write the message", details={"message_id": message.id}) from exc
        return True

    def get(self, message_id: str) -> Message | None:
        try:
            return to_domain(MessageModel.get(*message_key(message_id), consistent_read=True))
        except MessageModel.DoesNotExist:
            return None

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
            raise StaleState(f"a message cannot go from {message.status} to {new}", details={"message_id": message.id})
        changes = dict(changes or {})
        unknown_fields = set(changes) - _SETTABLE
        if unknown_fields:
            raise ValueError(f"not settable on a message: {sorted(unknown_fields)}")
        change = StatusChange(status=new, at=now, detail=detail)
        updated = message.model_copy(
            update={**changes, "status": new, "updated_at": now, "version": message.version + 1}
        )
        updated.history = [*message.history, change]
        actions = self._transition_actions(message, updated, change, changes)
        condition = (MessageModel.version == message.version) & (MessageModel.status == message.status.value)
        self._write(message, actions, condition, counter_delta(message.status, new))
        return updated

    def mark_driver_called(self, message: Message, now: datetime) -> Message:
        if message.status is not MessageStatus.SENDING or message.lease_owner is None:
            raise StaleState("only a claimed message can be marked as handed to the driver")
        actions: list[Action] = [
            MessageModel.driver_called_at.set(now),
            MessageModel.updated_at.set(now),
            MessageModel.version.set(message.version + 1),
        ]
        condition = (MessageModel.version == message.version) & (MessageModel.lease_owner == message.lease_owner)
        self._write(message, actions, condition, {})
        return message.model_copy(update={"driver_called_at": now, "updated_at": now, "version": message.version + 1})

    def find_by_provider_id(self, sender_id: str, provider_message_id: str) -> Message | None:
        for model in MessageModel.by_provider_id.query(f"PMID#{sender_id}#{provider_message_id}", limit=1):
            return self.get(model.id)  # GSIs are eventually consistent: read the item itself
        return None

    def find_unknown_to(self, sender_id: str, phone: str) -> list[Message]:
        found = [self.get(m.id) for m in MessageModel.unknown_by_recipient.query(f"UNKNOWN#{sender_id}#{phone}")]
        return [m for m in found if m is not None and m.status is MessageStatus.UNKNOWN]

    # -- internals ------------------------------------------------------------------------------

    @staticmethod
    def _transition_actions(
        old: Message, new: Message, change: StatusChange, changes: Mapping[str, Any]
    ) -> list[Action]:
        actions: list[Action] = [
            MessageModel.status.set(new.status.value),
            MessageModel.version.set(new.version),
            MessageModel.updated_at.set(new.updated_at),
            MessageModel.history.set(
                MessageModel.history.append(
                    [StatusChangeAttribute(status=change.status.value, at=change.at, detail=change.detail)]
                )
            ),
            MessageModel.gsi1sk.set(f"{new.status}#{new.id}"),
        ]
        for name, value in changes.items():
            attribute = getattr(MessageModel, name)
            actions.append(attribute.remove() if value is None else attribute.set(value))
        if new.provider_message_id and new.provider_message_id != old.provider_message_id:
            actions.append(MessageModel.gsi2pk.set(f"PMID#{new.sender_id}#{new.provider_message_id}"))
            actions.append(MessageModel.gsi2sk.set("MSG"))
        if new.status is MessageStatus.UNKNOWN:
            actions.append(MessageModel.gsi3pk.set(f"UNKNOWN#{new.sender_id}#{new.phone}"))
            actions.append(MessageModel.gsi3sk.set(new.id))
        elif old.status is MessageStatus.UNKNOWN:
            actions.extend([MessageModel.gsi3pk.remove(), MessageModel.gsi3sk.remove()])
        return actions

    def _write(self, message: Message, actions: list[Action], condition: Condition, delta: Mapping[str, int]) -> None:
        model = MessageModel(*message_key(message.id))
        try:
            if message.campaign_id is None or not delta:
                model.update(actions=actions, condition=condition)
            else:
                self._transact(
                    lambda tx: tx.update(model, actions=actions, condition=condition),
                    self._campaign(message),
                    self._counter_actions(delta),
                )
        except CampaignMissing:  # the campaign was deleted: the message still moves, uncounted
            self._write(message.model_copy(update={"campaign_id": None}), actions, condition, {})
        except (UpdateError, TransactWriteError) as exc:
            if _is_conditional_failure(exc):
                raise StaleState("the message changed meanwhile", details={"message_id": message.id}) from exc
            raise Unavailable("could not update the message", details={"message_id": message.id}) from exc

    def _transact(
        self, message_op: Callable[[TransactWrite], None], campaign: CampaignCountersModel, counters: list[Action]
    ) -> None:
        """One transaction: the message write plus its campaign's counters. Retries lost races on the
        (hot) campaign item; raises CampaignMissing when only the campaign's existence check failed."""
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                with TransactWrite(connection=self._conn()) as tx:
                    message_op(tx)
                    tx.update(campaign, actions=counters, condition=CampaignCountersModel.pk.exists())
                return
            except TransactWriteError as exc:
                codes = reason_codes(exc)
                if "TransactionConflict" in codes and attempt + 1 < TRANSACTION_ATTEMPTS:
                    time.sleep(0.02 * (attempt + 1))
                    continue
                if codes == [None, "ConditionalCheckFailed"]:
                    raise CampaignMissing from exc
                raise

    @staticmethod
    def _campaign(message: Message) -> CampaignCountersModel:
        assert message.campaign_id is not None
        return CampaignCountersModel(*campaign_key(message.account_id, message.campaign_id))

    @staticmethod
    def _counter_actions(delta: Mapping[str, int]) -> list[Action]:
        return [COUNTER_ATTRIBUTES[name].add(amount) for name, amount in delta.items()]
