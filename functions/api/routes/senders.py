"""/api/senders: the WhatsApp numbers of an account, linking them (QR code or pairing code), their
session status, and logging them out. Owners and admins manage them; members may look."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from routes.deps import PrincipalDep, ServicesDep
from routes.errors import ERRORS
from routes.fields import PhoneIn
from wacast.domain.commands import SenderCommand
from wacast.domain.governor import Cooling
from wacast.domain.pacing import PacingPolicy
from wacast.domain.senders import DriverSession, Sender, SenderState

router = APIRouter(prefix="/api/senders", tags=["senders"], responses=ERRORS)
NO_STORE = {"Cache-Control": "no-store"}


class SenderIn(BaseModel):
    phone: PhoneIn
    display_name: str = Field(default="", max_length=120)
    drivers: list[str] = Field(default_factory=lambda: ["neonize", "webjs"], description="primary first")
    pacing: PacingPolicy | None = Field(
        default=None,
        description="default: safe pacing on a warm-up ramp, in the time zone of the number (see the README)",
    )


class SenderPatch(BaseModel):
    phone: PhoneIn | None = None
    display_name: str | None = Field(default=None, max_length=120)
    drivers: list[str] | None = None
    pacing: PacingPolicy | None = None


class DriverIn(BaseModel):
    driver: str | None = Field(default=None, description="one driver only (default: every enabled one)")


class PairIn(DriverIn):
    phone: str | None = Field(default=None, max_length=32, description="the sender's own number (default)")


class StatusOut(BaseModel):
    state: SenderState = Field(description="cooling_down while the account-safety governor holds the sender")
    cooling: Cooling | None = Field(
        default=None, description="the governor's current (or last) pause: reason, since, until, ended_by"
    )
    since: datetime | None
    last_error: str | None
    drivers: dict[str, DriverSession]
    pairing_code: str | None
    qr_available: bool


class SenderOut(BaseModel):
    id: str
    phone: str | None
    display_name: str
    drivers: list[str]
    pacing: PacingPolicy
    status: StatusOut
    created_at: datetime


class CommandOut(BaseModel):
    command_id: str
    type: str
    sender_id: str
    driver: str | None


class QrOut(BaseModel):
    qr: str = Field(validation_alias="code")
    updated_at: datetime
    driver: str | None


def status_out(sender: Sender, now: datetime | None = None) -> StatusOut:
    return StatusOut(
        state=sender.shown_state(now or datetime.now(UTC)),
        cooling=sender.cooling,
        since=sender.state_since,
        last_error=sender.last_error,
        drivers={name: sender.driver_states.get(name, DriverSession()) for name in sender.drivers},
        pairing_code=sender.pairing_code,
        qr_available=sender.qr is not None and sender.state is not SenderState.CONNECTED,
    )


def sender_out(sender: Sender) -> SenderOut:
    """The sender's own fields, with its session status (derived) for the raw session ones."""
    return SenderOut.model_validate({**dict(sender), "status": status_out(sender)})


def command_out(command: SenderCommand) -> CommandOut:
    return CommandOut.model_validate(command, from_attributes=True)


@router.post("", status_code=status.HTTP_201_CREATED)
def create(body: SenderIn, principal: PrincipalDep, services: ServicesDep) -> SenderOut:
    """Add a WhatsApp number. Link it next (POST /{id}/link)."""
    admin = services.senders
    return sender_out(admin.create(principal, body.phone, body.display_name, body.drivers, body.pacing))


@router.get("")
def list_senders(principal: PrincipalDep, services: ServicesDep) -> list[SenderOut]:
    return [sender_out(s) for s in services.senders.list_senders(principal)]


@router.get("/{sender_id}")
def get(sender_id: str, principal: PrincipalDep, services: ServicesDep) -> SenderOut:
    return sender_out(services.senders.get(principal, sender_id))


@router.patch("/{sender_id}")
def update(sender_id: str, body: SenderPatch, principal: PrincipalDep, services: ServicesDep) -> SenderOut:
    changes = body.model_dump(exclude_unset=True)
    if "pacing" in changes:
        changes["pacing"] = body.pacing
    return sender_out(services.senders.update(principal, sender_id, **changes))


@router.delete("/{sender_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(sender_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    """Delete the sender: its sessions are logged out on the phone and forgotten."""
    services.senders.delete(principal, sender_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{sender_id}/status")
def sender_status(sender_id: str, principal: PrincipalDep, services: ServicesDep) -> StatusOut:
    """linking, connected, disconnected, logged_out or failed; the last error and since when."""
    return status_out(services.senders.get(principal, sender_id))


@router.post("/{sender_id}/resume")
def resume(sender_id: str, principal: PrincipalDep, services: ServicesDep) -> SenderOut:
    """End the sender's cooling down now (409 when it is not cooling down): it sends again, and the campaigns
    the governor paused resume."""
    return sender_out(services.safety.resume_sender(principal, sender_id))


@router.post("/{sender_id}/link", status_code=status.HTTP_202_ACCEPTED)
def link(sender_id: str, principal: PrincipalDep, services: ServicesDep, body: DriverIn | None = None) -> CommandOut:
    """Start linking (or reconnect a linked sender). The QR code appears at /qr within seconds."""
    driver = body.driver if body else None
    return command_out(services.senders.start_linking(principal, sender_id, driver))


@router.post("/{sender_id}/pairing-code", status_code=status.HTTP_202_ACCEPTED)
def pairing_code(sender_id: str, body: PairIn, principal: PrincipalDep, services: ServicesDep) -> CommandOut:
    """Link with a code typed on the phone instead of a QR code. The code appears in /status."""
    return command_out(services.senders.request_pairing_code(principal, sender_id, body.phone, body.driver))


@router.post("/{sender_id}/logout", status_code=status.HTTP_202_ACCEPTED)
def logout(sender_id: str, principal: PrincipalDep, services: ServicesDep, body: DriverIn | None = None) -> CommandOut:
    driver = body.driver if body else None
    return command_out(services.senders.logout(principal, sender_id, driver))


@router.get("/{sender_id}/qr")
def qr_text(sender_id: str, principal: PrincipalDep, services: ServicesDep, response: Response) -> QrOut:
    """The current QR code as its raw string (refreshed as WhatsApp rotates it)."""
    current = services.senders.current_qr(principal, sender_id)
    response.headers.update(NO_STORE)
    return QrOut.model_validate(current, from_attributes=True)


@router.get("/{sender_id}/qr.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def qr_png(sender_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    image = services.senders.qr_image(principal, sender_id, "png")
    return Response(content=image, media_type="image/png", headers=NO_STORE)


@router.get("/{sender_id}/qr.svg", response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}})
def qr_svg(sender_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    image = services.senders.qr_image(principal, sender_id, "svg")
    return Response(content=image, media_type="image/svg+xml", headers=NO_STORE)
