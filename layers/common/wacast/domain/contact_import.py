"""Planning an import: what each valid row does to the contact of its phone. Pure: the caller reads the
current contacts and opt-outs first, and writes the plan after (opt-outs first, then contacts).

Merge rules: a cell with a value replaces the stored one and an empty cell keeps it; tags are added,
never removed; the contact moves to this import's batch. An import never opts anyone back in: a phone
on the opt-out list stays opted out whatever the file says, and a row whose opt-in says no joins the list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from wacast.domain.contact_csv import ImportRow, ParsedFile, RejectedRow
from wacast.domain.contacts import Contact, check_attributes, contact_id_for, normalise_tags
from wacast.domain.errors import ValidationFailed
from wacast.domain.optout import OptOut

IMPORT_SOURCE = "import"


@dataclass
class ImportPlan:
    batch: str
    contacts: list[Contact] = field(default_factory=list)  # new or changed: to write
    new_opt_outs: list[OptOut] = field(default_factory=list)  # to add to the opt-out list, before the contacts
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    opted_out: int = 0  # rows whose contact is (now) opted out
    rejected: list[RejectedRow] = field(default_factory=list)


def plan_import(
    account_id: str,
    parsed: ParsedFile,
    batch: str,
    current: Mapping[str, Contact],
    opt_outs: Mapping[str, OptOut],
    now: datetime,
) -> ImportPlan:
    """`current`: the stored contacts by id; `opt_outs`: the account's opt-outs among the file's phones."""
    plan = ImportPlan(batch=batch, rejected=list(parsed.rejected))
    for row in parsed.rows:
        before = current.get(contact_id_for(account_id, row.phone))
        listed = opt_outs.get(row.phone)
        said_no = OptOut(phone=row.phone, source=IMPORT_SOURCE, at=now) if row.opted_in is False else None
        try:
            after = merge_row(account_id, row, before, listed or said_no, batch, now)
        except ValidationFailed as exc:
            plan.rejected.append(RejectedRow(row.line, exc.message, exc.field))
            continue
        if listed is None and said_no is not None:
            plan.new_opt_outs.append(said_no)
        plan.opted_out += after.opted_out
        if before is None:
            plan.imported += 1
        elif before.same_content(after):
            plan.unchanged += 1
            continue
        else:
            plan.updated += 1
        plan.contacts.append(after)
    plan.rejected.sort(key=lambda r: r.line)
    return plan


def merge_row(
    account_id: str, row: ImportRow, before: Contact | None, opt_out: OptOut | None, batch: str, now: datetime
) -> Contact:
    """The contact after `row` is applied to `before` (None: a new contact)."""
    return Contact(
        id=contact_id_for(account_id, row.phone),
        account_id=account_id,
        phone=row.phone,
        name=row.name or (before.name if before else ""),
        attributes=check_attributes({**(before.attributes if before else {}), **row.attributes}),
        tags=normalise_tags([*(before.tags if before else []), *row.tags]),
        opted_out=opt_out is not None,
        opted_out_at=opt_out.at if opt_out else None,
        opted_out_source=opt_out.source if opt_out else None,
        import_batch=batch,
        created_at=before.created_at if before else now,
        updated_at=now,
    )
