"""Session commands: what the API asks of the session host through the control queue.

The API never calls the host. It sends one of these; the host applies it and writes the session's
state and QR code to the sender item, where the API reads them. Every command is idempotent: applying
it twice leaves the session as applying it once would.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class CommandType(StrEnum):
    LINK = "link"  # open the session: resume a linked device, or show a QR code to link one
    PAIR = "pair"  # link with a pairing code for `phone` instead of a QR code
    LOGOUT = "logout"  # unlink the device from the phone; the sender stays, logged out
    DELETE = "delete"  # the sender is gone: log out and forget its session stores
    SYNC = "sync"  # the sender's drivers changed: close sessions of drivers no longer enabled


class SenderCommand(BaseModel):
    """One control-queue message."""

    type: CommandType
    command_id: str = Field(min_length=1, max_length=64)
    account_id: str
    sender_id: str
    #: Only this driver (None: link the first enabled driver not connected; others: every driver).
    driver: str | None = None
    #: PAIR: the number to link, E.164 digits without the '+'.
    phone: str | None = Field(default=None, pattern=r"^\d{6,15}$")
    issued_at: datetime
