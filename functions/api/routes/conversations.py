"""Conversations: who answered (the latest first), one conversation both ways, and answering it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response, status
from pydantic import BaseModel, Field, HttpUrl

from routes.deps import PrincipalDep, ServicesDep
from routes.errors import ERRORS
from routes.messages import JobOut, job_out
from wacast.domain.conversations import Conversation, ConversationEntry
from wacast.domain.messages import PENDING

router = APIRouter(prefix="/api/conversations", tags=["conversations"], responses=ERRORS)

PhonePath = Annotated[str, Path(max_length=32, description="the phone, E.164 (+919876543210)")]
Cursor = Annotated[str | None, Query(max_length=256)]
Limit = Annotated[int, Query(ge=1, le=100)]


class ConversationPage(BaseModel):
    items: list[Conversation]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null at the end")


class ConversationMessages(BaseModel):
    conversation: Conversation
    items: list[ConversationEntry] = Field(description="both ways, newest first")
    next_cursor: str | None = Field(description="pass as ?cursor= for older messages; null at the end")


class AnswerRequest(BaseModel):
    message: str = Field(min_length=1, max_length=4096)
    media_url: HttpUrl | None = Field(default=None, description="an image, document or video to send with it")


@router.get("")
def list_conversations(
    principal: PrincipalDep, services: ServicesDep, cursor: Cursor = None, limit: Limit = 50
) -> ConversationPage:
    """Every phone that wrote to the account, the latest activity first."""
    items, next_cursor = services.conversations.page(principal, cursor, limit)
    return ConversationPage(items=items, next_cursor=next_cursor)


@router.get("/{phone}/messages")
def conversation_messages(
    phone: PhonePath, principal: PrincipalDep, services: ServicesDep, cursor: Cursor = None, limit: Limit = 50
) -> ConversationMessages:
    """One conversation: the messages sent to the phone (campaigns' and direct) and its replies, newest first."""
    conversation, items, next_cursor = services.conversations.entries(principal, phone, cursor, limit)
    return ConversationMessages(conversation=conversation, items=items, next_cursor=next_cursor)


@router.post(
    "/{phone}/messages",
    responses={202: {"model": JobOut, "description": "queued; the outcome is not known yet"}},
)
def answer(
    phone: PhonePath,
    body: AnswerRequest,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
    idempotency_key: str | None = Header(default=None, max_length=128),
) -> JobOut:
    """Answer: a direct send to the phone, from the sender it wrote to (same outcome rules as /api/messages/send)."""
    message = services.conversations.answer(
        principal,
        phone,
        body.message,
        media_url=str(body.media_url) if body.media_url else None,
        idempotency_key=idempotency_key,
    )
    message = services.messaging.wait_for_outcome(message, services.settings.send_wait_seconds)
    if message.status in PENDING:
        response.status_code = status.HTTP_202_ACCEPTED
    return job_out(message)
