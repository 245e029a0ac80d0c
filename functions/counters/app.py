"""The counters function: consumer of the table's stream (message creations and changes, by the event
source's filter).

Each invocation gets one batch of one shard, in order; the whole batch is applied exactly once (see
services/counters.py), so a failure fails the invocation and Lambda retries the same batch: never a
partial batch response, which would move the start of the retried batch and defeat the ledger.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from wacast.bootstrap.counters import CountersServices, build_counters
from wacast.domain.counters import CounterKey, StatusChange
from wacast.domain.messages import MessageStatus
from wacast.observability import logger, metrics, tracer
from wacast.settings import CountersSettings

#: The stored name of the mark a new message item carries (`counted_on_insert`, adapters/dynamo/messages.py)
#: when its creation is counted from its INSERT record (the template's filter asks for it too).
COUNTED_ON_INSERT = "ins"


@lru_cache(maxsize=1)
def get_services() -> CountersServices:
    """The counters function's root, built at the first batch (cold start), never at import."""
    return build_counters(CountersSettings.load())


def _text(image: dict[str, Any], name: str) -> str | None:
    value = image.get(name) or {}
    return value.get("S") if isinstance(value, dict) else None


def _number(image: dict[str, Any], name: str) -> int:
    value = image.get(name) or {}
    return int(value.get("N", "0")) if isinstance(value, dict) else 0


def status_change(record: dict[str, Any]) -> StatusChange | None:
    """A message's creation, status change or first reply from one stream record; None for anything else
    (an expired message keeps its counts; a message written before creations were counted from the stream
    lacks the mark, COUNTED_ON_INSERT, and was counted by its own write)."""
    event, data = record.get("eventName"), record["dynamodb"]
    old, new = data.get("OldImage") or {}, data.get("NewImage") or {}
    account, after = _text(new, "account_id"), _text(new, "status")
    if event == "INSERT":
        if not (account and after) or not (new.get(COUNTED_ON_INSERT) or {}).get("BOOL", False):
            return None
        campaign = _text(new, "campaign_id")
        return StatusChange(
            sequence=int(data["SequenceNumber"]),
            key=CounterKey(account, campaign),
            old=None,
            new=MessageStatus(after),
            dispatched=campaign is not None and _number(new, "run") > 0,  # a run's message, not a direct one
        )
    if event != "MODIFY":
        return None
    before = _text(old, "status")
    first_reply = "replied_at" in new and "replied_at" not in old
    if not (before and after and account) or (before == after and not first_reply):
        return None
    return StatusChange(
        sequence=int(data["SequenceNumber"]),
        key=CounterKey(account, _text(new, "campaign_id")),
        old=MessageStatus(before),
        new=MessageStatus(after),
        driver=_text(new, "driver"),
        fallback_used=bool((new.get("fallback_used") or {}).get("BOOL", False)),
        first_reply=first_reply,
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records") or []
    if not records:
        return {}
    changes = [c for c in (status_change(r) for r in records) if c is not None]
    batch_id = str(records[0]["eventID"])  # a retried batch starts with the same record
    get_services().counters.apply(batch_id, changes)
    return {}
