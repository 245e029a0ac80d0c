"""What a driver reports about one send: whether it went (`OutcomeKind`) and, when it did not, why
(`SendCode`), so the delivery service decides on an enum and never parses text.

For people, `SendOutcome.reason` reads `code: detail` (the message's last_error and history).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class OutcomeKind(StrEnum):
    SENT = "sent"
    TRANSIENT = "transient"  # definitely not sent; may work later
    PERMANENT = "permanent"  # definitely not sent; never will (not on WhatsApp, invalid)
    UNKNOWN = "unknown"  # the request may have reached WhatsApp


class SendCode(StrEnum):
    """Why a send failed, from every driver (neonize, webjs and its sidecar, simulated) and the chain.
    The value is the MessagesFailed metric's Reason dimension."""

    # Definitely not sent; may work later.
    NOT_CONNECTED = "not_connected"  # the session is down: a deferral, never an attempt
    NOT_LOGGED_IN = "not_logged_in"  # the session store holds no linked device
    NO_DRIVER = "no_driver"  # none of the sender's drivers runs on this host
    SIDECAR_UNREACHABLE = "sidecar_unreachable"  # the webjs sidecar did not take the request
    SIDECAR_AUTH = "sidecar_auth"  # the webjs sidecar refused the host's secret (HTTP 401)
    BUSY = "busy"  # the webjs sidecar asked to slow down (HTTP 429)
    NETWORK = "network"
    LOOKUP_FAILED = "lookup_failed"  # could not check that the number is on WhatsApp
    DEVICE_LIST = "device_list"  # could not fetch the recipient's devices
    ENCRYPTION = "encryption"
    UPLOAD = "upload"  # the media upload to WhatsApp failed
    MEDIA = "media"  # the media URL could not be fetched (permanent or transient, by its answer)
    # Definitely not sent; never will.
    NOT_ON_WHATSAPP = "not_on_whatsapp"
    INVALID_RECIPIENT = "invalid_recipient"
    INVALID_MESSAGE = "invalid_message"
    TOO_LARGE = "too_large"  # the webjs sidecar refused the request's size (HTTP 413)
    BAD_JSON = "bad_json"  # the webjs sidecar could not read the request (HTTP 400)
    REFUSED = "refused"  # WhatsApp answered with an error; retrying a refused message gets numbers banned
    # WhatsApp may have it.
    TIMEOUT = "timeout"
    SOCKET_WRITE = "socket_write"  # the write to WhatsApp's socket failed part way
    SEND_FAILED = "send_failed"  # the webjs sidecar's send failed after it called WhatsApp
    SEND_ERROR = "send_error"  # an error text no rule recognises
    NO_ID = "no_id"  # answered as sent, without a message id
    DRIVER_ERROR = "driver_error"  # the driver raised


@dataclass(frozen=True)
class SendOutcome:
    """What a driver (or the driver chain) reports about one send. `code` is set unless it was sent."""

    kind: OutcomeKind
    driver: str
    provider_message_id: str | None = None
    code: SendCode | None = None
    detail: str = ""
    fallback_used: bool = False

    @property
    def reason(self) -> str | None:
        """The readable `code: detail` a user sees as the message's last error."""
        if self.code is None:
            return None
        return f"{self.code.value}: {self.detail}" if self.detail else self.code.value

    @classmethod
    def sent(cls, driver: str, provider_message_id: str) -> SendOutcome:
        return cls(OutcomeKind.SENT, driver, provider_message_id=provider_message_id)

    @classmethod
    def transient(cls, driver: str, code: SendCode, detail: str = "") -> SendOutcome:
        return cls(OutcomeKind.TRANSIENT, driver, code=code, detail=detail)

    @classmethod
    def permanent(cls, driver: str, code: SendCode, detail: str = "") -> SendOutcome:
        return cls(OutcomeKind.PERMANENT, driver, code=code, detail=detail)

    @classmethod
    def unknown(cls, driver: str, code: SendCode, detail: str = "") -> SendOutcome:
        return cls(OutcomeKind.UNKNOWN, driver, code=code, detail=detail)
