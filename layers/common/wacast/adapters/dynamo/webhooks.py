"""Webhook endpoints and their delivery log.

Keys:
- endpoint: pk ACCT#{account}, sk WEBHOOK#{endpoint} (its secrets too: deliveries are signed with them;
  the API shows a secret only when it makes it);
- delivery: pk WHDLV#{endpoint}, sk DLV#{delivery}: the delivery's latest state (one item, rewritten at each
  attempt). Delivery ids begin with the event's time, so the log reads newest first. Entries expire after
  `log_retention` (TTL).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DeleteError, PutError, UpdateError

from wacast.adapters.dynamo.attributes import PydanticAttribute
from wacast.adapters.dynamo.cursors import cursor_id, encode_cursor
from wacast.adapters.dynamo.table import TableModel, is_condition_failure, unavailable_on_failure
from wacast.domain.errors import Conflict, NotFound, Unavailable
from wacast.domain.webhooks import Delivery, DeliveryStatus, EventType, WebhookEndpoint, WebhookEvent

DEFAULT_LOG_RETENTION = timedelta(days=30)


class EndpointModel(TableModel):
    id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    url = UnicodeAttribute()
    events = PydanticAttribute(list[EventType], default=list, attr_name="events_json")
    description = UnicodeAttribute(default="")
    enabled = BooleanAttribute(default=True)
    disabled_reason = UnicodeAttribute(null=True)
    disabled_at = UTCDateTimeAttribute(null=True)
    secret = UnicodeAttribute()
    previous_secret = UnicodeAttribute(null=True)
    previous_secret_expires_at = UTCDateTimeAttribute(null=True)
    consecutive_dead = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class DeliveryModel(TableModel):
    id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    endpoint_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    status = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    response_code = NumberAttribute(null=True)
    latency_ms = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)
    next_attempt_at = UTCDateTimeAttribute(null=True)
    replay = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    event = PydanticAttribute(WebhookEvent, null=True, attr_name="event_json")  # kept for a replay


def endpoint_key(account_id: str, endpoint_id: str) -> tuple[str, str]:
    return f"ACCT#{account_id}", f"WEBHOOK#{endpoint_id}"


def delivery_key(endpoint_id: str, delivery_id: str) -> tuple[str, str]:
    return f"WHDLV#{endpoint_id}", f"DLV#{delivery_id}"


_ENDPOINT_FIELDS = tuple(WebhookEndpoint.model_fields)
_DELIVERY_FIELDS = tuple(Delivery.model_fields)


def _endpoint_model(endpoint: WebhookEndpoint) -> EndpointModel:
    return EndpointModel(*endpoint_key(endpoint.account_id, endpoint.id), **endpoint.model_dump())


def _endpoint(model: EndpointModel) -> WebhookEndpoint:
    return WebhookEndpoint.model_validate({name: getattr(model, name) for name in _ENDPOINT_FIELDS})


def _delivery(model: DeliveryModel) -> Delivery:
    data = {name: getattr(model, name) for name in _DELIVERY_FIELDS}
    data["status"], data["event_type"] = DeliveryStatus(model.status), EventType(model.event_type)
    return Delivery.model_validate(data)


class DynamoWebhookEndpoints:
    """Webhook endpoints in the one table."""

    def create(self, endpoint: WebhookEndpoint) -> None:
        try:
            _endpoint_model(endpoint).save(condition=EndpointModel.pk.does_not_exist())
        except PutError as exc:
            if is_condition_failure(exc):
                raise Conflict("this endpoint exists already", details={"endpoint_id": endpoint.id}) from exc
            raise Unavailable("could not save the endpoint: try again") from exc

    @unavailable_on_failure("read the endpoint")
    def get(self, account_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        try:
            return _endpoint(EndpointModel.get(*endpoint_key(account_id, endpoint_id), consistent_read=True))
        except EndpointModel.DoesNotExist:
            return None

    @unavailable_on_failure("list the endpoints")
    def list_for_account(self, account_id: str) -> list[WebhookEndpoint]:
        query = EndpointModel.query(f"ACCT#{account_id}", EndpointModel.sk.startswith("WEBHOOK#"), limit=100)
        return [_endpoint(m) for m in query]

    def save(self, endpoint: WebhookEndpoint) -> None:
        try:
            _endpoint_model(endpoint).save(condition=EndpointModel.pk.exists())
        except PutError as exc:
            if is_condition_failure(exc):
                raise NotFound("no such endpoint", details={"endpoint_id": endpoint.id}) from exc
            raise Unavailable("could not save the endpoint: try again") from exc

    def delete(self, account_id: str, endpoint_id: str) -> bool:
        try:
            EndpointModel(*endpoint_key(account_id, endpoint_id)).delete(condition=EndpointModel.pk.exists())
        except DeleteError as exc:
            if is_condition_failure(exc):
                return False
            raise Unavailable("could not delete the endpoint: try again") from exc
        return True

    def record_dead(self, account_id: str, endpoint_id: str) -> int:
        item = EndpointModel(*endpoint_key(account_id, endpoint_id))
        try:
            item.update(actions=[EndpointModel.consecutive_dead.add(1)], condition=EndpointModel.pk.exists())
        except UpdateError as exc:
            if is_condition_failure(exc):
                return 0  # deleted meanwhile
            raise Unavailable("could not update the endpoint") from exc
        return int(item.consecutive_dead or 0)

    def record_delivered(self, account_id: str, endpoint_id: str) -> None:
        item = EndpointModel(*endpoint_key(account_id, endpoint_id))
        try:  # written only when there is something to reset
            item.update(actions=[EndpointModel.consecutive_dead.set(0)], condition=EndpointModel.consecutive_dead > 0)
        except UpdateError as exc:
            if not is_condition_failure(exc):
                raise Unavailable("could not update the endpoint") from exc

    def disable(self, account_id: str, endpoint_id: str, reason: str, at: datetime) -> bool:
        item = EndpointModel(*endpoint_key(account_id, endpoint_id))
        try:
            item.update(
                actions=[
                    EndpointModel.enabled.set(False),
                    EndpointModel.disabled_reason.set(reason),
                    EndpointModel.disabled_at.set(at),
                    EndpointModel.updated_at.set(at),
                ],
                condition=EndpointModel.pk.exists() & (EndpointModel.enabled == True),  # noqa: E712 - a condition
            )
        except UpdateError as exc:
            if is_condition_failure(exc):
                return False
            raise Unavailable("could not disable the endpoint") from exc
        return True


class DynamoDeliveryLog:
    """The delivery log in the one table."""

    def __init__(self, retention: timedelta = DEFAULT_LOG_RETENTION) -> None:
        self.retention = retention

    @unavailable_on_failure("write the delivery log")
    def record(self, delivery: Delivery, event: WebhookEvent) -> None:
        model = DeliveryModel(*delivery_key(delivery.endpoint_id, delivery.id), **delivery.model_dump(), event=event)
        model.status, model.event_type = delivery.status.value, delivery.event_type.value
        model.expires_at = int(time.time() + self.retention.total_seconds())
        model.save()

    @unavailable_on_failure("read the delivery log")
    def get(self, endpoint_id: str, delivery_id: str) -> Delivery | None:
        try:
            return _delivery(DeliveryModel.get(*delivery_key(endpoint_id, delivery_id), consistent_read=True))
        except DeliveryModel.DoesNotExist:
            return None

    @unavailable_on_failure("read the delivery log")
    def event_of(self, endpoint_id: str, delivery_id: str) -> WebhookEvent | None:
        try:
            model = DeliveryModel.get(*delivery_key(endpoint_id, delivery_id), consistent_read=True)
        except DeliveryModel.DoesNotExist:
            return None
        return model.event

    @unavailable_on_failure("read the delivery log")
    def page(
        self, endpoint_id: str, *, cursor: str | None = None, limit: int = 50
    ) -> tuple[list[Delivery], str | None]:
        pk = f"WHDLV#{endpoint_id}"
        after = cursor_id(cursor, "deliveries")
        start = {"pk": {"S": pk}, "sk": {"S": f"DLV#{after}"}} if after else None
        query = DeliveryModel.query(pk, scan_index_forward=False, limit=min(limit, 100), last_evaluated_key=start)
        items = [_delivery(m) for m in query]
        last = query.last_evaluated_key
        return items, (encode_cursor("deliveries", last["sk"]["S"].removeprefix("DLV#")) if last else None)
