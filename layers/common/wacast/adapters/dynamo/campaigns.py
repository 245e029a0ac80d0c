"""Campaign items: pk ACCT#{account}, sk CAMPAIGN#{campaign}.

Counters are top-level numbers moved by ADD: the counters function moves them from the table's stream,
for each message's creation and status change (services/counters.py); no message write touches them.
Lifecycle changes and dispatch progress are conditional writes on the status and on `dispatch_seq`, so
two dispatch jobs can never both advance one campaign.

A run completes only once every message the dispatcher wrote is counted: each committed window adds its
messages to `count_dispatched` (with its progress, exactly once), the counters function adds each such
message's creation to `count_inserted`, and completion requires `count_inserted >= count_dispatched` as well
as `count_queued == 0` (the stream orders one item's records, not two items': without it, a settle counted
before another message's creation could make `count_queued` read 0 too soon). Both are kept across runs
(a run starts only after the last one completed, all its creations counted); completion sets
`count_dispatched` to `count_inserted`, so a surplus (a message an interrupted window wrote for a contact
that left the audience before the window was dispatched again) does not carry into the next run.

An audience of contact ids is not on the campaign item (which the delivery path reads and rewrites all
the time): its ids are in chunk items (audience_ids.py), and the item holds where they are (`aud_ids`), so
it stays ~1 KB whatever the audience. Items written before that still hold the ids inline in
`audience_json`: they are read as they are (a later change of their audience writes the chunked form).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DeleteError, PutError, PynamoDBException, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from wacast.adapters.dynamo.attributes import PydanticAttribute
from wacast.adapters.dynamo.audience_ids import (
    decode_stored,
    delete_all_contact_ids,
    delete_contact_ids,
    encode_stored,
    write_contact_ids,
)
from wacast.adapters.dynamo.cursors import cursor_id, encode_cursor
from wacast.adapters.dynamo.table import TableModel, is_condition_failure
from wacast.domain.campaigns import (
    COMPLETABLE,
    DISPATCHING,
    DRIVERS,
    FAILABLE,
    Audience,
    Campaign,
    CampaignStatus,
    Counters,
    DispatchState,
    StoredContactIds,
    is_recurring,
    run_is_over,
    status_after_run,
)
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
    pause_reason = UnicodeAttribute(null=True)
    paused_by = UnicodeAttribute(null=True)
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
    count_replied = NumberAttribute(default=0)  # messages answered by their recipient (services/replies.py)
    count_dispatched = NumberAttribute(default=0)  # messages the committed dispatch windows wrote (or found)
    count_inserted = NumberAttribute(default=0)  # creations of those messages counted from the stream


class CampaignModel(CampaignCountersModel):
    id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    name = UnicodeAttribute()
    sender_id = UnicodeAttribute()
    template_id = UnicodeAttribute(null=True)
    body = UnicodeAttribute(null=True)
    #: Tags or an import batch (small); contact ids only on items written before they moved to chunks.
    audience = PydanticAttribute(Audience, null=True, exclude_none=True, attr_name="audience_json")
    #: A contact-id audience: where its chunks are, "{version}:{count}:{chunk size}" (audience_ids.py);
    #: absent for the other audiences. One short attribute: the item is near 1 KB, a write unit's size.
    audience_ids = UnicodeAttribute(null=True, attr_name="aud_ids")
    audience_size = NumberAttribute(default=0)
    pacing = PydanticAttribute(PacingPolicy, null=True, attr_name="pacing_json")
    dispatch = PydanticAttribute(DispatchState, default=DispatchState, attr_name="dispatch_json")
    schedule = PydanticAttribute(CampaignSchedule, null=True, attr_name="schedule_json")
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    started_at = UTCDateTimeAttribute(null=True)


COUNTER_ATTRIBUTES: dict[str, NumberAttribute] = {
    name: getattr(CampaignCountersModel, f"count_{name}") for name in ("total", *COUNTERS)
}
COUNTER_ATTRIBUTES.update({f"via_{d}": getattr(CampaignCountersModel, f"count_via_{d}") for d in DRIVERS})
COUNTER_ATTRIBUTES["fallback"] = CampaignCountersModel.count_fallback
COUNTER_ATTRIBUTES["replied"] = CampaignCountersModel.count_replied
COUNTER_ATTRIBUTES["inserted"] = CampaignCountersModel.count_inserted
#: Campaign fields written as a whole by definition updates (never by the delivery path).
DEFINITION_FIELDS = ("name", "sender_id", "template_id", "body", "audience", "audience_size", "pacing")


def _to_model(c: Campaign, stored: StoredContactIds | None = None) -> CampaignModel:
    """The item of a new campaign; `stored`: where its contact ids were written (None: the audience is inline,
    as items of contact-id audiences were before their ids moved to chunks)."""
    model = CampaignModel(
        *campaign_key(c.account_id, c.id),
        id=c.id,
        account_id=c.account_id,
        name=c.name,
        sender_id=c.sender_id,
        template_id=c.template_id,
        body=c.body,
        audience=None if stored else c.audience,
        audience_ids=encode_stored(stored) if stored else None,
        audience_size=c.audience_size,
        pacing=c.pacing,
        status=c.status.value,
        run=c.run,
        failure_reason=c.failure_reason,
        pause_reason=c.pause_reason,
        paused_by=c.paused_by,
        dispatch_seq=c.dispatch.seq,
        dispatch_done=c.dispatch.done,
        dispatch=c.dispatch,
        schedule=c.schedule,
        recurring=is_recurring(c.schedule),
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


def _stored_ids(m: CampaignModel) -> StoredContactIds | None:
    return None if m.audience_ids is None else decode_stored(m.id, m.audience_ids)


def _audience(m: CampaignModel) -> Audience:
    """The item's audience: by reference to its chunks, or inline (tags, an import batch, or the contact ids of
    an item written before they moved to chunks)."""
    stored = _stored_ids(m)
    if stored is not None:
        return Audience.by_reference(stored)
    if m.audience is None:
        raise Unavailable("the campaign item has no audience", details={"campaign_id": m.id})
    return m.audience


def _write_ids(campaign: Campaign) -> StoredContactIds | None:
    """Write the campaign's contact ids as a new version of chunks (None: not a contact-id audience)."""
    audience = campaign.audience
    if audience.contact_ids is None and audience.stored is not None:  # another campaign's, not read
        raise ValueError("an audience held by reference cannot be written: read its contact ids first")
    if audience.contact_ids is None:
        return None
    return write_contact_ids(campaign.account_id, campaign.id, audience.contact_ids)


