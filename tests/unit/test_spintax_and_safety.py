"""Spintax variants chosen per recipient (the same message always renders the same text), the identical-
text share, and the safety score's reasons."""

from __future__ import annotations

from datetime import timedelta

from tests.fakes import T0, FakeClock, InMemoryAccounts, InMemoryQueue, InMemorySenders
from wacast.domain.accounts import Account, Principal, Role
from wacast.domain.contacts import Contact
from wacast.domain.governor import Cooling, CoolingReason
from wacast.domain.messages import message_id_for
from wacast.domain.pacing import PacingPolicy, PacingPreset
from wacast.domain.safety import IdenticalBodyRule, SafetyInputs, identical_share, is_opted_in, safety_report
from wacast.domain.senders import safe_default_pacing
from wacast.domain.spintax import has_spintax, spin, variant_count
from wacast.domain.templates import render
from wacast.services.senders import SenderService

BODY = "{Hi|Hello|Hey} {{first_name|there}}, {our|the} {sale|offer} starts {today|now}!"


def test_a_variant_is_chosen_per_recipient_and_the_same_message_always_gets_the_same_text() -> None:
    ids = [message_id_for("cmp_1", f"ct_{i}", 1) for i in range(300)]
    texts = [spin(BODY, i) for i in ids]
    assert texts == [spin(BODY, i) for i in ids]  # a re-dispatch renders the same text
    assert {t.split()[0] for t in texts} == {"Hi", "Hello", "Hey"}
    assert all("{{first_name|there}}" in t and "{" not in t.replace("{{first_name|there}}", "") for t in texts)
    assert render(texts[0], {"first_name": "Asha"}).count("Asha") == 1
    assert variant_count(BODY) == 24 and has_spintax(BODY)


def test_groups_nest_and_placeholders_inside_variants_survive() -> None:
    body = "{Hi {{name}}|{Good morning|Good day}}!"
    seen = {spin(body, str(i)) for i in range(200)}
    assert seen == {"Hi {{name}}!", "Good morning!", "Good day!"}
    assert variant_count(body) == 3


def test_braces_that_open_no_group_are_kept_as_written() -> None:
    for text in ("Use code {SAVE10} today", "a { lone brace", "a } closing one", "pipes | stay", "{{name}}"):
        assert spin(text, "x") == text and not has_spintax(text)
        assert variant_count(text) == 1


def test_the_identical_share_is_the_largest_group_of_equal_texts() -> None:
    assert identical_share([]) == 0.0
    assert identical_share(["a", "a", "b", "c"]) == 0.5
    spun = [spin("{Hi|Hello|Hey} there", str(i)) for i in range(900)]
    assert 0.3 < identical_share(spun) < 0.4


def contact(i: int, **changes: object) -> Contact:
    return Contact(id=f"ct_{i}", account_id="a1", phone=f"+9198{i:08d}", created_at=T0, updated_at=T0).model_copy(
        update=changes
    )


def test_opted_in_is_an_attribute_or_a_tag() -> None:
    assert is_opted_in(contact(1, attributes={"opted_in": "Yes"}))
    assert is_opted_in(contact(2, tags=["opted-in"]))
    assert not is_opted_in(contact(3, attributes={"opted_in": "no"}))


def inputs(**changes: object) -> SafetyInputs:
    base = SafetyInputs(
        policy=safe_default_pacing(),
        audience_size=1000,
        sampled=500,
        identical_share=0.05,
        opted_in_share=1.0,
        sender_created=T0 - timedelta(days=400),
        now=T0,
    )
    return base.model_copy(update=changes)


def test_safe_defaults_score_full_marks() -> None:
    report = safety_report(inputs(), IdenticalBodyRule())
    assert report.score == 100 and report.grade == "good" and report.reasons == []


def test_each_risk_lowers_the_score_with_its_reason() -> None:
    fast = PacingPolicy(preset=PacingPreset.CUSTOM, min_gap_ms=2000, max_gap_ms=2000)
    cooling = Cooling(reason=CoolingReason.FAILURES, detail="9 of 10 failed", since=T0 - timedelta(days=1))
    report = safety_report(
        inputs(
            policy=fast,
            identical_share=0.95,
            opted_in_share=0.1,
            sender_created=T0 - timedelta(days=2),
            sender_cooling=cooling.ended("expiry", T0 - timedelta(hours=20)),
        ),
        IdenticalBodyRule(),
    )
    factors = [r.factor for r in report.reasons]
    assert set(factors) == {"pacing", "identical_bodies", "opt_in", "sender_age", "sender_paused"}
    assert report.score == 0 and report.grade == "risky"
    assert report.reasons[0].penalty >= report.reasons[-1].penalty  # the worst first
    assert any("95% of the recipients get the same text" in r.message for r in report.reasons)


def test_a_small_audience_is_not_judged_for_identical_texts() -> None:
    report = safety_report(inputs(audience_size=5, identical_share=1.0), IdenticalBodyRule(min_audience=20))
    assert "identical_bodies" not in [r.factor for r in report.reasons]


def test_a_new_sender_without_pacing_gets_the_safe_default_in_its_numbers_time_zone() -> None:
    clock = FakeClock()
    accounts = InMemoryAccounts()
    accounts.accounts["a1"] = Account(id="a1", name="A", created_at=clock.now())
    service = SenderService(InMemorySenders(), accounts, InMemoryQueue(clock, "control"), clock, ("neonize",))
    owner = Principal(account_id="a1", user_id="u1", role=Role.OWNER)
    indian = service.create(owner, "+919800000001", "x", ["neonize"])
    assert indian.pacing.warmup is not None and indian.pacing.pause_every == 30
    assert indian.pacing.window is not None and indian.pacing.window.timezone in ("Asia/Calcutta", "Asia/Kolkata")
    assert (indian.pacing.min_gap_ms, indian.pacing.max_gap_ms) == (30_000, 60_000)
    british = service.create(owner, "+447911123456", "y", ["neonize"])
    assert british.pacing.window is not None and british.pacing.window.timezone.startswith("Europe/")
    chosen = service.create(owner, "+919800000002", "z", ["neonize"], PacingPolicy(preset=PacingPreset.FAST))
    assert chosen.pacing.preset is PacingPreset.FAST and chosen.pacing.warmup is None
