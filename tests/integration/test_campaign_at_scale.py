"""A 1,000-contact campaign against moto, with a primary driver that fails 5% of sends and a fallback
that fails 10% (simulated stand-ins for neonize and whatsapp-web.js): every contact ends in exactly
one settled state, no contact gets two messages, and the counters equal the message counts."""

from __future__ import annotations

import time
from collections import Counter

from session_host.drivers.simulated import SimulatedConfig
from tests.integration.campaign_world import CampaignWorld, S, counters_match
from tests.integration.services import Services
from wacast.domain.campaigns import CampaignStatus

CONTACTS = 1000


def test_a_thousand_contacts_with_a_failing_primary_and_fallback(services: Services) -> None:
    # given a sender whose primary fails 5% of sends and whose fallback fails 10%
    world = CampaignWorld(
        services,
        drivers={
            # receipts are left out here: the receipt path is proven at smaller scale elsewhere
            "neonize": SimulatedConfig(seed=5, latency_ms=(0, 0), transient_rate=0.05, receipts=False),
            "webjs": SimulatedConfig(seed=6, latency_ms=(0, 0), transient_rate=0.10, receipts=False),
        },
    )
    try:
        world.import_contacts(CONTACTS, "launch")
        campaign = world.campaign("launch")
        assert campaign.audience_size == CONTACTS
        # when it runs to the end
        started = time.monotonic()
        world.services.campaigns.start(world.principal, campaign.id)
        world.run_until(lambda: world.reload(campaign).status is CampaignStatus.COMPLETED, timeout=400)
        elapsed = time.monotonic() - started
    finally:
        world.close()

    # then every contact has exactly one message, settled
    messages = world.messages(campaign)
    assert len(messages) == CONTACTS == len({m.contact_id for m in messages})
    statuses = Counter(m.status for m in messages)
    assert not {S.QUEUED, S.SENDING, S.RETRYING} & set(statuses), statuses
    # no contact got two messages, across both drivers
    per_phone = Counter(world.sent_phones())
    assert max(per_phone.values()) == 1
    assert len(per_phone) == statuses[S.SENT], statuses
    # the fallback took over the primary's failures, and both failing (0.5%) was retried, not lost
    final = world.reload(campaign)
    assert final.fallback_used >= 0.02 * CONTACTS
    assert final.sent_by_driver["neonize"] + final.sent_by_driver["webjs"] == len(per_phone)
    assert any(m.attempts > 0 for m in messages if m.status is not S.FAILED) or statuses[S.FAILED] == 0
    counters_match(final, messages)
    print(f"1,000-contact campaign settled in {elapsed:.0f} s: {dict(statuses)}; fallback {final.fallback_used}")
