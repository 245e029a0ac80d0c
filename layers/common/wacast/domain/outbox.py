"""The outbox queue's message: which message to send. The message item holds everything else (phone,
body, status), so the queue never carries a copy that could disagree with it.

Produced by the API's direct send (`services.messaging`) and the dispatcher (`services.dispatch`);
consumed by the session host (`session_host.consumer` -> `services.delivery`) and, once dead-lettered,
by the dlq function (`services.deadletters`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from wacast.domain.messages import Message


class OutboxMessage(BaseModel):
    """One outbox SQS message. `sender_id` picks the host's per-sender lane before the item is read."""

    model_config = ConfigDict(frozen=True)

    message_id: str = Field(min_length=1)
    account_id: str = Field(min_length=1)
    sender_id: str = Field(min_length=1)

    @classmethod
    def of(cls, message: Message) -> OutboxMessage:
        return cls(message_id=message.id, account_id=message.account_id, sender_id=message.sender_id)