def _to_domain(m: CampaignModel) -> Campaign:
    dispatch = m.dispatch.model_copy(update={"seq": int(m.dispatch_seq), "done": bool(m.dispatch_done)})
    return Campaign(
        id=m.id,
        account_id=m.account_id,
        name=m.name,
        sender_id=m.sender_id,
        template_id=m.template_id,
        body=m.body,
        audience=_audience(m),
        audience_size=int(m.audience_size),
        pacing=m.pacing,
        status=CampaignStatus(m.status),
        run=int(m.run),
        counters=Counters(**{n: int(getattr(m, f"count_{n}")) for n in Counters.model_fields}),
        sent_by_driver={d: int(getattr(m, f"count_via_{d}")) for d in DRIVERS if getattr(m, f"count_via_{d}")},
        fallback_used=int(m.count_fallback),
        replied=int(m.count_replied or 0),
        dispatch=dispatch,
        schedule=m.schedule,
        last_fire=m.last_fire,
        failure_reason=m.failure_reason,
        pause_reason=m.pause_reason,
        paused_by=m.paused_by,
        created_at=m.created_at,
        updated_at=m.updated_at,
        started_at=m.started_at,
        completed_at=m.completed_at,
    )


def _dispatch_actions(state: DispatchState) -> list[Action]:
    return [
        CampaignModel.dispatch_seq.set(state.seq),
        CampaignModel.dispatch_done.set(state.done),
        CampaignModel.dispatch.set(state),
    ]


def _schedule_actions(schedule: CampaignSchedule | None) -> list[Action]:
    if schedule is None:
        return [
            CampaignModel.schedule.remove(),
            CampaignModel.recurring.set(False),
            CampaignModel.schedule_end.remove(),
        ]
    actions: list[Action] = [
        CampaignModel.schedule.set(schedule),
        CampaignModel.recurring.set(is_recurring(schedule)),
    ]
    actions.append(
        CampaignModel.schedule_end.remove() if schedule.end is None else CampaignModel.schedule_end.set(schedule.end)
    )
    return actions


def _status_in(statuses: Iterable[CampaignStatus]) -> Condition:
    """The condition that the campaign is in one of `statuses` (a domain status set)."""
    return CampaignCountersModel.status.is_in(*sorted(s.value for s in statuses))


