"""Conversations for the API: who wrote (the latest first), one conversation both ways, and answering it.

An answer is a direct send through the messaging service (the same opt-out check, outbox and outcome),
from the sender the contact wrote to, and it becomes the conversation's latest message.
"""

from __future__ import annotations

from wacast.domain.accounts import Principal
from wacast.domain.conversations import Conversation, ConversationEntry
from wacast.domain.errors import NotFound
from wacast.domain.messages import Message
from wacast.domain.phones import normalise_phone
from wacast.ports import AccountRepository, ConversationRepository
from wacast.services.messaging import MessagingService


class ConversationService:
    """Reads conversations and answers them."""

    def __init__(
        self, conversations: ConversationRepository, accounts: AccountRepository, messaging: MessagingService
    ) -> None:
        self.conversations = conversations
        self.accounts = accounts
        self.messaging = messaging

    def page(self, principal: Principal, cursor: str | None, limit: int) -> tuple[list[Conversation], str | None]:
        return self.conversations.conversations(principal.account_id, cursor=cursor, limit=limit)

    def entries(
        self, principal: Principal, phone: str, cursor: str | None, limit: int
    ) -> tuple[Conversation, list[ConversationEntry], str | None]:
        conversation = self._conversation(principal, phone)
        entries, next_cursor = self.conversations.entries(
            principal.account_id, conversation.phone, cursor=cursor, limit=limit
        )
        return conversation, entries, next_cursor

    def answer(
        self,
        principal: Principal,
        phone: str,
        text: str,
        *,
        media_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> Message:
        """Send `text` to the conversation's phone from the sender it was written to (a direct send)."""
        conversation = self._conversation(principal, phone)
        message = self.messaging.send_direct(
            principal,
            conversation.phone,
            text,
            sender_id=conversation.sender_id,
            idempotency_key=idempotency_key,
            media_url=media_url,
        )
        self.conversations.note_outbound(message)
        return message

    def _conversation(self, principal: Principal, phone: str) -> Conversation:
        account = self.accounts.get(principal.account_id)
        country = account.settings.default_country if account else None
        e164 = normalise_phone(phone, country)
        conversation = self.conversations.conversation(principal.account_id, e164)
        if conversation is None:
            raise NotFound("no conversation with this phone", details={"phone": e164})
        return conversation
