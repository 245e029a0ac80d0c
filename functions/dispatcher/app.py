"""SQS consumer of the campaigns queue: the paced fan-out of a campaign.

Not built yet (the campaign delivery engine issue): until then every job is reported as a batch
item failure, so it stays in the queue and reaches the campaigns DLQ rather than being lost.
"""

from __future__ import annotations

from typing import Any

from wacast.observability import logger


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records", [])
    logger.error("campaign dispatch is not available yet; leaving the jobs in the queue", jobs=len(records))
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records]}
