"""Turns neonize's protobuf events into the driver's vocabulary: session states, receipts, incoming texts.

Pure functions over the protobuf messages, so they are tested with real neonize event objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wacast.domain.events import ReceiptStatus
from wacast.domain.governor import NEONIZE_BAN_CODES, AccountSignal
from wacast.domain.senders import SenderState

USER_SERVER = "s.whatsapp.net"

# neonize's Receipt.ReceiptType: DELIVERED=1, READ=4, PLAYED=6 (a voice note played counts as read).
_RECEIPT_STATUS: dict[int, ReceiptStatus] = {1: "DELIVERED", 4: "READ", 6: "READ"}
# ConnectFailureReason: LOGGED_OUT=2, TEMP_BANNED=3, MAIN_DEVICE_GONE=4, UNKNOWN_LOGOUT=5,
# CLIENT_OUTDATED=6, BAD_USER_AGENT=7.
_LOGGED_OUT_REASONS = {2, 4, 5}
_FATAL_REASONS = {3: "temporary_ban", 6: "client_outdated", 7: "bad_user_agent"}


@dataclass(frozen=True)
class Receipt:
    provider_ids: list[str]
    status: ReceiptStatus
    recipient: str | None


@dataclass(frozen=True)
class Incoming:
    from_phone: str
    text: str
    provider_id: str | None = None
    media_type: str | None = None


#: The media messages a reply may be, with the field of their caption (None: no caption).
_MEDIA = {
    "imageMessage": ("image", "caption"),
    "videoMessage": ("video", "caption"),
    "documentMessage": ("document", "caption"),
    "audioMessage": ("audio", None),
    "stickerMessage": ("sticker", None),
    "locationMessage": ("location", None),
    "contactMessage": ("contact", None),
}


def _media_of(message: Any) -> tuple[str | None, str]:
    """(the media kind, its caption) of a message, or (None, "") for a text or an unknown kind."""
    for field, (kind, caption) in _MEDIA.items():
        try:
            present = message.HasField(field)
        except (AttributeError, ValueError):  # not a protobuf message, or no such field in this version
            present = False
        if present:
            return kind, str(getattr(getattr(message, field), caption, "") or "") if caption else ""
    return None, ""


def phone_of(*jids: Any) -> str | None:
    """The E.164 number of the first phone-number JID among `jids` (LID addressing hides it in the
    alternative JIDs)."""
    for jid in jids:
        if jid is not None and jid.Server == USER_SERVER and jid.User:
            return "+" + str(jid.User).split(":", 1)[0]
    return None


def receipt_of(event: Any) -> Receipt | None:
    """A delivered/read receipt of a message we sent, or None (our own devices, other receipt types)."""
    status = _RECEIPT_STATUS.get(int(event.Type))
    source = event.MessageSource
    if status is None or source.IsFromMe or not event.MessageIDs:
        return None
    recipient = phone_of(source.Chat, source.Sender, source.RecipientAlt, source.SenderAlt)
    return Receipt(provider_ids=[str(i) for i in event.MessageIDs], status=status, recipient=recipient)


def incoming_of(event: Any) -> Incoming | None:
    """A text or a media message written to us in a one-to-one chat (with WhatsApp's id of it), or None (our
    own messages, groups, protocol messages)."""
    source = event.Info.MessageSource
    if source.IsFromMe or source.IsGroup:
        return None
    message = event.Message
    text = str(message.conversation or message.extendedTextMessage.text or "")
    media_type = None
    if not text:
        media_type, text = _media_of(message)
    sender = phone_of(source.Sender, source.SenderAlt, source.Chat)
    if (not text and media_type is None) or sender is None:
        return None
    provider_id = str(getattr(event.Info, "ID", "") or "") or None
    return Incoming(from_phone=sender, text=text, provider_id=provider_id, media_type=media_type)


def connect_failure_state(event: Any) -> tuple[SenderState, str]:
    """What a ConnectFailure means for the session: logged out, fatal (no reconnect), or a drop."""
    reason = int(event.Reason)
    detail = str(event.Message or "").strip() or f"reason {reason}"
    if reason in _LOGGED_OUT_REASONS:
        return SenderState.LOGGED_OUT, f"logged_out: {detail}"
    if reason in _FATAL_REASONS:
        return SenderState.FAILED, f"{_FATAL_REASONS[reason]}: {detail}"
    return SenderState.DISCONNECTED, f"connect_failure: {detail}"


def temporary_ban_of(event: Any) -> AccountSignal:
    """neonize's TemporaryBan (Code 1..5 = whatsmeow's 101..106, Expire in seconds) as an account signal."""
    code = NEONIZE_BAN_CODES.get(int(event.Code))
    return AccountSignal(
        kind="temporary_ban", driver="neonize", code=code, expires_in_seconds=max(0, int(event.Expire))
    )


def account_signal_of_failure(event: Any) -> AccountSignal | None:
    """A ConnectFailure (or LoggedOut, whose Reason uses the same enum) that says something about the account:
    a temporary ban, or a logout WhatsApp forced. None for the others (drops, outdated clients)."""
    reason = int(event.Reason)
    if reason == 3:  # TEMP_BANNED: the ban's code and expiry come with the TemporaryBan event, if at all
        return AccountSignal(
            kind="temporary_ban", driver="neonize", detail="WhatsApp refused the connection: temporarily banned"
        )
    if reason in _LOGGED_OUT_REASONS:
        return AccountSignal(kind="logged_out", driver="neonize", detail=f"logged out by WhatsApp (reason {reason})")
    return None
