"""Replies and conversation summaries.

Keys:
- reply: pk ACCT#{account}, sk REPLY#{reply}; gsi6 CONV#{account}#{phone} / {at ms}_{reply} (keys only), the
  index the messages sent to that phone are in too: one query reads a conversation both ways.
- conversation summary: pk ACCT#{account}, sk CONV#{phone}; gsi1 CONVS#{account} / {last ms}#{phone}: the
  account's conversations, the latest activity first. Written with each reply (in the reply's own
  transaction, so a redelivered event counts nothing twice) and with each answer sent from it.
A message's first reply sets its `replied_at` (one conditional write); the counters function counts it in
its campaign's `replied` from the table's stream.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from wacast.adapters.dynamo.cursors import cursor_id, encode_cursor
from wacast.adapters.dynamo.messages import DEFAULT_RETENTION, MessageModel, message_key, to_domain
from wacast.adapters.dynamo.table import (
    Gsi1,
    Gsi6,
    TableModel,
    conversation_key,
    is_condition_failure,
    reason_codes,
    unavailable_on_failure,
)
from wacast.domain.conversations import (
    Conversation,
    ConversationEntry,
    Direction,
    Reply,
    entry_of_message,
    entry_of_reply,
)
from wacast.domain.errors import Unavailable
from wacast.domain.messages import Message

SUMMARY_TEXT = 200  # characters of the last message kept on a summary
MAX_LIMIT = 100


class ReplyModel(TableModel):
    id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    sender_id = UnicodeAttribute()
    phone = UnicodeAttribute()
    text = UnicodeAttribute(default="")
    media_type = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute()
    contact_id = UnicodeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)
    campaign_id = UnicodeAttribute(null=True)
    opted_out = BooleanAttribute(default=False)
    gsi6pk = UnicodeAttribute(null=True)
    gsi6sk = UnicodeAttribute(null=True)
    by_conversation = Gsi6()


class ConversationModel(TableModel):
    account_id = UnicodeAttribute()
    phone = UnicodeAttribute()
    contact_id = UnicodeAttribute(null=True)
    sender_id = UnicodeAttribute()
    last_at = UTCDateTimeAttribute()
    last_text = UnicodeAttribute(default="")
    last_direction = UnicodeAttribute()
    replies = NumberAttribute(default=0)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    by_recency = Gsi1()


def reply_key(account_id: str, reply_id: str) -> tuple[str, str]:
    return f"ACCT#{account_id}", f"REPLY#{reply_id}"


def summary_key(account_id: str, phone: str) -> tuple[str, str]:
    return f"ACCT#{account_id}", f"CONV#{phone}"


def _ms(at: datetime) -> str:
    return f"{round(at.timestamp() * 1000):014d}"


def _reply_domain(m: ReplyModel) -> Reply:
    return Reply(
        id=m.id,
        account_id=m.account_id,
        sender_id=m.sender_id,
        phone=m.phone,
        text=m.text or "",
        media_type=m.media_type,
        at=m.at,
        contact_id=m.contact_id,
        message_id=m.message_id,
        campaign_id=m.campaign_id,
        opted_out=bool(m.opted_out),
    )


def _summary_domain(m: ConversationModel) -> Conversation:
    return Conversation(
        account_id=m.account_id,
        phone=m.phone,
        contact_id=m.contact_id,
        sender_id=m.sender_id,
        last_at=m.last_at,
        last_text=m.last_text or "",
        last_direction=Direction(m.last_direction),
        replies=int(m.replies or 0),
    )


class DynamoConversationRepository:
    """Replies and conversations in the one table. Replies expire with the messages (`retention`)."""

    def __init__(self, retention: timedelta = DEFAULT_RETENTION) -> None:
        self.retention = retention

    def save_reply(self, reply: Reply) -> bool:
        model = ReplyModel(*reply_key(reply.account_id, reply.id), **reply.model_dump())
        model.gsi6pk, model.gsi6sk = conversation_key(reply.account_id, reply.phone), f"{_ms(reply.at)}_{reply.id}"
        model.expires_at = int((reply.at + self.retention).timestamp())
        for newer_exists in (False, True):
            try:
                with TransactWrite(connection=MessageModel._get_connection().connection) as tx:
                    tx.save(model, condition=ReplyModel.pk.does_not_exist())
                    self._summary_update(tx, reply, count_only=newer_exists)
                return True
            except TransactWriteError as exc:
                codes = reason_codes(exc)
                if codes[:1] == ["ConditionalCheckFailed"]:
                    return False  # stored already: an event delivered twice
                if codes == [None, "ConditionalCheckFailed"] and not newer_exists:
                    continue  # the summary holds a newer message: only count this reply
                raise Unavailable("could not store the reply", details={"reply_id": reply.id}) from exc
        raise Unavailable("could not store the reply", details={"reply_id": reply.id})

    @staticmethod
    def _summary_update(tx: TransactWrite, reply: Reply, *, count_only: bool) -> None:
        item = ConversationModel(*summary_key(reply.account_id, reply.phone))
        actions: list[Action] = [ConversationModel.replies.add(1)]
        if count_only:
            tx.update(item, actions=actions)
            return
        actions += [
            ConversationModel.account_id.set(reply.account_id),
            ConversationModel.phone.set(reply.phone),
            ConversationModel.sender_id.set(reply.sender_id),
            ConversationModel.last_at.set(reply.at),
            ConversationModel.last_text.set(reply.text[:SUMMARY_TEXT]),
            ConversationModel.last_direction.set(Direction.INBOUND.value),
            ConversationModel.gsi1pk.set(f"CONVS#{reply.account_id}"),
            ConversationModel.gsi1sk.set(f"{_ms(reply.at)}#{reply.phone}"),
        ]
        if reply.contact_id:
            actions.append(ConversationModel.contact_id.set(reply.contact_id))
        condition = ConversationModel.pk.does_not_exist() | (ConversationModel.last_at <= reply.at)
        tx.update(item, actions=actions, condition=condition)

    @unavailable_on_failure("read the messages to this phone")
    def recent_messages_to(self, account_id: str, phone: str, limit: int = 20) -> list[Message]:
        keys = MessageModel.by_conversation.query(
            conversation_key(account_id, phone), scan_index_forward=False, limit=limit
        )
        ids = [k.pk.removeprefix("MSG#") for k in keys if k.pk.startswith("MSG#")]
        found = {m.id: to_domain(m) for m in MessageModel.batch_get([message_key(i) for i in ids])} if ids else {}
        return [found[i] for i in ids if i in found]

    def mark_replied(self, message_id: str, at: datetime) -> bool:
        model = MessageModel(*message_key(message_id))
        condition = MessageModel.pk.exists() & MessageModel.replied_at.does_not_exist()
        try:
            model.update(actions=[MessageModel.replied_at.set(at)], condition=condition)
        except UpdateError as exc:
            if is_condition_failure(exc):
                return False
            raise Unavailable("could not mark the message replied", details={"message_id": message_id}) from exc
        return True

    @unavailable_on_failure("update the conversation")
    def note_outbound(self, message: Message) -> None:
        item = ConversationModel(*summary_key(message.account_id, message.phone))
        actions: list[Action] = [
            ConversationModel.account_id.set(message.account_id),
            ConversationModel.phone.set(message.phone),
            ConversationModel.sender_id.set(message.sender_id),
            ConversationModel.last_at.set(message.created_at),
            ConversationModel.last_text.set(message.body[:SUMMARY_TEXT]),
            ConversationModel.last_direction.set(Direction.OUTBOUND.value),
            ConversationModel.gsi1pk.set(f"CONVS#{message.account_id}"),
            ConversationModel.gsi1sk.set(f"{_ms(message.created_at)}#{message.phone}"),
        ]
        condition = ConversationModel.pk.does_not_exist() | (ConversationModel.last_at <= message.created_at)
        try:
            item.update(actions=actions, condition=condition)
        except UpdateError as exc:
            if not is_condition_failure(exc):  # a newer message is the last one already: nothing to do
                raise

    @unavailable_on_failure("list the conversations")
    def conversations(
        self, account_id: str, *, cursor: str | None = None, limit: int = 50
    ) -> tuple[list[Conversation], str | None]:
        group = f"CONVS#{account_id}"
        after = cursor_id(cursor, "conversations")  # "{last ms}_{digits of the phone}"
        start = None
        if after is not None:
            millis, _, digits = after.partition("_")
            phone = f"+{digits}"
            pk, sk = summary_key(account_id, phone)
            start = {"gsi1pk": {"S": group}, "gsi1sk": {"S": f"{millis}#{phone}"}, "pk": {"S": pk}, "sk": {"S": sk}}
        query = ConversationModel.by_recency.query(
            group, scan_index_forward=False, limit=min(limit, MAX_LIMIT), last_evaluated_key=start
        )
        page = [_summary_domain(m) for m in query]
        last = query.last_evaluated_key
        if not last:
            return page, None
        millis, _, phone = last["gsi1sk"]["S"].partition("#")
        return page, encode_cursor("conversations", f"{millis}_{phone.lstrip('+')}")

    @unavailable_on_failure("read the conversation")
    def conversation(self, account_id: str, phone: str) -> Conversation | None:
        try:
            return _summary_domain(ConversationModel.get(*summary_key(account_id, phone), consistent_read=True))
        except ConversationModel.DoesNotExist:
            return None

    @unavailable_on_failure("read the conversation")
    def entries(
        self, account_id: str, phone: str, *, cursor: str | None = None, limit: int = 50
    ) -> tuple[list[ConversationEntry], str | None]:
        group = conversation_key(account_id, phone)
        after = cursor_id(cursor, "conversation")  # "{ms}_{id}": the index key
        start = None
        if after is not None:
            item_id = after.partition("_")[2]
            pk, sk = reply_key(account_id, item_id) if item_id.startswith("r_") else message_key(item_id)
            start = {"gsi6pk": {"S": group}, "gsi6sk": {"S": after}, "pk": {"S": pk}, "sk": {"S": sk}}
        query = MessageModel.by_conversation.query(
            group, scan_index_forward=False, limit=min(limit, MAX_LIMIT), last_evaluated_key=start
        )
        keys = [(k.pk, k.sk) for k in query]
        message_keys = [k for k in keys if k[0].startswith("MSG#")]
        reply_keys = [k for k in keys if k[1].startswith("REPLY#")]
        found: dict[tuple[str, str], ConversationEntry] = {}
        if message_keys:
            for m in MessageModel.batch_get(message_keys):
                found[(m.pk, m.sk)] = entry_of_message(to_domain(m))
        if reply_keys:
            for r in ReplyModel.batch_get(reply_keys):
                if r.account_id == account_id:
                    found[(r.pk, r.sk)] = entry_of_reply(_reply_domain(r))
        entries = [found[k] for k in keys if k in found]
        last = query.last_evaluated_key
        return entries, (encode_cursor("conversation", last["gsi6sk"]["S"]) if last else None)
