"""Message items and the repository that applies the delivery state machine with conditional writes.

Keys: pk MSG#{message}, sk MSG. The item stays under 1 KB for a usual text: its history is a compact list
of "STATUS|epoch ms|detail" strings.
A campaign's messages are listed by listing items, pk MSGS#{campaign}, each holding the ids of a few of them
      (`ids`, a string set): one per page of a dispatch window (sk {run, 4 digits}#{window seq, 8 digits}#{page,
      3 digits}) and one per message linked through /send (sk L{created ms, 14 digits}#{message}, after every
      dispatched page). The ids are ADDed before the messages are written, and each message records the item
      it was written under (`li`): a window done again after a crash or a pause (its pages may shift when the
      audience changed meanwhile) may list a message in a second item, and the listing shows it only in the
      one its `li` names. A page of 100 costs ~3 write units: the index entry each message had in gsi4 cost
      one. Messages written before the listing items are in gsi4 (keys only): MSGS#{campaign} (or
      MSGS#DIRECT#{account}) / {created ms}_{message}, still listed from there for a campaign with no listing
      item. A direct message not linked to a campaign is in no listing.
gsi6 (keys only): CONV#{account}#{phone} / {created ms}_{message}, written once: the conversation with that
      phone (replies are in it too, adapters/dynamo/conversations.py). A receipt that does not name its
      message (the host that sent it no longer remembers: wacast.domain.recent_sends) finds it there, among
      the newest sends to its recipient, by provider id; so do the unproven sends to a phone (the driver may
      have reached WhatsApp, the outcome is not recorded), which a receipt from that phone proves.
      (Messages once had gsi5 entries, PMID#{sender}#{provider id}, written when sent: an index write per
      message for what the host's memory and this index answer.)

A new message is one conditional PutItem (attribute_not_exists(pk)) of the message alone, marked
`counted_on_insert` (stored as `ins`: 4 bytes); every later status change is a single conditional write.
The counters function counts both from the table's stream (services/counters.py, a batch at a time): the
creation from the item's INSERT record, which exists only for a real creation (a put that finds the
message there writes nothing), onto its campaign's counters or its account's direct-counters item
ACCT#{account} / COUNTERS#DIRECT.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from wacast.adapters.dynamo.campaigns import COUNTER_ATTRIBUTES, CampaignCountersModel
from wacast.adapters.dynamo.cursors import cursor_id, encode_cursor
from wacast.adapters.dynamo.table import Gsi4, Gsi6, TableModel, conversation_key
from wacast.domain.errors import StaleState, Unavailable, ValidationFailed
from wacast.domain.messages import (
    Message,
    MessageStatus,
    StatusChange,
    can_transition,
)
from wacast.ports import SendsTo


def encode_change(change: StatusChange) -> str:
    """One history entry as a short string: STATUS|epoch ms|detail."""
    return f"{change.status.value}|{round(change.at.timestamp() * 1000)}|{change.detail or ''}"


def decode_change(entry: str) -> StatusChange:
    status, millis, detail = entry.split("|", 2)
    at = datetime.fromtimestamp(int(millis) / 1000, tz=UTC)
    return StatusChange(status=MessageStatus(status), at=at, detail=detail or None)


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
    history: ListAttribute[str] = ListAttribute(default=list)  # "STATUS|epoch ms|detail", one per change
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    send_at = UTCDateTimeAttribute(null=True)
    lease_owner = UnicodeAttribute(null=True)
    lease_expires_at = UTCDateTimeAttribute(null=True)
    driver_called_at = UTCDateTimeAttribute(null=True)
    gsi4pk = UnicodeAttribute(null=True)
    gsi4sk = UnicodeAttribute(null=True)
    gsi6pk = UnicodeAttribute(null=True)
    gsi6sk = UnicodeAttribute(null=True)
    #: The listing item (its sk) the message was written under, once: the one listing that shows it.
    listed_in = UnicodeAttribute(null=True, attr_name="li")
    replied_at = UTCDateTimeAttribute(null=True)  # its recipient's first answer (counted once, in `replied`)
    #: Its creation is counted from its INSERT record (functions/counters/app.py; older items were counted
    #: by the transaction that wrote them). A short name: every byte of every message is billed on each write,
    #: and an item just under 1 KB costs twice as much once over it.
    counted_on_insert = BooleanAttribute(null=True, attr_name="ins")
    by_campaign = Gsi4()
    by_conversation = Gsi6()


class MessageListingModel(TableModel):
    """Some of a campaign's message ids (pk MSGS#{campaign}, sk {run}#{where}): see the module's docstring."""

    ids = UnicodeSetAttribute(null=True)


_FIELDS = tuple(Message.model_fields)
_SETTABLE = frozenset(_FIELDS) - {"id", "account_id", "status", "history", "created_at", "version", "counted_on_insert"}


def message_key(message_id: str) -> tuple[str, str]:
    return f"MSG#{message_id}", "MSG"


def direct_counters_key(account_id: str) -> tuple[str, str]:
    return f"ACCT#{account_id}", "COUNTERS#DIRECT"


def group_key(campaign_id: str | None, account_id: str) -> str:
    return f"MSGS#{campaign_id}" if campaign_id else f"MSGS#DIRECT#{account_id}"


def listing_key(campaign_id: str, where: str) -> tuple[str, str]:
    return f"MSGS#{campaign_id}", where


def linked_listing(message: Message) -> str:
    """Where a message written alone (a direct message linked to a campaign) is listed: after the dispatched
    pages, in creation order."""
    return f"L{round(message.created_at.timestamp() * 1000):014d}#{message.id}"


def member_key(message: Message) -> str:
    """The message's place among its campaign's messages: its creation time, then its id."""
    return f"{round(message.created_at.timestamp() * 1000):014d}_{message.id}"


#: Below every listing item's sk (digits or "L..."): where the listing items' part of a listing starts.
LISTINGS_START = "0"


def _listing_cursor(sk: str, offset: int) -> str:
    """A listing's cursor: p{offset}_{the listing item's sk, '#' as '-'} (a cursor's id has no '#'; neither a
    listing sk nor a message id has a '-')."""
    return f"p{offset}_" + sk.replace("#", "-")


def _listing_position(after: str) -> tuple[str, int]:
    """(listing item's sk, offset in it) from `_listing_cursor` (a ValidationFailed on the cursor if not)."""
    offset, _, sk = after[1:].partition("_")
    if not sk or not offset.isdigit() or len(offset) > 4:
        raise ValidationFailed(
            "not a cursor of this messages listing: pass next_cursor from the previous page", field="cursor"
        )
    return sk.replace("-", "#"), int(offset)


def to_model(message: Message) -> MessageModel:
    pk, sk = message_key(message.id)
    data = message.model_dump(exclude={"history"})
    model = MessageModel(pk, sk, **data)
    model.status = message.status.value
    model.history = [encode_change(h) for h in message.history]
    model.gsi6pk, model.gsi6sk = conversation_key(message.account_id, message.phone), member_key(message)
    return model


#: How many of the newest messages to a phone a receipt that does not name its message looks through...
SENDS_SCAN = 50
#: ...among at most this many of the conversation's newest entries (replies are in it too).
CONVERSATION_SCAN = 200
#: Messages read per batch while looking (the usual conversation has a few: most lookups read one batch).
SENDS_CHUNK = 10


def to_domain(model: MessageModel) -> Message:
    data = {name: getattr(model, name) for name in _FIELDS if name != "history"}
    data["history"] = [decode_change(h) for h in model.history or []]
    data["counted_on_insert"] = bool(model.counted_on_insert)
    return Message.model_validate(data)


def _is_conditional_failure(exc: Exception) -> bool:
    """True when the message's own condition failed (not a throttle, conflict or outage)."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


SCAN_PAGES = 20  # a listing of one status reads at most this many pages of keys per call
#: Puts of one `create_many` in flight at once (each is one round trip; the shared client pools 10 connections).
CREATE_WORKERS = 8


#: How long a message (phone, rendered text, history: personal data) is kept: TTL deletes it after this.
DEFAULT_RETENTION = timedelta(days=180)


class DynamoMessageRepository:
    """Messages in DynamoDB. Each status change is one conditional write, on the version read. A new
    message expires (DynamoDB TTL) `retention` after its creation; its campaign's counters stay."""

    def __init__(
        self,
        retention: timedelta = DEFAULT_RETENTION,
        create_workers: int = CREATE_WORKERS,
    ) -> None:
        self.retention = retention
        self.create_workers = max(1, create_workers)

    def _new_model(self, message: Message) -> MessageModel:
        model = to_model(message)
        model.expires_at = int((message.created_at + self.retention).timestamp())
        model.counted_on_insert = True
        return model

    def create(self, message: Message) -> bool:
        """Write a new message, alone: one conditional put, no counter item (its INSERT record counts it).
        False when a message with its id exists already (a retry or a re-dispatch): nothing is written.
        A campaign's message is first added to the campaign's listing, in a listing item of its own."""
        if message.campaign_id is None:
            return self._put(message, None)
        where = linked_listing(message)
        self._list([message], where)
        return self._put(message, where)

    def _put(self, message: Message, listed_in: str | None) -> bool:
        """The conditional put of a new message (already in the listing item `listed_in`, if any)."""
        model = self._new_model(message)
        model.listed_in = listed_in
        try:
            model.save(condition=MessageModel.pk.does_not_exist())
        except PutError as exc:
            if _is_conditional_failure(exc):
                return False
            raise Unavailable("could not write the message", details={"message_id": message.id}) from exc
        return True

    def create_many(self, messages: Sequence[Message], listed_as: str | None = None) -> list[bool]:
        """`create` for each message, a few puts at a time; which of them were new, in order. Raises
        Unavailable if any put failed (the others may be written: creating them again is harmless).
        With `listed_as` (a page of one campaign run's messages: the dispatcher's window and page), they are
        first added to that one listing item of their campaign, as a set: writing the page again adds
        nothing twice."""
        if listed_as and messages:
            self._list(messages, listed_as)
        create = partial(self._put, listed_in=listed_as) if listed_as else self.create
        if self.create_workers == 1 or len(messages) < 2:
            return [create(m) for m in messages]
        with ThreadPoolExecutor(max_workers=min(self.create_workers, len(messages))) as pool:
            return list(pool.map(create, messages))

    def _list(self, messages: Sequence[Message], where: str) -> None:
        """ADD the messages' ids to their campaign's listing item `where` (before the messages are written:
        a listed id whose message is missing is skipped by the listing; an unlisted message would be lost)."""
        campaign_ids = {m.campaign_id for m in messages}
        if len(campaign_ids) != 1 or None in campaign_ids:
            raise ValueError("a listing item holds messages of one campaign")
        (campaign_id,) = campaign_ids
        assert campaign_id is not None
        newest = max(m.created_at for m in messages)
        item = MessageListingModel(*listing_key(campaign_id, where))
        try:
            item.update(
                actions=[
                    MessageListingModel.ids.add({m.id for m in messages}),
                    MessageListingModel.expires_at.set(int((newest + self.retention).timestamp())),
                ]
            )
        except UpdateError as exc:
            raise Unavailable("could not list the messages", details={"campaign_id": campaign_id}) from exc

    def list_by_campaign(
        self, campaign_id: str, *, status: MessageStatus | None = None, cursor: str | None = None, limit: int = 100
    ) -> tuple[list[Message], str | None]:
        """A page of the campaign's messages, optionally of one status: first those written before listing
        items (gsi4's keys, oldest first: a campaign that ran across the change has some), then those of the
        listing items in their order (run, dispatch window, page; the ones linked through /send last); the
        items themselves with consistent batch reads. With a status, a page may hold fewer than `limit` (it
        reads at most SCAN_PAGES x limit ids): follow the cursor."""
        after = cursor_id(cursor, "messages")
        if after is None or not after.startswith("p"):  # the first page, or a cursor into gsi4's part
            items, next_key = self._list_by_index(campaign_id, status=status, after=after, limit=limit)
            if next_key is not None:
                return items, encode_cursor("messages", next_key)
            if len(items) >= limit:
                return items, encode_cursor("messages", _listing_cursor(LISTINGS_START, 0))
            more, cursor_after = self._list_by_items(campaign_id, status, LISTINGS_START, 0, limit - len(items))
            return items + more, cursor_after
        start, skip = _listing_position(after)
        return self._list_by_items(campaign_id, status, start, skip, limit)

    def _list_by_items(
        self, campaign_id: str, status: MessageStatus | None, start: str, skip: int, limit: int
    ) -> tuple[list[Message], str | None]:
        """From the listing item `start` (its id at `skip` on), up to `limit` messages and the cursor after."""
        listings = MessageListingModel.query(
            f"MSGS#{campaign_id}", MessageListingModel.sk >= start, consistent_read=True
        )
        budget = SCAN_PAGES * limit if status else limit
        items: list[Message] = []
        read = 0
        for listing in listings:  # bounded: it returns once `budget` ids are read
            ids = sorted(listing.ids or ())
            offset = skip if listing.sk == start else 0
            while offset < len(ids):
                if len(items) >= limit or read >= budget:
                    return items, encode_cursor("messages", _listing_cursor(listing.sk, offset))
                take = ids[offset : offset + min(limit - len(items), budget - read)]
                found = self._get_many(take, listed_in=listing.sk)
                items += [m for m in found if status is None or m.status is status]
                offset, read = offset + len(take), read + len(take)
        return items, None

    def _list_by_index(
        self, campaign_id: str, *, status: MessageStatus | None, after: str | None, limit: int
    ) -> tuple[list[Message], str | None]:
        """The messages written before listing items: gsi4's keys, oldest first; and the index key after them
        (None: no more)."""
        group = group_key(campaign_id, "")
        start = None
        if after is not None:  # "{created ms}_{message id}": the index key rebuilt from it
            after_id = after.partition("_")[2]
            start = {
                "gsi4pk": {"S": group},
                "gsi4sk": {"S": after},
                "pk": {"S": message_key(after_id)[0]},
                "sk": {"S": "MSG"},
            }
        items: list[Message] = []
        for _ in range(SCAN_PAGES if status else 1):
            query = MessageModel.by_campaign.query(group, limit=limit, last_evaluated_key=start)
            found = self._get_many([m.pk.removeprefix("MSG#") for m in query])  # keys only: read the items
            items += [m for m in found if status is None or m.status is status]
            start = query.last_evaluated_key
            if not start or len(items) >= limit:
                break
        if not start:
            return items, None
        return items, start["gsi4sk"]["S"]

    def _get_many(self, ids: Sequence[str], listed_in: str | None = None) -> list[Message]:
        """The items of `ids`, in that order, with consistent reads (100 per batch). With `listed_in`, only
        those written under that listing item: a window done again after a crash or a pause may list a
        message in a second item too (its pages can shift), and it shows only in the one it was written
        under."""
        by_id: dict[str, Message] = {}
        for begin in range(0, len(ids), 100):
            keys = [message_key(i) for i in ids[begin : begin + 100]]
            for model in MessageModel.batch_get(keys, consistent_read=True):
                if listed_in is None or model.listed_in == listed_in:  # (a message written before: in gsi4)
                    by_id[model.id] = to_domain(model)
        return [by_id[i] for i in ids if i in by_id]

    def get(self, message_id: str, *, consistent: bool = True) -> Message | None:
        try:
            return to_domain(MessageModel.get(*message_key(message_id), consistent_read=consistent))
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
        actions = self._transition_actions(updated, change, changes)
        condition = (MessageModel.version == message.version) & (MessageModel.status == message.status.value)
        self._write(message, actions, condition)
        return updated

    def sends_to(self, account_id: str, sender_id: str, phone: str) -> SendsTo:
        query = MessageModel.by_conversation.query(
            conversation_key(account_id, phone),
            scan_index_forward=False,  # the newest first: a receipt is most often about a recent send
            limit=CONVERSATION_SCAN,
        )
        keys = [m.pk for m in query]  # keys only: a few hundred bytes each
        ids = [pk.removeprefix("MSG#") for pk in keys if pk.startswith("MSG#")]  # replies share the index
        complete = len(keys) < CONVERSATION_SCAN and len(ids) <= SENDS_SCAN
        return SendsTo(self._read_sends(ids[:SENDS_SCAN], sender_id), complete)

    def _read_sends(self, ids: list[str], sender_id: str) -> Iterator[Message]:
        for start in range(0, len(ids), SENDS_CHUNK):  # keys only, and lagging: read the items, consistently
            yield from (m for m in self._get_many(ids[start : start + SENDS_CHUNK]) if m.sender_id == sender_id)

    # -- internals ------------------------------------------------------------------------------

    @staticmethod
    def _transition_actions(new: Message, change: StatusChange, changes: Mapping[str, Any]) -> list[Action]:
        actions: list[Action] = [
            MessageModel.status.set(new.status.value),
            MessageModel.version.set(new.version),
            MessageModel.updated_at.set(new.updated_at),
            MessageModel.history.set(MessageModel.history.append([encode_change(change)])),
        ]
        for name, value in changes.items():
            attribute = getattr(MessageModel, name)
            actions.append(attribute.remove() if value is None else attribute.set(value))
        return actions

    @staticmethod
    def _write(message: Message, actions: list[Action], condition: Condition) -> None:
        """One conditional write of the message alone (its counters follow from the table's stream)."""
        model = MessageModel(*message_key(message.id))
        try:
            model.update(actions=actions, condition=condition)
        except UpdateError as exc:
            if _is_conditional_failure(exc):
                raise StaleState("the message changed meanwhile", details={"message_id": message.id}) from exc
            raise Unavailable("could not update the message", details={"message_id": message.id}) from exc

    def direct_counters(self, account_id: str) -> dict[str, int]:
        """The account's direct (non-campaign) messages by counter bucket."""
        try:
            item = CampaignCountersModel.get(*direct_counters_key(account_id))
        except CampaignCountersModel.DoesNotExist:
            return {}
        return {name: int(getattr(item, attribute.attr_name) or 0) for name, attribute in COUNTER_ATTRIBUTES.items()}
