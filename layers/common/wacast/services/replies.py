"""Stores what phones write to the account's senders (services/events.py hands each incoming message here).

Each incoming message becomes a reply on the account, linked to the contact of its phone and to the most
recent message that sender sent to that phone (hence its campaign). That message's first reply is marked
on it; the counters function counts the mark in its campaign's `replied` (exactly once, from the stream).
"""

from __future__ import annotations

from wacast import observability as obs
from wacast.domain.contacts import contact_id_for
from wacast.domain.conversations import Reply, latest_sent_by, reply_id
from wacast.domain.events import IncomingEvent
from wacast.observability import logger
from wacast.ports import ContactRepository, ConversationRepository


class ReplyService:
    """Keeps every incoming message, linked to what it answers."""

    def __init__(self, conversations: ConversationRepository, contacts: ContactRepository) -> None:
        self.conversations = conversations
        self.contacts = contacts

    def record(self, event: IncomingEvent, *, opted_out: bool = False) -> Reply:
        """Store the incoming message (once, however often the event comes) and link it. Returns the reply."""
        account_id, phone = event.account_id, event.sender_phone
        contact_id = contact_id_for(account_id, phone)
        contact = self.contacts.get(account_id, contact_id)
        answered = latest_sent_by(self.conversations.recent_messages_to(account_id, phone), event.sender_id, event.at)
        reply = Reply(
            id=reply_id(event.sender_id, phone, event.at, event.text, event.provider_message_id),
            account_id=account_id,
            sender_id=event.sender_id,
            phone=phone,
            text=event.text,
            media_type=event.media_type,
            at=event.at,
            contact_id=contact.id if contact else None,
            message_id=answered.id if answered else None,
            campaign_id=answered.campaign_id if answered else None,
            opted_out=opted_out,
        )
        stored = self.conversations.save_reply(reply)
        if answered is not None:  # also after a retry: the mark is idempotent and counted once
            self.conversations.mark_replied(answered.id, event.at)
        if stored:
            obs.emit(obs.REPLIES_RECEIVED)
            logger.info("reply stored", reply_id=reply.id, message_id=reply.message_id, campaign_id=reply.campaign_id)
        return reply
