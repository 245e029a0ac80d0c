"""Senders: pk ACCT#{account}, sk SENDER#{sender}; gsi1 SENDERS / {sender} lets the host list them all.

Configuration (API) and session state (host) are separate attributes, updated separately, so the two
writers never overwrite each other.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DeleteError, UpdateError
from pynamodb.expressions.update import Action

from wacast.adapters.dynamo.attributes import PydanticAttribute
from wacast.adapters.dynamo.table import Gsi1, TableModel
from wacast.domain.errors import NotFound, StaleState, Unavailable
from wacast.domain.governor import Cooling
from wacast.domain.pacing import PacingPolicy
from wacast.domain.senders import DriverSession, Sender, SenderState


class SenderModel(TableModel):
    id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    display_name = UnicodeAttribute(default="")
    drivers = PydanticAttribute(list[str], default=list, attr_name="drivers_json")
    pacing = PydanticAttribute(PacingPolicy, default=PacingPolicy, attr_name="pacing_json")
    state = UnicodeAttribute(default=SenderState.NEW.value)
    state_since = UTCDateTimeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    qr = UnicodeAttribute(null=True)
    qr_updated_at = UTCDateTimeAttribute(null=True)
    pairing_code = UnicodeAttribute(null=True)
    driver_states = PydanticAttribute(dict[str, DriverSession], null=True, attr_name="driver_states_json")
    #: The governor's part of the item (wacast.services.governor), written apart from config and state.
    cooling = PydanticAttribute(Cooling, null=True, attr_name="cooling_json")
    cooling_since = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    all_senders = Gsi1()


STATE_FIELDS = ("state", "state_since", "last_error", "qr", "qr_updated_at", "pairing_code")


def _conditional_failed(exc: Exception) -> bool:
    cause = getattr(exc, "cause_response_code", None)
    return cause == "ConditionalCheckFailedException"


def sender_key(account_id: str, sender_id: str) -> tuple[str, str]:
    return f"ACCT#{account_id}", f"SENDER#{sender_id}"


def _model(sender: Sender) -> SenderModel:
    return SenderModel(
        *sender_key(sender.account_id, sender.id),
        id=sender.id,
        account_id=sender.account_id,
        phone=sender.phone,
        display_name=sender.display_name,
        drivers=sender.drivers,
        pacing=sender.pacing,
        state=sender.state.value,
        state_since=sender.state_since,
        last_error=sender.last_error,
        qr=sender.qr,
        qr_updated_at=sender.qr_updated_at,
        pairing_code=sender.pairing_code,
        driver_states=sender.driver_states or None,
        cooling=sender.cooling,
        cooling_since=sender.cooling.since if sender.cooling else None,
        created_at=sender.created_at,
        gsi1pk="SENDERS",
        gsi1sk=sender.id,
    )


def _sender(model: SenderModel) -> Sender:
    return Sender(
        id=model.id,
        account_id=model.account_id,
        phone=model.phone,
        display_name=model.display_name,
        drivers=model.drivers,
        pacing=model.pacing,
        state=SenderState(model.state),
        state_since=model.state_since,
        last_error=model.last_error,
        qr=model.qr,
        qr_updated_at=model.qr_updated_at,
        pairing_code=model.pairing_code,
        driver_states=model.driver_states or {},
        cooling=model.cooling,
        created_at=model.created_at,
    )


class DynamoSenderRepository:
    """Senders in DynamoDB."""

    def create(self, sender: Sender) -> None:
        _model(sender).save(condition=SenderModel.pk.does_not_exist())

    def get(self, account_id: str, sender_id: str) -> Sender | None:
        try:
            return _sender(SenderModel.get(*sender_key(account_id, sender_id), consistent_read=True))
        except SenderModel.DoesNotExist:
            return None

    def list_for_account(self, account_id: str) -> list[Sender]:
        return [_sender(m) for m in SenderModel.query(f"ACCT#{account_id}", SenderModel.sk.startswith("SENDER#"))]

    def list_all(self) -> list[Sender]:
        return [_sender(m) for m in SenderModel.all_senders.query("SENDERS")]

    def save_config(self, sender: Sender) -> None:
        """Write only the configuration attributes (the API's part of the item). Raises NotFound when
        the sender does not exist."""
        actions: list[Action] = [
            SenderModel.phone.remove() if sender.phone is None else SenderModel.phone.set(sender.phone),
            SenderModel.display_name.set(sender.display_name),
            SenderModel.drivers.set(sender.drivers),
            SenderModel.pacing.set(sender.pacing),
        ]
        try:
            SenderModel(*sender_key(sender.account_id, sender.id)).update(
                actions=actions, condition=SenderModel.pk.exists()
            )
        except UpdateError as exc:
            if _conditional_failed(exc):
                raise NotFound("no such sender", details={"sender_id": sender.id}) from exc
            raise Unavailable("could not save the sender") from exc

    def save_state(self, sender: Sender) -> None:
        """Write only the session-state attributes (the host's part of the item). Raises NotFound when
        the sender was deleted meanwhile (the write never recreates it)."""
        actions: list[Action] = []
        for name in STATE_FIELDS:
            value = getattr(sender, name)
            attribute = getattr(SenderModel, name)
            value = value.value if isinstance(value, SenderState) else value
            actions.append(attribute.remove() if value is None else attribute.set(value))
        actions.append(
            SenderModel.driver_states.set(sender.driver_states)
            if sender.driver_states
            else SenderModel.driver_states.remove()
        )
        try:
            SenderModel(*sender_key(sender.account_id, sender.id)).update(
                actions=actions, condition=SenderModel.pk.exists()
            )
        except UpdateError as exc:
            if _conditional_failed(exc):
                raise NotFound("no such sender", details={"sender_id": sender.id}) from exc
            raise Unavailable("could not save the sender's state") from exc

    def save_cooling(
        self, account_id: str, sender_id: str, cooling: Cooling | None, expected_since: datetime | None
    ) -> None:
        """Set (or clear, with None) the sender's cooling if the one it holds started at `expected_since`
        (None: it holds none). Raises StaleState when another writer changed it first, NotFound when the
        sender does not exist."""
        condition = SenderModel.pk.exists() & (
            SenderModel.cooling_since.does_not_exist()
            if expected_since is None
            else SenderModel.cooling_since == expected_since
        )
        actions: list[Action] = (
            [SenderModel.cooling.set(cooling), SenderModel.cooling_since.set(cooling.since)]
            if cooling is not None
            else [SenderModel.cooling.remove(), SenderModel.cooling_since.remove()]
        )
        try:
            SenderModel(*sender_key(account_id, sender_id)).update(actions=actions, condition=condition)
        except UpdateError as exc:
            if not _conditional_failed(exc):
                raise Unavailable("could not save the sender's cooling") from exc
            if self.get(account_id, sender_id) is None:
                raise NotFound("no such sender", details={"sender_id": sender_id}) from exc
            raise StaleState("the sender's cooling changed meanwhile", details={"sender_id": sender_id}) from exc

    def delete(self, account_id: str, sender_id: str) -> bool:
        """Delete the sender. False when it did not exist."""
        try:
            SenderModel(*sender_key(account_id, sender_id)).delete(condition=SenderModel.pk.exists())
        except DeleteError as exc:
            if _conditional_failed(exc):
                return False
            raise Unavailable("could not delete the sender") from exc
        return True
