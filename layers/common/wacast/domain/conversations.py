"""Replies and conversations: what a phone wrote to one of the account's senders, and the exchange with it.

A reply is stored for every incoming message (a stop keyword too). It is linked to the contact of its
phone and to the most recent message that sender sent to that phone (hence its campaign). A conversation
is an account and a phone: the messages sent to it and the replies from it, newest first.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from wacast.domain.messages import Message, MessageStatus


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class Reply(BaseModel):
    """One incoming message, as stored on the account."""

    id: str
    account_id: str
    sender_id: str
    phone: str = Field(description="who wrote, E.164")
    text: str = ""
    media_type: str | None = None
    at: datetime
    contact_id: str | None = None
    #: The most recent message this sender sent to this phone before the reply (None: none found).
    message_id: str | None = None
    campaign_id: str | None = None
    #: The reply was a stop keyword: its writer was opted out.
    opted_out: bool = False


def reply_id(sender_id: str, phone: str, at: datetime, text: str, provider_id: str | None = None) -> str:
    """The same incoming message always gets the same id (an event delivered twice is stored once)."""
    basis = provider_id or f"{at.isoformat()}|{text}"
    return "r_" + hashlib.sha256(f"{sender_id}|{phone}|{basis}".encode()).hexdigest()[:24]


class Conversation(BaseModel):
    """The summary of one conversation: who, and the last thing said (a listing's row)."""

    account_id: str
    phone: str
    contact_id: str | None = None
    sender_id: str
    last_at: datetime
    last_text: str = ""
    last_direction: Direction
    replies: int = 0


class ConversationEntry(BaseModel):
    """One message of a conversation, either way."""

    id: str
    direction: Direction
    sender_id: str
    at: datetime
    text: str
    media_type: str | None = None
    media_url: str | None = None
    status: MessageStatus | None = None  # an outbound message's delivery status
    campaign_id: str | None = None
    #: An inbound entry: the message it answers.
    in_reply_to: str | None = None


def entry_of_message(message: Message) -> ConversationEntry:
    return ConversationEntry(
        id=message.id,
        direction=Direction.OUTBOUND,
        sender_id=message.sender_id,
        at=message.created_at,
        text=message.body,
        media_url=message.media_url,
        status=message.status,
        campaign_id=message.campaign_id,
    )


def entry_of_reply(reply: Reply) -> ConversationEntry:
    return ConversationEntry(
        id=reply.id,
        direction=Direction.INBOUND,
        sender_id=reply.sender_id,
        at=reply.at,
        text=reply.text,
        media_type=reply.media_type,
        campaign_id=reply.campaign_id,
        in_reply_to=reply.message_id,
    )


def latest_sent_by(messages: list[Message], sender_id: str, before: datetime) -> Message | None:
    """The most recent of `messages` that `sender_id` sent (or may have sent) no later than `before`."""
    candidates = [
        m
        for m in messages
        if m.sender_id == sender_id and m.created_at <= before and m.status not in (MessageStatus.SKIPPED,)
    ]
    return max(candidates, key=lambda m: m.created_at, default=None)
