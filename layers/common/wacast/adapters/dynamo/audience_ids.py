"""The contact ids of a campaign's audience, apart from the campaign item: pk ACCT#{account},
sk CAMPAIGNAUD#{campaign}#{version}#{chunk:05d}, CHUNK_SIZE ids each (the last one fewer).

Why apart: the campaign item is read before every send (its status) and rewritten with every counter
update; 10,000 ids inline made it ~284 KB (71 read units a read, 2 x 278 write units a counter
transaction). Apart, it stays ~1 KB whatever the audience.

Why 100 ids a chunk: an id is 26 characters (`domain.contacts.CONTACT_ID`; an audience names only
existing contacts), so a chunk is ~2.8 KB: one read unit, strongly consistent (under 4 KB), three write
units, and it is exactly one page of the dispatcher (services/dispatch.py PAGE): a page reads one chunk
(two when a short page left the position between chunks).

Versions: every write of an audience gets a new random version, and the campaign item names the version
in force. A version's chunks are all written before the campaign item points at it, and never change
after, so a reader never sees half an audience, nor two audiences mixed (two concurrent writers write
different versions). A superseded version is deleted after the switch, best effort; whatever is left
(a crash in between) is never read, and goes with the campaign (`delete_all_contact_ids`).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from pynamodb.attributes import ListAttribute
from pynamodb.exceptions import PynamoDBException

from wacast.adapters.dynamo.contacts import write_batches
from wacast.adapters.dynamo.table import TableModel, unavailable_on_failure
from wacast.domain.campaigns import StoredContactIds
from wacast.domain.errors import Unavailable
from wacast.observability import logger

CHUNK_SIZE = 100
#: Not "CAMPAIGN#...": the campaign listing queries begins_with("CAMPAIGN#") and must not see chunks.
PREFIX = "CAMPAIGNAUD#"
#: Bounds the clean-up query of a deleted campaign: its current version and any superseded leftovers.
MAX_CHUNKS_CLEANED = 5_000


class AudienceChunkModel(TableModel):
    contact_ids: ListAttribute[str] = ListAttribute(attr_name="ids")


def chunk_prefix(campaign_id: str, version: str | None = None) -> str:
    return f"{PREFIX}{campaign_id}#" + (f"{version}#" if version is not None else "")


def chunk_key(account_id: str, stored: StoredContactIds, index: int) -> tuple[str, str]:
    return f"ACCT#{account_id}", f"{chunk_prefix(stored.campaign_id, stored.version)}{index:05d}"


def encode_stored(stored: StoredContactIds) -> str:
    """Where the ids are, as the campaign item holds it: "{version}:{count}:{chunk size}"."""
    return f"{stored.version}:{stored.count}:{stored.chunk_size}"


def decode_stored(campaign_id: str, text: str) -> StoredContactIds:
    version, count, chunk_size = text.split(":")
    return StoredContactIds(campaign_id=campaign_id, version=version, count=int(count), chunk_size=int(chunk_size))


def write_contact_ids(account_id: str, campaign_id: str, contact_ids: Sequence[str]) -> StoredContactIds:
    """Write the ids under a new version (BatchWriteItem) and say where they are. Raises Unavailable;
    a partial write is never read (nothing points at its version)."""
    stored = StoredContactIds(
        campaign_id=campaign_id, version=secrets.token_hex(4), count=len(contact_ids), chunk_size=CHUNK_SIZE
    )
    write_batches(
        AudienceChunkModel(
            *chunk_key(account_id, stored, i), contact_ids=list(contact_ids[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE])
        )
        for i in range(stored.chunks)
    )
    return stored


def delete_contact_ids(account_id: str, stored: StoredContactIds) -> bool:
    """Delete one version's chunks, best effort (a leftover is harmless): False if it failed."""
    return _delete_keys(account_id, [chunk_key(account_id, stored, i) for i in range(stored.chunks)])


def delete_all_contact_ids(account_id: str, campaign_id: str) -> bool:
    """Delete every chunk of a (deleted) campaign, all versions, best effort: False if it failed."""
    try:
        keys = [
            (item.pk, item.sk)
            for item in AudienceChunkModel.query(
                f"ACCT#{account_id}",
                AudienceChunkModel.sk.startswith(chunk_prefix(campaign_id)),
                limit=MAX_CHUNKS_CLEANED,
                attributes_to_get=["pk", "sk"],
            )
        ]
    except PynamoDBException as exc:
        logger.warning("could not list a deleted campaign's audience chunks", campaign_id=campaign_id, error=str(exc))
        return False
    return _delete_keys(account_id, keys)


def _delete_keys(account_id: str, keys: list[tuple[str, str]]) -> bool:
    try:
        with AudienceChunkModel.batch_write() as batch:
            for pk, sk in keys:
                batch.delete(AudienceChunkModel(pk, sk))
    except PynamoDBException as exc:
        logger.warning("could not delete audience chunks", account_id=account_id, chunks=len(keys), error=str(exc))
        return False
    return True


class DynamoAudienceIds:
    """Reads the contact ids of stored audiences (implements ports.AudienceIdStore)."""

    @unavailable_on_failure("read the campaign's audience")
    def contact_ids(
        self, account_id: str, stored: StoredContactIds, offset: int = 0, limit: int | None = None
    ) -> list[str]:
        end = stored.count if limit is None else min(stored.count, offset + limit)
        if offset < 0 or offset >= end:
            return []
        size = stored.chunk_size
        first, last = offset // size, (end - 1) // size
        pk, low = chunk_key(account_id, stored, first)
        _, high = chunk_key(account_id, stored, last)
        query = AudienceChunkModel.query(
            pk, AudienceChunkModel.sk.between(low, high), consistent_read=True, limit=last - first + 1
        )
        ids: list[str] = []
        for expected, chunk in enumerate(query, start=first):
            if chunk.sk != chunk_key(account_id, stored, expected)[1]:
                break
            ids += chunk.contact_ids
        held = min(stored.count, (last + 1) * size) - first * size
        if len(ids) != held:  # a chunk is missing or short: never a partial audience
            raise Unavailable(
                "the campaign's audience is incomplete in the store",
                details={"campaign_id": stored.campaign_id, "version": stored.version},
            )
        start = offset - first * size
        return ids[start : start + end - offset]
