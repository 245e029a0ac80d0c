"""Domain exceptions. The API maps them to HTTP in exactly one exception handler."""

from __future__ import annotations

from typing import Any


class WacastError(Exception):
    """Base of every error wacast raises on purpose. `code` is stable and machine-readable."""

    code = "error"
    status = 500

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ValidationFailed(WacastError):
    """Input is well-formed JSON but its content is wrong. `field` names what to fix."""

    code = "validation_error"
    status = 422

    def __init__(self, message: str, *, field: str | None = None, details: Any = None) -> None:
        super().__init__(message, details=details if details is not None else ({"field": field} if field else None))
        self.field = field


class NotFound(WacastError):
    code = "not_found"
    status = 404


class Conflict(WacastError):
    code = "conflict"
    status = 409


class Unauthorized(WacastError):
    code = "unauthorized"
    status = 401


class Forbidden(WacastError):
    code = "forbidden"
    status = 403


class RateLimited(WacastError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message, details={"retry_after_seconds": retry_after_seconds})
        self.retry_after_seconds = retry_after_seconds


class PayloadTooLarge(WacastError):
    code = "payload_too_large"
    status = 413


class OptedOut(WacastError):
    """The recipient opted out: nothing may be sent to them."""

    code = "opted_out"
    status = 409


class StaleState(WacastError):
    """A conditional write lost: the item is no longer in the state the caller expected."""

    code = "stale_state"
    status = 409


class Unavailable(WacastError):
    """A dependency (AWS, a driver) is unreachable right now; retrying later may work."""

    code = "unavailable"
    status = 503


class ProofPending(WacastError):
    """A receipt may prove a send that a live worker is still recording: try the receipt again later
    (the events queue redelivers it), when that worker has recorded its outcome or its lease ran out."""

    code = "proof_pending"
    status = 409
