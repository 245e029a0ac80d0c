"""The opt-out list: pk ACCT#{account}, sk OPTOUT#{e164 phone}. One item per opted-out number, so a
send path checks it with one GetItem, whether or not the number is a contact."""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from wacast.adapters.dynamo.table import TableModel


class OptOutModel(TableModel):
    phone = UnicodeAttribute()
    source = UnicodeAttribute()
    at = UTCDateTimeAttribute()


def optout_key(account_id: str, phone: str) -> tuple[str, str]:
    return f"ACCT#{account_id}", f"OPTOUT#{phone}"


class DynamoOptOutRepository:
    """Opt-outs in DynamoDB."""

    def is_opted_out(self, account_id: str, phone: str) -> bool:
        try:
            OptOutModel.get(*optout_key(account_id, phone), consistent_read=True, attributes_to_get=["pk"])
        except OptOutModel.DoesNotExist:
            return False
        return True

    def opt_out(self, account_id: str, phone: str, source: str, at: datetime) -> None:
        OptOutModel(*optout_key(account_id, phone), phone=phone, source=source, at=at).save()

    def opt_in(self, account_id: str, phone: str) -> None:
        OptOutModel(*optout_key(account_id, phone)).delete()
