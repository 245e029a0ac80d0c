"""Campaign items: pk ACCT#{account}, sk CAMPAIGN#{campaign}.

Counters are top-level numbers moved by ADD in the same transaction as each message (see
messages.py). Lifecycle changes and dispatch progress are conditional writes on the status and on
`dispatch_seq`, so two dispatch jobs can never both advance one campaign.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from wacast.adapters.dynamo.cursors import cursor_id, encode_cursor
from wacast.adapters.dynamo.table import TableModel
from wacast.domain.campaigns import DRIVERS, Audience, Campaign, CampaignStatus, Counters, DispatchState
from wacast.domain.errors import Conflict, NotFound, Unavailable
from wacast.domain.messages import COUNTERS
from wacast.domain.pacing import PacingPolicy
from wacast.domain.schedules import CampaignSchedule


def campaign_key(account_id: str, campaign_id: str) -> tuple[str, str]:
    return f"ACCT#{account_id}", f"CAMPAIGN#{campaign_id}"


class CampaignCountersModel(TableModel):
    """The columns the delivery path touches: status, dispatch progress and the counters."""

    status = UnicodeAttribute(null=True)
    run = NumberAttribute(default=0)
    failure_reason = UnicodeAttribute(null=True)
    dispatch_seq = NumberAttribute(default=0)
    dispatch_done = BooleanAttribute(default=False)
    completed_at = UTCDateTimeAttribute(null=True)
    recurring = BooleanAttribute(default=False)  # a cron schedule: a finished run goes back to scheduled
    schedule_end = UTCDateTimeAttribute(null=True)
    last_fire = UnicodeAttribute(null=True)
    count_total = NumberAttribute(default=0)
    count_queued = NumberAttribute(default=0)
    count_sent = NumberAttribute(default=0)
    count_delivered = NumberAttribute(default=0)
    count_read = NumberAttribute(default=0)
    count_failed = NumberAttribute(default=0)
    count_skipped = NumberAttribute(default=0)
    count_unknown = NumberAttribute(default=0)
    count_via_neonize = NumberAttribute(default=0)
    count_via_webjs = NumberAttribute(default=0)
    count_via_simulated = NumberAttribute(default=0)
    count_fallback = NumberAttribute(default=0)


class CampaignModel(CampaignCountersModel):
    id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    name = UnicodeAttribute()
    sender_id = UnicodeAttribute()
    template_id = UnicodeAttribute(null=True)
    body = UnicodeAttribute(null=True)
    audience_json = UnicodeAttribute()
    audience_size = NumberAttribute(default=0)
    pacing_json = UnicodeAttribute(null=True)
    dispatch_json = UnicodeAttribute(default="{}")
    schedule_json = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    started_at = UTCDateTimeAttribute(null=True)


COUNTER_ATTRIBUTES: dict[str, NumberAttribute] = {
    name: getattr(CampaignCountersModel, f"count_{name}") for name in ("total", *COUNTERS)
}
COUNTER_ATTRIBUTES.update({f"via_{d}": getattr(CampaignCountersModel, f"count_via_{d}") for d in DRIVERS})
COUNTER_ATTRIBUTES["fallback"] = CampaignCountersModel.count_fallback
#: Campaign fields written as a whole by definition updates (never by the delivery path).
DEFINITION_FIELDS = ("name", "sender_id", "template_id", "body", "audience", "audience_size", "pacing")


def _to_model(c: Campaign) -> CampaignModel:
    model = CampaignModel(
        *campaign_key(c.account_id, c.id),
        id=c.id,
        account_id=c.account_id,
        name=c.name,
        sender_id=c.sender_id,
        template_id=c.template_id,
        body=c.body,
        audience_json=c.audience.model_dump_json(exclude_none=True),
        audience_size=c.audience_size,
        pacing_json=c.pacing.model_dump_json() if c.pacing else None,
        status=c.status.value,
        run=c.run,
        failure_reason=c.failure_reason,
        dispatch_seq=c.dispatch.seq,
        dispatch_done=c.dispatch.done,
        dispatch_json=c.dispatch.model_dump_json(),
        schedule_json=c.schedule.model_dump_json() if c.schedule else None,
        recurring=bool(c.schedule and c.schedule.kind == "cron"),
        schedule_end=c.schedule.end if c.schedule else None,
        last_fire=c.last_fire,
        created_at=c.created_at,
        updated_at=c.updated_at,
        started_at=c.started_at,
        completed_at=c.completed_at,
    )
    for name in ("total", *COUNTERS):
        setattr(model, f"count_{name}", getattr(c.counters, name))
    return model


def _to_domain(m: CampaignModel) -> Campaign:
    dispatch = DispatchState.model_validate_json(m.dispatch_json or "{}")
    dispatch = dispatch.model_copy(update={"seq": int(m.dispatch_seq), "done": bool(m.dispatch_done)})
    return Campaign(
        id=m.id,
        account_id=m.account_id,
        name=m.name,
        sender_id=m.sender_id,
        template_id=m.template_id,
        body=m.body,
        audience=Audience.model_validate_json(m.audience_json),
        audience_size=int(m.audience_size),
        pacing=PacingPolicy.model_validate_json(m.pacing_json) if m.pacing_json else None,
        status=CampaignStatus(m.status),
        run=int(m.run),
        counters=Counters(**{n: int(getattr(m, f"count_{n}")) for n in Counters.model_fields}),
        sent_by_driver={d: int(getattr(m, f"count_via_{d}")) for d in DRIVERS if getattr(m, f"count_via_{d}")},
        fallback_used=int(m.count_fallback),
        dispatch=dispatch,
        schedule=CampaignSchedule.model_validate_json(m.schedule_json) if m.schedule_json else None,
        last_fire=m.last_fire,
        failure_reason=m.failure_reason,
        created_at=m.created_at,
        updated_at=m.updated_at,
        started_at=m.started_at,
        completed_at=m.completed_at,
    )


def _schedule_actions(schedule: CampaignSchedule | None) -> list[Action]:
    if schedule is None:
        return [
            CampaignModel.schedule_json.remove(),
            CampaignModel.recurring.set(False),
            CampaignModel.schedule_end.remove(),
        ]
    actions: list[Action] = [
        CampaignModel.schedule_json.set(schedule.model_dump_json()),
        CampaignModel.recurring.set(schedule.kind == "cron"),
    ]
    actions.append(
        CampaignModel.schedule_end.remove() if schedule.end is None else CampaignModel.schedule_end.set(schedule.end)
    )
    return actions


def _conditional(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def _status_in(statuses: Iterable[CampaignStatus]) -> Condition:
    return CampaignModel.status.is_in(*[s.value for s in statuses])


class DynamoCampaignRepository:
    """Campaigns in DynamoDB."""

    def create(self, campaign: Campaign) -> None:
        try:
            _to_model(campaign).save(condition=CampaignModel.pk.does_not_exist())
        except PutError as exc:
            if _conditional(exc):
                raise Conflict("a campaign with this id exists") from exc
            raise Unavailable("could not save the campaign") from exc

    def get(self, account_id: str, campaign_id: str) -> Campaign | None:
        try:
            return _to_domain(CampaignModel.get(*campaign_key(account_id, campaign_id), consistent_read=True))
        except CampaignModel.DoesNotExist:
            return None

    def list_for_account(
        self, account_id: str, *, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[Campaign], str | None]:
        after = cursor_id(cursor, "campaigns")
        start = {"pk": {"S": f"ACCT#{account_id}"}, "sk": {"S": f"CAMPAIGN#{after}"}} if after else None
        query = CampaignModel.query(
            f"ACCT#{account_id}", CampaignModel.sk.startswith("CAMPAIGN#"), limit=limit, last_evaluated_key=start
        )
        items = [_to_domain(m) for m in query]
        last = query.last_evaluated_key
        return items, (encode_cursor("campaigns", last["sk"]["S"].removeprefix("CAMPAIGN#")) if last else None)

    def save_definition(self, campaign: Campaign, allowed: Iterable[CampaignStatus]) -> None:
        """Write the editable fields, only while the campaign is in one of `allowed` statuses."""
        m = _to_model(campaign)
        actions: list[Action] = [
            CampaignModel.name.set(m.name),
            CampaignModel.sender_id.set(m.sender_id),
            CampaignModel.audience_json.set(m.audience_json),
            CampaignModel.audience_size.set(m.audience_size),
            CampaignModel.updated_at.set(m.updated_at),
        ]
        for attribute, value in (
            (CampaignModel.template_id, m.template_id),
            (CampaignModel.body, m.body),
            (CampaignModel.pacing_json, m.pacing_json),
        ):
            actions.append(attribute.remove() if value is None else attribute.set(value))
        self._update(campaign.account_id, campaign.id, actions, _status_in(allowed))

    def delete(self, account_id: str, campaign_id: str, allowed: Iterable[CampaignStatus]) -> None:
        try:
            CampaignModel(*campaign_key(account_id, campaign_id)).delete(condition=_status_in(allowed))
        except Exception as exc:
            if _conditional(exc):
                raise self._refusal(account_id, campaign_id, "deleted") from exc
            raise

    def transition(
        self,
        account_id: str,
        campaign_id: str,
        allowed: Iterable[CampaignStatus],
        to: CampaignStatus,
        now: datetime,
        **changes: Any,
    ) -> Campaign:
        """Move the campaign to `to` if it is in one of `allowed`; `changes` may set run, dispatch, pacing,
        started_at, completed_at, failure_reason. Raises Conflict (or NotFound) otherwise."""
        actions: list[Action] = [CampaignModel.status.set(to.value), CampaignModel.updated_at.set(now)]
        condition = _status_in(allowed)
        for name, value in changes.items():
            if name == "dispatch":
                assert isinstance(value, DispatchState)
                actions += [
                    CampaignModel.dispatch_seq.set(value.seq),
                    CampaignModel.dispatch_done.set(value.done),
                    CampaignModel.dispatch_json.set(value.model_dump_json()),
                ]
            elif name == "schedule":
                actions += _schedule_actions(value)
            elif name == "pacing":
                actions.append(CampaignModel.pacing_json.set(value.model_dump_json()))
            elif name == "last_fire":  # a firing starts at most one run: only a later firing passes
                condition &= CampaignModel.last_fire.does_not_exist() | (CampaignModel.last_fire < value)
                actions.append(CampaignModel.last_fire.set(value))
            else:
                attribute = getattr(CampaignModel, name)
                actions.append(attribute.remove() if value is None else attribute.set(value))
        self._update(account_id, campaign_id, actions, condition, verb=f"moved to {to}")
        updated = self.get(account_id, campaign_id)
        assert updated is not None
        return updated

    def advance_dispatch(self, campaign: Campaign, expected_seq: int, state: DispatchState, now: datetime) -> bool:
        """Record dispatch progress if this job still owns it (status running, same run and seq)."""
        condition = (
            (CampaignModel.status == CampaignStatus.RUNNING.value)
            & (CampaignModel.run == campaign.run)
            & (CampaignModel.dispatch_seq == expected_seq)
        )
        actions: list[Action] = [
            CampaignModel.dispatch_seq.set(state.seq),
            CampaignModel.dispatch_done.set(state.done),
            CampaignModel.dispatch_json.set(state.model_dump_json()),
            CampaignModel.updated_at.set(now),
        ]
        try:
            CampaignModel(*campaign_key(campaign.account_id, campaign.id)).update(actions=actions, condition=condition)
        except UpdateError as exc:
            if _conditional(exc):
                return False
            raise Unavailable("could not record dispatch progress") from exc
        return True

    def _update(
        self, account_id: str, campaign_id: str, actions: list[Action], condition: Condition, verb: str = "changed"
    ) -> None:
        try:
            CampaignModel(*campaign_key(account_id, campaign_id)).update(
                actions=actions, condition=CampaignModel.pk.exists() & condition
            )
        except UpdateError as exc:
            if _conditional(exc):
                raise self._refusal(account_id, campaign_id, verb) from exc
            raise Unavailable("could not update the campaign") from exc

    def _refusal(self, account_id: str, campaign_id: str, verb: str) -> Exception:
        current = self.get(account_id, campaign_id)
        if current is None:
            return NotFound("no such campaign", details={"campaign_id": campaign_id})
        return Conflict(
            f"a {current.status} campaign cannot be {verb}",
            details={"campaign_id": campaign_id, "status": current.status.value},
        )


class DynamoCampaignStates:
    """What the delivery path needs of a campaign: its status, completion, failure."""

    def status_of(self, account_id: str, campaign_id: str) -> str | None:
        try:
            item = CampaignCountersModel.get(
                *campaign_key(account_id, campaign_id), consistent_read=True, attributes_to_get=["status"]
            )
        except CampaignCountersModel.DoesNotExist:
            return None
        return item.status

    def mark_failed(self, account_id: str, campaign_id: str, reason: str) -> bool:
        return self._set_if(
            account_id,
            campaign_id,
            [CampaignCountersModel.status.set("failed"), CampaignCountersModel.failure_reason.set(reason)],
            CampaignCountersModel.status.is_in("scheduled", "running", "paused"),
        )

    def complete_if_done(self, account_id: str, campaign_id: str, now: datetime) -> bool:
        """Complete a running campaign whose dispatch is done and whose every message is settled."""
        try:
            item = CampaignCountersModel.get(
                *campaign_key(account_id, campaign_id),
                consistent_read=True,
                attributes_to_get=["status", "dispatch_done", "count_queued", "recurring", "schedule_end"],
            )
        except CampaignCountersModel.DoesNotExist:
            return False
        if item.status != "running" or not item.dispatch_done or item.count_queued:
            return False  # the common case: decided by one read, no write
        # a recurring campaign waits for its next firing; anything else is finished
        again = item.recurring and (item.schedule_end is None or item.schedule_end > now)
        return self._set_if(
            account_id,
            campaign_id,
            [
                CampaignCountersModel.status.set("scheduled" if again else "completed"),
                CampaignCountersModel.completed_at.set(now),
            ],
            (CampaignCountersModel.status == "running")
            & (CampaignCountersModel.dispatch_done == True)  # noqa: E712 - a DynamoDB condition, not a Python test
            & (CampaignCountersModel.count_queued == 0),
        )

    @staticmethod
    def _set_if(account_id: str, campaign_id: str, actions: list[Action], condition: Condition) -> bool:
        try:
            CampaignCountersModel(*campaign_key(account_id, campaign_id)).update(actions=actions, condition=condition)
        except UpdateError as exc:
            if _conditional(exc):
                return False
            raise Unavailable("could not update the campaign") from exc
        return True
