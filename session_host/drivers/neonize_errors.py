"""Classifies what neonize (whatsmeow) reports about one send: sent, definitely not sent (transient or
permanent), or unknown (the message may have reached WhatsApp).

neonize hands errors over as whatsmeow's error text only, so this table is the one place that reads
them. Anything it does not recognise is UNKNOWN: an unknown outcome is never re-sent, so guessing
"not sent" wrongly could send twice, while guessing "unknown" wrongly only needs a look.
"""

from __future__ import annotations

from wacast.domain.outcomes import SendCode, SendOutcome

DRIVER = "neonize"

# Errors raised before anything was written to WhatsApp's socket. whatsmeow's sendNodeAndGetData
# returns "websocket not connected" when there is no socket, so that one is safe even when wrapped.
_NOT_WRITTEN = "failed to send message node: websocket not connected"
_TRANSIENT_BEFORE_SEND = (
    ("client is nil", SendCode.NOT_CONNECTED),
    ("websocket not connected", SendCode.NOT_CONNECTED),
    ("the store doesn't contain a device jid", SendCode.NOT_LOGGED_IN),
    ("failed to get device list", SendCode.DEVICE_LIST),
    ("failed to get group members", SendCode.DEVICE_LIST),
    ("can't encrypt message for device", SendCode.ENCRYPTION),
    ("failed to encrypt", SendCode.ENCRYPTION),
    ("failed to upload", SendCode.UPLOAD),
)
_PERMANENT_BEFORE_SEND = (
    ("message recipient must be a user jid", SendCode.INVALID_RECIPIENT),
    ("can't send message to unknown server", SendCode.INVALID_RECIPIENT),
    ("sending to non-status broadcast lists is not yet supported", SendCode.INVALID_RECIPIENT),
    ("failed to marshal message", SendCode.INVALID_MESSAGE),
)
# WhatsApp answered the message with an error code: it refused the message (not delivered). Retrying
# a refused message is how numbers get banned, so it is permanent.
_REFUSED = "server returned error"


def classify_send_error(text: str) -> SendOutcome:
    lowered = text.strip().lower()
    detail = text.strip()[:300]
    if lowered.startswith("failed to send message node") and not lowered.startswith(_NOT_WRITTEN):
        return SendOutcome.unknown(DRIVER, SendCode.SOCKET_WRITE, detail)
    if _REFUSED in lowered:
        return SendOutcome.permanent(DRIVER, SendCode.REFUSED, detail)
    for needle, code in _PERMANENT_BEFORE_SEND:
        if needle in lowered:
            return SendOutcome.permanent(DRIVER, code, detail)
    for needle, code in _TRANSIENT_BEFORE_SEND:
        if needle in lowered:
            return SendOutcome.transient(DRIVER, code, detail)
    return SendOutcome.unknown(DRIVER, SendCode.SEND_ERROR, detail)
