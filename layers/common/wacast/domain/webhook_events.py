"""The webhook events a change of the table means, read from one record of the table's stream.

Every event the account's systems can hear about is a change of an item: a message's status (MSG# MODIFY),
a reply stored (REPLY# INSERT), an opt-out added or removed (OPTOUT# INSERT/REMOVE), a campaign's status
(CAMPAIGN# MODIFY) and a sender's state (SENDER# MODIFY). Reading them from the stream means no service
has to remember to emit them, and an event exists only once its change is written. Pure: images are the
stream's DynamoDB JSON.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from wacast.domain.webhooks import EventType, WebhookEvent, event_id

Image = dict[str, Any]

#: The statuses of a campaign that are events, and which.
CAMPAIGN_EVENTS = {
    "running": EventType.CAMPAIGN_STARTED,
    "paused": EventType.CAMPAIGN_PAUSED,
    "completed": EventType.CAMPAIGN_COMPLETED,
}


def _s(image: Image, name: str) -> str | None:
    value = image.get(name)
    return value.get("S") if isinstance(value, dict) else None


def _n(image: Image, name: str) -> int | None:
    value = image.get(name)
    number = value.get("N") if isinstance(value, dict) else None
    return int(number) if number is not None else None


def _time_of(stamp: object) -> datetime:
    """The record's time: epoch seconds as Lambda gives it (a datetime where boto3 parsed it already)."""
    if isinstance(stamp, datetime):
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    if isinstance(stamp, int | float | str):
        return datetime.fromtimestamp(float(stamp), tz=UTC)
    return datetime.fromtimestamp(0, tz=UTC)


def _account_of(pk: str | None) -> str | None:
    return pk.removeprefix("ACCT#") if pk and pk.startswith("ACCT#") else None


Made = tuple[EventType, str | None, dict[str, Any]] | None  # (kind, account, data), or no event


def events_of(record: dict[str, Any]) -> list[WebhookEvent]:
    """The events one stream record means (most records mean none)."""
    name = str(record.get("eventName") or "")
    data = record.get("dynamodb") or {}
    keys, old, new = data.get("Keys") or {}, data.get("OldImage") or {}, data.get("NewImage") or {}
    pk, sk = _s(keys, "pk") or "", _s(keys, "sk") or ""
    stamp = data.get("ApproximateCreationDateTime")
    at = _time_of(stamp)
    record_id = str(record.get("eventID") or data.get("SequenceNumber") or "")
    made: Made = None
    if pk.startswith("MSG#") and name == "MODIFY":
        made = _message_status(old, new)
    elif sk.startswith("REPLY#") and name == "INSERT":
        made = _received(new)
    elif sk.startswith("OPTOUT#") and name in ("INSERT", "REMOVE"):
        made = _opt_out(name, pk, sk, new)
    elif sk.startswith("CAMPAIGN#") and name == "MODIFY":
        made = _campaign(pk, sk, old, new)
    elif sk.startswith("SENDER#") and name == "MODIFY":
        made = _sender(pk, sk, old, new)
    if made is None or not made[1]:
        return []
    kind, account, body = made
    assert account is not None
    return [WebhookEvent(id=event_id(kind, record_id), type=kind, account_id=account, created_at=at, data=body)]


def _message_status(old: Image, new: Image) -> Made:
    before, after = _s(old, "status"), _s(new, "status")
    if not after or before == after:
        return None
    body = {
        "message_id": _s(new, "id"),
        "campaign_id": _s(new, "campaign_id"),
        "sender_id": _s(new, "sender_id"),
        "phone": _s(new, "phone"),
        "status": after,
        "previous_status": before,
        "driver": _s(new, "driver"),
        "error": _s(new, "last_error"),
        "at": _s(new, "updated_at"),
    }
    return EventType.MESSAGE_STATUS, _s(new, "account_id"), body


def _received(new: Image) -> Made:
    body = {
        "reply_id": _s(new, "id"),
        "sender_id": _s(new, "sender_id"),
        "phone": _s(new, "phone"),
        "contact_id": _s(new, "contact_id"),
        "text": _s(new, "text") or "",
        "media_type": _s(new, "media_type"),
        "in_reply_to": _s(new, "message_id"),
        "campaign_id": _s(new, "campaign_id"),
        "at": _s(new, "at"),
    }
    return EventType.MESSAGE_RECEIVED, _s(new, "account_id"), body


def _opt_out(name: str, pk: str, sk: str, new: Image) -> Made:
    phone = sk.removeprefix("OPTOUT#")
    if name == "INSERT":
        body = {"phone": phone, "source": _s(new, "source"), "at": _s(new, "at")}
        return EventType.CONTACT_OPTED_OUT, _account_of(pk), body
    return EventType.CONTACT_OPTED_IN, _account_of(pk), {"phone": phone}


def _campaign(pk: str, sk: str, old: Image, new: Image) -> Made:
    before, after = _s(old, "status"), _s(new, "status")
    kind = CAMPAIGN_EVENTS.get(after or "")
    if kind is None or before == after:
        return None
    body: dict[str, Any] = {
        "campaign_id": sk.removeprefix("CAMPAIGN#"),
        "name": _s(new, "name"),
        "status": after,
        "previous_status": before,
        "run": _n(new, "run"),
    }
    return kind, _account_of(pk), body


def _sender(pk: str, sk: str, old: Image, new: Image) -> Made:
    before, after = _s(old, "state"), _s(new, "state")
    if not after or before == after:
        return None
    body = {
        "sender_id": sk.removeprefix("SENDER#"),
        "state": after,
        "previous_state": before,
        "error": _s(new, "last_error"),
    }
    return EventType.SENDER_STATE, _account_of(pk), body
