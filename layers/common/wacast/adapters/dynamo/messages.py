"""Message items and the repository that applies the delivery state machine with conditional writes.

Keys: pk MSG#{message}, sk MSG.
gsi1: CAMPAIGN#{campaign} (or ACCT#{account}#DIRECT) / {status}#{message}: a campaign's messages by status.
gsi2: PMID#{sender}#{provider id} / MSG: receipts find their message (sparse: only once sent).
gsi3: UNPROVEN#{sender}#{phone} / {message}: messages whose driver call may have reached WhatsApp but whose
      outcome is not recorded (SENDING after the driver was called, or UNKNOWN). A receipt from that
      recipient proves the send (sparse).

Counters move in the same transaction as the message: a campaign's on its campaign item, a direct
message's on its account's direct-counters item (ACCT#{account} / COUNTERS#DIRECT, made by the first ADD).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
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
from wacast.adapters.dynamo.cursors import cursor_id, encode_cursor
from wacast.adapters.dynamo.table import Gsi1, Gsi2, Gsi3, TableModel, reason_codes
from wacast.domain.campaigns import DRIVERS
from wacast.domain.errors import StaleState, Unavailable
from wacast.domain.messages import (
    Message,
    MessageStatus,
    StatusChange,
    can_transition,
    counter_delta,
    is_unproven,
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
    media_url = UnicodeAttribute(null=True)
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
    unproven_by_recipient = Gsi3()


_FIELDS = tuple(Message.model_fields)
_SETTABLE = frozenset(_FIELDS) - {"id", "account_id", "status", "history", "created_at", "version"}


def message_key(message_id: str) -> tuple[str, str]:
    return f"MSG#{message_id}", "MSG"


def direct_counters_key(account_id: str) -> tuple[str, str]:
    return f"ACCT#{account_id}", "COUNTERS#DIRECT"


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
    if is_unproven(message):
        model.gsi3pk, model.gsi3sk = unproven_key(message), message.id
    return model


def unproven_key(message: Message) -> str:
    return f"UNPROVEN#{message.sender_id}#{message.phone}"


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
CREATE_CHUNK = 25  # messages per transaction (+1 campaign counter update; DynamoDB allows 100 items)


def campaign_delta(old: Message, new: Message) -> dict[str, int]:
    """Counter moves of one transition, plus the per-driver and fallback counts of a send."""
    delta = counter_delta(old.status, new.status)
    if new.status is MessageStatus.SENT and new.driver in DRIVERS:
        delta[f"via_{new.driver}"] = 1
        if new.fallback_used:
            delta["fallback"] = 1
    return delta


class CampaignMissing(Exception):
    """The campaign a message counts toward no longer exists."""


#: How long a message (phone, rendered text, history: personal data) is kept: TTL deletes it after this.
DEFAULT_RETENTION = timedelta(days=180)


class DynamoMessageRepository:
    """Messages in DynamoDB. Each status change is one conditional write, on the version read. A new
    message expires (DynamoDB TTL) `retention` after its creation; its campaign's counters stay."""

    def __init__(self, connection: Connection | None = None, retention: timedelta = DEFAULT_RETENTION) -> None:
        self._connection = connection
        self.retention = retention

    def _new_model(self, message: Message) -> MessageModel:
        model = to_model(message)
        model.expires_at = int((message.created_at + self.retention).timestamp())
        return model

    def _conn(self) -> Connection:
        return self._connection or MessageModel._get_connection().connection

    def create(self, message: Message) -> bool:
        model = self._new_model(message)
        not_exists = MessageModel.pk.does_not_exist()
        try:
            counters = self._counter_actions(counter_delta(None, message.status))
            self._transact(lambda tx: tx.save(model, condition=not_exists), message, counters)
        except (PutError, TransactWriteError) as exc:
            if _is_conditional_failure(exc):
                return False
            raise Unavailable("could not write the message", details={"message_id": message.id}) from exc
        return True

    def create_many(self, messages: Sequence[Message]) -> list[bool]:
        created: list[bool] = []
        for start in range(0, len(messages), CREATE_CHUNK):
            chunk = messages[start : start + CREATE_CHUNK]
            created += self._create_chunk(chunk)
        return created

    def _create_chunk(self, chunk: Sequence[Message]) -> list[bool]:
        campaign_ids = {m.campaign_id for m in chunk}
        if len(campaign_ids) != 1 or None in campaign_ids:
            return [self.create(m) for m in chunk]
        delta: dict[str, int] = {}
        for message in chunk:
            for name, amount in counter_delta(None, message.status).items():
                delta[name] = delta.get(name, 0) + amount
        models = [self._new_model(m) for m in chunk]
        not_exists = MessageModel.pk.does_not_exist()

        def put_all(tx: TransactWrite) -> None:
            for model in models:
                tx.save(model, condition=not_exists)

        try:
            self._transact(put_all, chunk[0], self._counter_actions(delta))
        except (TransactWriteError, CampaignMissing) as exc:
            if isinstance(exc, TransactWriteError) and "ConditionalCheckFailed" not in reason_codes(exc):
                raise Unavailable("could not write the messages") from exc
            return [self.create(m) for m in chunk]  # some exist already (a re-dispatch): one by one
        return [True] * len(chunk)

    def list_by_campaign(
        self, campaign_id: str, *, status: MessageStatus | None = None, cursor: str | None = None, limit: int = 100
    ) -> tuple[list[Message], str | None]:
        group = f"CAMPAIGN#{campaign_id}"
        condition = MessageModel.gsi1sk.startswith(f"{status.value}#") if status else None
        after = cursor_id(cursor, "messages")  # "{status}_{message id}": the GSI key rebuilt from it
        start = None
        if after is not None:
            after_status, _, after_id = after.partition("_")
            start = {
                "gsi1pk": {"S": group},
                "gsi1sk": {"S": f"{after_status}#{after_id}"},
                "pk": {"S": message_key(after_id)[0]},
                "sk": {"S": "MSG"},
            }
        query = MessageModel.by_campaign.query(group, condition, limit=limit, last_evaluated_key=start)
        items = [to_domain(m) for m in query]
        last = query.last_evaluated_key
        if not last:
            return items, None
        last_status, _, last_id = last["gsi1sk"]["S"].partition("#")
        return items, encode_cursor("messages", f"{last_status}_{last_id}")

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
        self._write(message, actions, condition, campaign_delta(message, updated))
        return updated

    def mark_driver_called(self, message: Message, now: datetime) -> Message:
        if message.status is not MessageStatus.SENDING or message.lease_owner is None:
            raise StaleState("only a claimed message can be marked as handed to the driver")
        actions: list[Action] = [
            MessageModel.driver_called_at.set(now),
            MessageModel.updated_at.set(now),
            MessageModel.version.set(message.version + 1),
            MessageModel.gsi3pk.set(unproven_key(message)),
            MessageModel.gsi3sk.set(message.id),
        ]
        condition = (MessageModel.version == message.version) & (MessageModel.lease_owner == message.lease_owner)
        self._write(message, actions, condition, {})
        return message.model_copy(update={"driver_called_at": now, "updated_at": now, "version": message.version + 1})

    def find_by_provider_id(self, sender_id: str, provider_message_id: str) -> Message | None:
        for model in MessageModel.by_provider_id.query(f"PMID#{sender_id}#{provider_message_id}", limit=1):
            return self.get(model.id)  # GSIs are eventually consistent: read the item itself
        return None

    def find_unproven_to(self, sender_id: str, phone: str) -> list[Message]:
        query = MessageModel.unproven_by_recipient.query(f"UNPROVEN#{sender_id}#{phone}")
        found = [self.get(m.id) for m in query]  # the GSI lags: decide on the items themselves
        return [m for m in found if m is not None and is_unproven(m)]

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
        if is_unproven(new):
            actions += [MessageModel.gsi3pk.set(unproven_key(new)), MessageModel.gsi3sk.set(new.id)]
        elif is_unproven(old):
            actions += [MessageModel.gsi3pk.remove(), MessageModel.gsi3sk.remove()]
        return actions

    def _write(self, message: Message, actions: list[Action], condition: Condition, delta: Mapping[str, int]) -> None:
        model = MessageModel(*message_key(message.id))
        try:
            if not delta:
                model.update(actions=actions, condition=condition)
            else:
                self._transact(
                    lambda tx: tx.update(model, actions=actions, condition=condition),
                    message,
                    self._counter_actions(delta),
                )
        except CampaignMissing:  # the campaign was deleted: the message still moves, uncounted
            model.update(actions=actions, condition=condition)
        except (UpdateError, TransactWriteError) as exc:
            if _is_conditional_failure(exc):
                raise StaleState("the message changed meanwhile", details={"message_id": message.id}) from exc
            raise Unavailable("could not update the message", details={"message_id": message.id}) from exc

    def _transact(self, message_op: Callable[[TransactWrite], None], message: Message, counters: list[Action]) -> None:
        """One transaction: the message write plus its counters (its campaign's, which must still exist, or
        its account's direct ones). Retries lost races on the (hot) counter item; raises CampaignMissing
        when only the campaign's existence check failed."""
        if message.campaign_id is None:
            target = CampaignCountersModel(*direct_counters_key(message.account_id))
            condition = None
        else:
            target = CampaignCountersModel(*campaign_key(message.account_id, message.campaign_id))
            condition = CampaignCountersModel.pk.exists()
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                with TransactWrite(connection=self._conn()) as tx:
                    message_op(tx)
                    tx.update(target, actions=counters, condition=condition)
                return
            except TransactWriteError as exc:
                codes = reason_codes(exc)
                if "TransactionConflict" in codes and attempt + 1 < TRANSACTION_ATTEMPTS:
                    time.sleep(0.02 * (attempt + 1))
                    continue
                if codes == [None, "ConditionalCheckFailed"]:
                    raise CampaignMissing from exc
                raise

    def direct_counters(self, account_id: str) -> dict[str, int]:
        """The account's direct (non-campaign) messages by counter bucket."""
        try:
            item = CampaignCountersModel.get(*direct_counters_key(account_id))
        except CampaignCountersModel.DoesNotExist:
            return {}
        return {name: int(getattr(item, attribute.attr_name) or 0) for name, attribute in COUNTER_ATTRIBUTES.items()}

    @staticmethod
    def _counter_actions(delta: Mapping[str, int]) -> list[Action]:
        return [COUNTER_ATTRIBUTES[name].add(amount) for name, amount in delta.items()]
