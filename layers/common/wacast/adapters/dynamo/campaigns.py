"""Campaign items: pk ACCT#{account}, sk CAMPAIGN#{campaign}. Counters are top-level numbers moved by ADD."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError

from wacast.adapters.dynamo.table import TableModel
from wacast.domain.messages import COUNTERS


def campaign_key(account_id: str, campaign_id: str) -> tuple[str, str]:
    return f"ACCT#{account_id}", f"CAMPAIGN#{campaign_id}"


class CampaignCountersModel(TableModel):
    """The counter columns of a campaign item (the full campaign model extends this)."""

    status = UnicodeAttribute(null=True)
    failure_reason = UnicodeAttribute(null=True)
    count_total = NumberAttribute(default=0)
    count_queued = NumberAttribute(default=0)
    count_sent = NumberAttribute(default=0)
    count_delivered = NumberAttribute(default=0)
    count_read = NumberAttribute(default=0)
    count_failed = NumberAttribute(default=0)
    count_skipped = NumberAttribute(default=0)
    count_unknown = NumberAttribute(default=0)


COUNTER_ATTRIBUTES: dict[str, NumberAttribute] = {
    name: getattr(CampaignCountersModel, f"count_{name}") for name in ("total", *COUNTERS)
}


class DynamoCampaignStates:
    """Reads a campaign's status for the delivery path (one consistent GetItem)."""

    def status_of(self, account_id: str, campaign_id: str) -> str | None:
        try:
            item = CampaignCountersModel.get(
                *campaign_key(account_id, campaign_id), consistent_read=True, attributes_to_get=["status"]
            )
        except CampaignCountersModel.DoesNotExist:
            return None
        return item.status

    def mark_failed(self, account_id: str, campaign_id: str, reason: str) -> bool:
        item = CampaignCountersModel(*campaign_key(account_id, campaign_id))
        try:
            item.update(
                actions=[CampaignCountersModel.status.set("failed"), CampaignCountersModel.failure_reason.set(reason)],
                condition=CampaignCountersModel.status.is_in("scheduled", "running"),
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True
