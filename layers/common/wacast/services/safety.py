"""Account safety in the API: the identical-text rule (a warning when a campaign is created, a refusal when
it starts unless the user confirms), a campaign's safety score, and resuming a sender that cools down."""

from __future__ import annotations

from dataclasses import dataclass

from wacast.domain.accounts import Principal
from wacast.domain.campaigns import STARTABLE, Campaign, CampaignDraft
from wacast.domain.contacts import Contact
from wacast.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from wacast.domain.messages import message_id_for
from wacast.domain.pacing import PresetGaps, within_floor
from wacast.domain.safety import (
    IdenticalBodyRule,
    SafetyInputs,
    SafetyReport,
    identical_share,
    is_opted_in,
    safety_report,
)
from wacast.domain.senders import Sender
from wacast.domain.spintax import spin
from wacast.domain.templates import contact_values, render
from wacast.ports import Clock, SenderRepository, TemplateRepository
from wacast.services.audience import AudienceReader, Position
from wacast.services.campaigns import CampaignService
from wacast.services.governor import GovernorService

PAGE = 100


@dataclass(frozen=True)
class Sample:
    bodies: list[str]
    opted_in: int
    size: int


@dataclass(frozen=True)
class CreatedCampaign:
    campaign: Campaign
    warnings: list[str]


class SafetyService:
    """Checks a campaign's ban risk, and ends a sender's cooling at a user's request."""

    def __init__(
        self,
        campaigns: CampaignService,
        senders: SenderRepository,
        templates: TemplateRepository,
        audience: AudienceReader,
        governor: GovernorService,
        clock: Clock,
        presets: PresetGaps,
        rule: IdenticalBodyRule,
    ) -> None:
        self.campaigns = campaigns
        self.senders = senders
        self.templates = templates
        self.audience = audience
        self.governor = governor
        self.clock = clock
        self.presets = presets
        self.rule = rule

    def create_campaign(self, principal: Principal, draft: CampaignDraft) -> CreatedCampaign:
        """Create the campaign, with a warning when too many of its recipients would get the same text."""
        campaign = self.campaigns.create(principal, draft)
        share = identical_share(self._sample(campaign).bodies)
        warnings = []
        if self.rule.applies(campaign.audience_size) and share > self.rule.warn_share:
            warnings.append(self._identical_message(share))
        return CreatedCampaign(campaign, warnings)

    def start_campaign(
        self, principal: Principal, campaign_id: str, *, confirm: bool = False, min_gap_ms: int | None = None
    ) -> Campaign:
        """Start the campaign, unless it would send the same text to more than the hard threshold of its
        audience and the user did not confirm."""
        campaign = self.campaigns.get(principal, campaign_id)
        if not confirm and campaign.status in STARTABLE and self.rule.applies(campaign.audience_size):
            share = identical_share(self._sample(campaign).bodies)
            if share > self.rule.refuse_share:
                raise Conflict(
                    self._identical_message(share) + "; start it with confirm=true to send it anyway",
                    details={"field": "confirm", "identical_share": round(share, 3)},
                )
        return self.campaigns.start(principal, campaign_id, min_gap_ms)

    def assess(self, principal: Principal, campaign_id: str) -> SafetyReport:
        """The campaign's safety score (0-100) and the reasons that lower it."""
        campaign = self.campaigns.get(principal, campaign_id)
        sender = self._sender(principal, campaign.sender_id)
        policy = within_floor(campaign.pacing, sender.pacing, self.presets) if campaign.pacing else sender.pacing
        sample = self._sample(campaign)
        inputs = SafetyInputs(
            policy=policy,
            presets=self.presets,
            audience_size=campaign.audience_size,
            sampled=sample.size,
            identical_share=identical_share(sample.bodies),
            opted_in_share=sample.opted_in / sample.size if sample.size else 0.0,
            sender_created=sender.created_at,
            sender_cooling=sender.cooling,
            now=self.clock.now(),
        )
        return safety_report(inputs, self.rule)

    def resume_sender(self, principal: Principal, sender_id: str) -> Sender:
        """End the sender's cooling now: it sends again, and the campaigns the governor paused resume."""
        if not principal.can_manage:
            raise Forbidden("only owners and admins manage senders")
        sender = self._sender(principal, sender_id)
        if sender.cooling is None or sender.cooling.ended_by is not None:  # (an expired one not yet ended: end it)
            raise Conflict("the sender is not cooling down", details={"sender_id": sender_id})
        return self.governor.end_cooling(sender, "user")

    # -- internals --------------------------------------------------------------------------------------

    def _sender(self, principal: Principal, sender_id: str) -> Sender:
        sender = self.senders.get(principal.account_id, sender_id)
        if sender is None:
            raise NotFound("no such sender", details={"sender_id": sender_id})
        return sender

    def _sample(self, campaign: Campaign) -> Sample:
        """The texts the first recipients would get on the next run (spintax and variables applied)."""
        body = self._body(campaign)
        contacts: list[Contact] = []
        position: Position | None = Position()
        for _ in range(self.rule.sample // PAGE + 1):
            if position is None or len(contacts) >= self.rule.sample:
                break
            # an estimate: the contacts as they were a moment ago serve it as well (half the read units)
            page, position = self.audience.page(
                campaign.account_id, campaign.audience, position, PAGE, consistent=False
            )
            contacts += page
        contacts = [c for c in contacts[: self.rule.sample] if not c.opted_out]
        bodies: list[str] = []
        for contact in contacts:
            try:
                text = spin(body, message_id_for(campaign.id, contact.id, campaign.run + 1))
                bodies.append(render(text, contact_values(contact)))
            except ValidationFailed:
                continue  # this recipient's message would fail, not be sent
        return Sample(bodies=bodies, opted_in=sum(is_opted_in(c) for c in contacts), size=len(contacts))

    def _body(self, campaign: Campaign) -> str:
        if campaign.template_id is None:
            return campaign.body or ""
        template = self.templates.get(campaign.account_id, campaign.template_id)
        return template.body if template else ""

    @staticmethod
    def _identical_message(share: float) -> str:
        return (
            f"{share:.0%} of the recipients would get the same text, a common cause of bans: "
            "personalise it with {{variables}} or {Hi|Hello|Hey} variants"
        )
