"""The contacts and opt-out adapters against moto: the reads the dispatcher relies on (pages by tag,
import batch or ids, counts, opted_out_among) and the transactional mirror of opt-outs on contacts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.services import Services
from wacast.domain.contacts import Contact, contact_id_for
from wacast.domain.errors import Conflict, StaleState, ValidationFailed
from wacast.domain.optout import OptOut

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def contact(i: int, account: str = "a1", tags: list[str] | None = None, batch: str | None = None) -> Contact:
    phone = f"+9198765{i:05d}"
    return Contact(
        id=contact_id_for(account, phone),
        account_id=account,
        phone=phone,
        name=f"Person {i}",
        attributes={"city": "Pune"},
        tags=sorted(tags or []),
        import_batch=batch,
        created_at=NOW,
        updated_at=NOW,
    )


def every_page(services: Services, limit: int, **filters: object) -> tuple[list[str], int]:
    """All ids, following cursors; and how many pages it took."""
    ids: list[str] = []
    cursor: str | None = None
    for pages in range(1, 100):
        page, cursor = services.repos.contacts.page("a1", cursor=cursor, limit=limit, **filters)  # type: ignore[arg-type]
        ids += [c.id for c in page]
        if cursor is None:
            return ids, pages
    raise AssertionError("the cursor never ended")


def test_pages_by_tag_batch_and_ids_reach_every_contact_once(services: Services) -> None:
    # given 25 contacts: every third is vip, the even ones came from batch imp_1, and another account's contact
    contacts = [
        contact(i, tags=["vip"] if i % 3 == 0 else ["new"], batch="imp_1" if i % 2 == 0 else None) for i in range(25)
    ]
    services.repos.contacts.put_many([*contacts, contact(99, account="a2", tags=["vip"], batch="imp_1")])
    ids = {c.id for c in contacts}
    vip = {c.id for c in contacts if "vip" in c.tags}
    batch = {c.id for c in contacts if c.import_batch == "imp_1"}

    # when / then
    everyone, pages = every_page(services, 10)
    assert set(everyone) == ids and len(everyone) == 25 and pages == 3
    assert sorted(every_page(services, 4, tag="VIP")[0]) == sorted(vip)  # tags match in any case
    assert sorted(every_page(services, 4, import_batch="imp_1")[0]) == sorted(batch)
    assert sorted(every_page(services, 3, import_batch="imp_1", tag="vip")[0]) == sorted(vip & batch)
    chosen = [c.id for c in contacts[:7]] + ["c_" + "0" * 24]
    assert every_page(services, 3, contact_ids=chosen)[0] == chosen[:7]
    repo = services.repos.contacts
    assert (repo.count("a1"), repo.count("a1", tag="vip"), repo.count("a1", import_batch="imp_1")) == (25, 9, 13)
    assert repo.count("a1", tag="vip", import_batch="imp_1") == len(vip & batch)


def test_a_cursor_of_one_listing_is_refused_by_another(services: Services) -> None:
    services.repos.contacts.put_many([contact(i, tags=["vip"]) for i in range(3)])
    _, cursor = services.repos.contacts.page("a1", limit=1)
    assert cursor is not None
    with pytest.raises(ValidationFailed) as caught:
        services.repos.contacts.page("a1", tag="vip", cursor=cursor)
    assert caught.value.field == "cursor"


def test_one_phone_is_one_contact_and_a_stale_update_loses(services: Services) -> None:
    repo = services.repos.contacts
    first = contact(1, tags=["a"])
    repo.create(first)
    with pytest.raises(Conflict):
        repo.create(first.model_copy(update={"name": "Someone else"}))
    moved = first.model_copy(update={"tags": ["b"], "updated_at": NOW + timedelta(seconds=1)})
    repo.replace(first, moved)
    with pytest.raises(StaleState):
        repo.replace(first, first.model_copy(update={"name": "late"}))
    assert repo.count("a1", tag="a") == 0 and repo.count("a1", tag="b") == 1
    assert repo.delete("a1", first.id) and repo.get("a1", first.id) is None
    assert repo.count("a1", tag="b") == 0 and not repo.delete("a1", first.id)


def test_opt_out_marks_the_contact_in_the_same_write_and_works_without_one(services: Services) -> None:
    optouts, repo = services.repos.optouts, services.repos.contacts
    known = contact(1)
    repo.create(known)
    assert optouts.opt_out("a1", known.phone, "keyword", NOW) is True
    assert optouts.opt_out("a1", "+14155550100", "api", NOW) is False  # not a contact: still on the list
    stored = repo.get("a1", known.id)
    assert stored is not None and stored.opted_out and stored.opted_out_source == "keyword"
    assert stored.opted_out_at == NOW
    assert optouts.opted_out_among("a1", [known.phone, "+14155550100", "+919999999999"]) == {
        known.phone,
        "+14155550100",
    }
    assert optouts.opted_out_among("a2", [known.phone]) == set()
    assert optouts.opt_in("a1", known.phone, NOW) is True
    stored = repo.get("a1", known.id)
    assert stored is not None and not stored.opted_out and stored.opted_out_at is None
    assert not optouts.is_opted_out("a1", known.phone)


def test_batched_writes_are_idempotent(services: Services) -> None:
    contacts = [contact(i, tags=["x", "y"]) for i in range(30)]
    services.repos.contacts.put_many(contacts)
    services.repos.contacts.put_many(contacts)
    services.repos.optouts.add_many("a1", [OptOut(phone=c.phone, source="import", at=NOW) for c in contacts[:3]])
    services.repos.optouts.add_many("a1", [OptOut(phone=c.phone, source="import", at=NOW) for c in contacts[:3]])
    assert services.repos.contacts.count("a1") == 30 and services.repos.contacts.count("a1", tag="y") == 30
    assert len(services.repos.optouts.find_many("a1", [c.phone for c in contacts])) == 3
    assert services.repos.contacts.get_many("a1", [c.id for c in contacts[:5]]) == {c.id: c for c in contacts[:5]}