class DynamoCampaignRepository:
    """Campaigns in DynamoDB."""

    def create(self, campaign: Campaign) -> None:
        """The contact ids first (chunks), then the campaign item that points at them: a campaign is never
        visible with half its audience."""
        stored = _write_ids(campaign)
        try:
            _to_model(campaign, stored).save(condition=CampaignModel.pk.does_not_exist())
        except PutError as exc:
            if is_condition_failure(exc):
                if stored is not None:  # surely not written: nothing points at these chunks
                    delete_contact_ids(campaign.account_id, stored)
                raise Conflict("a campaign with this id exists") from exc
            # (the put may have been written all the same: its chunks stay)
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
        """Write the editable fields, only while the campaign is in one of `allowed` statuses.

        An audience still stored where it was (`Audience.stored` names this campaign) is left alone. A new
        one is written whole before the item points at it: a new contact-id audience gets a new version of
        chunks, then the item switches to it (on condition that the version it replaces is still the one in
        force: a concurrent change of the audience makes this one a Conflict), then the old version's chunks
        are deleted (best effort)."""
        allowed = frozenset(allowed)
        actions: list[Action] = [
            CampaignModel.name.set(campaign.name),
            CampaignModel.sender_id.set(campaign.sender_id),
            CampaignModel.audience_size.set(campaign.audience_size),
            CampaignModel.updated_at.set(campaign.updated_at),
        ]
        for name in ("template_id", "body", "pacing"):
            value, attribute = getattr(campaign, name), getattr(CampaignModel, name)
            actions.append(attribute.remove() if value is None else attribute.set(value))
        kept = campaign.audience.stored
        if kept is not None and kept.campaign_id == campaign.id:
            self._save_if(campaign, allowed, actions, CampaignModel.audience_ids == encode_stored(kept))
            return
        self._save_with_audience(campaign, allowed, actions)

    def _save_with_audience(
        self, campaign: Campaign, allowed: frozenset[CampaignStatus], actions: list[Action]
    ) -> None:
        key = campaign_key(campaign.account_id, campaign.id)
        try:
            before = CampaignModel.get(
                *key,
                consistent_read=True,
                attributes_to_get=["id", "aud_ids"],
            )
        except CampaignModel.DoesNotExist as exc:
            raise NotFound("no such campaign", details={"campaign_id": campaign.id}) from exc
        except PynamoDBException as exc:
            raise Unavailable("could not read the campaign") from exc
        replaced = _stored_ids(before)
        stored = _write_ids(campaign)
        if stored is None:
            actions += [
                CampaignModel.audience.set(campaign.audience),
                CampaignModel.audience_ids.remove(),
            ]
        else:
            actions += [
                CampaignModel.audience.remove(),
                CampaignModel.audience_ids.set(encode_stored(stored)),
            ]
        same_version = (
            CampaignModel.audience_ids.does_not_exist()
            if replaced is None
            else CampaignModel.audience_ids == encode_stored(replaced)
        )
        try:
            self._save_if(campaign, allowed, actions, same_version)
        except (Conflict, NotFound):
            if stored is not None:  # surely not in force
                delete_contact_ids(campaign.account_id, stored)
            raise
        # (on Unavailable the new chunks may be in force: they stay)
        if replaced is not None:
            delete_contact_ids(campaign.account_id, replaced)

    def _save_if(
        self, campaign: Campaign, allowed: frozenset[CampaignStatus], actions: list[Action], same_audience: Condition
    ) -> None:
        """The definition's write, if the campaign is in one of `allowed` and its audience is the one read."""
        condition = CampaignModel.pk.exists() & _status_in(allowed) & same_audience
        try:
            CampaignModel(*campaign_key(campaign.account_id, campaign.id)).update(actions=actions, condition=condition)
        except UpdateError as exc:
            if not is_condition_failure(exc):
                raise Unavailable("could not update the campaign") from exc
            current = self.get(campaign.account_id, campaign.id)
            if current is not None and current.status in allowed:
                raise Conflict(
                    "the campaign's audience was changed meanwhile: read it again",
                    details={"campaign_id": campaign.id, "field": "audience"},
                ) from exc
            raise self._refusal(campaign.account_id, campaign.id, "changed") from exc

    def delete(self, account_id: str, campaign_id: str, allowed: Iterable[CampaignStatus]) -> None:
        """Delete the campaign item, then its audience chunks (every version; best effort: a leftover is
        never read)."""
        try:
            CampaignModel(*campaign_key(account_id, campaign_id)).delete(condition=_status_in(allowed))
        except DeleteError as exc:
            if is_condition_failure(exc):
                raise self._refusal(account_id, campaign_id, "deleted") from exc
            raise Unavailable("could not delete the campaign") from exc
        delete_all_contact_ids(account_id, campaign_id)

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
                actions += _dispatch_actions(value)
            elif name == "schedule":
                actions += _schedule_actions(value)
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

    def advance_dispatch(
        self, campaign: Campaign, expected_seq: int, state: DispatchState, now: datetime, dispatched: int = 0
    ) -> bool:
        """Record dispatch progress if this job still owns it (status running, same run and seq), and add the
        window's `dispatched` messages to the run's count in the same write (so exactly once)."""
        condition = (
            _status_in(DISPATCHING) & (CampaignModel.run == campaign.run) & (CampaignModel.dispatch_seq == expected_seq)
        )
        actions = [
            *_dispatch_actions(state),
            CampaignModel.updated_at.set(now),
            CampaignCountersModel.count_dispatched.add(dispatched),
            CampaignCountersModel.count_inserted.add(0),  # there from the first window on: completion compares it
        ]
        try:
            CampaignModel(*campaign_key(campaign.account_id, campaign.id)).update(actions=actions, condition=condition)
        except UpdateError as exc:
            if is_condition_failure(exc):
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
            if is_condition_failure(exc):
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
    """What the delivery path needs of a campaign: its status, completion, failure. The rules are the
    domain's (`wacast.domain.campaigns`); this class turns them into conditional writes."""

    def status_of(self, account_id: str, campaign_id: str) -> CampaignStatus | None:
        try:
            item = CampaignCountersModel.get(
                *campaign_key(account_id, campaign_id), consistent_read=True, attributes_to_get=["status"]
            )
        except CampaignCountersModel.DoesNotExist:
            return None
        return CampaignStatus(item.status) if item.status else None

    def mark_failed(self, account_id: str, campaign_id: str, reason: str) -> bool:
        return self._set_if(
            account_id,
            campaign_id,
            [
                CampaignCountersModel.status.set(CampaignStatus.FAILED.value),
                CampaignCountersModel.failure_reason.set(reason),
            ],
            _status_in(FAILABLE),
        )

    def complete_if_done(self, account_id: str, campaign_id: str, now: datetime) -> bool:
        """End a run that is over (`run_is_over`): its campaign goes where `status_after_run` says."""
        attributes = ["status", "dispatch_done", "count_queued", "count_dispatched", "count_inserted"]
        try:
            item = CampaignCountersModel.get(
                *campaign_key(account_id, campaign_id),
                consistent_read=True,
                attributes_to_get=[*attributes, "recurring", "schedule_end"],
            )
        except CampaignCountersModel.DoesNotExist:
            return False
        uncounted = int(item.count_dispatched or 0) - int(item.count_inserted or 0)
        if not item.status or not run_is_over(
            CampaignStatus(item.status), item.dispatch_done, int(item.count_queued), uncounted
        ):
            return False  # the common case: decided by one read, no write
        after = status_after_run(item.recurring, item.schedule_end, now)
        model = CampaignCountersModel
        return self._set_if(
            account_id,
            campaign_id,
            [
                model.status.set(after.value),
                model.completed_at.set(now),
                model.count_dispatched.set(model.count_inserted | 0),  # no surplus carried into the next run
            ],
            _status_in(COMPLETABLE)  # the same rule, as the write's condition: nothing changed since the read
            & (model.dispatch_done == True)  # noqa: E712 - a DynamoDB condition, not a Python test
            & (model.count_queued == 0)
            # a run dispatched before creations were counted from the stream has no count_dispatched
            & (model.count_dispatched.does_not_exist() | (model.count_inserted >= model.count_dispatched)),
        )

    @staticmethod
    def _set_if(account_id: str, campaign_id: str, actions: list[Action], condition: Condition) -> bool:
        try:
            CampaignCountersModel(*campaign_key(account_id, campaign_id)).update(actions=actions, condition=condition)
        except UpdateError as exc:
            if is_condition_failure(exc):
                return False
            raise Unavailable("could not update the campaign") from exc
        return True
