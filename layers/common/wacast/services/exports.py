"""Exports through S3: the files function writes the CSV (contacts, or a campaign's messages) to the bucket
a page at a time, and the API hands it out as a presigned GET that expires. A Lambda response is at most
6 MB, so the inline export routes answer only small exports (`INLINE_EXPORT_ROWS`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from wacast.domain.accounts import Principal
from wacast.domain.errors import NotFound, PayloadTooLarge
from wacast.domain.file_jobs import FINISHED, ExportFileJob, ExportJob, ExportKind, JobStatus, export_key
from wacast.observability import logger
from wacast.ports import CampaignRepository, Clock, ContactRepository, FileJobRepository, FileStore, MessageRepository
from wacast.ports import Queue as QueuePort
from wacast.services.contacts import contact_export_lines, tag_filter
from wacast.services.stats import message_export_lines

#: Contacts read per page by an export job (~300 KB: under DynamoDB's 1 MB page; a tag's page is BatchGets of 100).
JOB_PAGE = 1_000
#: The most rows an inline export route answers: ~20,000 contacts or messages stay well under Lambda's 6 MB.
INLINE_EXPORT_ROWS = 20_000


class ExportService:
    """Export jobs: created by the API, written by the files function, downloaded from S3."""

    def __init__(
        self,
        jobs: FileJobRepository,
        files: FileStore,
        queue: QueuePort,
        contacts: ContactRepository,
        campaigns: CampaignRepository,
        messages: MessageRepository,
        clock: Clock,
        *,
        url_seconds: int = 900,
    ) -> None:
        self.jobs = jobs
        self.files = files
        self.queue = queue
        self.contacts = contacts
        self.campaigns = campaigns
        self.messages = messages
        self.clock = clock
        self.url_seconds = url_seconds

    # -- the API's part -----------------------------------------------------------------------------

    def export_contacts(self, principal: Principal, tag: str | None, import_batch: str | None) -> ExportJob:
        return self._create(principal, ExportKind.CONTACTS, tag_filter(tag), import_batch, None)

    def export_messages(self, principal: Principal, campaign_id: str) -> ExportJob:
        if self.campaigns.get(principal.account_id, campaign_id) is None:
            raise NotFound("no such campaign", details={"campaign_id": campaign_id})
        return self._create(principal, ExportKind.CAMPAIGN_MESSAGES, None, None, campaign_id)

    def get(self, principal: Principal, job_id: str, kind: ExportKind, campaign_id: str | None = None) -> ExportJob:
        job = self.jobs.get_export(principal.account_id, job_id)
        if job is None or job.kind != kind or job.campaign_id != campaign_id:
            raise NotFound("no such export", details={"export_id": job_id})
        return job

    def download_url(self, job: ExportJob) -> str | None:
        if job.status != JobStatus.COMPLETED:
            return None
        name = "contacts.csv" if job.kind == ExportKind.CONTACTS else f"{job.campaign_id}-messages.csv"
        return self.files.download_url(job.object_key, name, self.url_seconds)

    def check_inline_contacts(self, principal: Principal, tag: str | None, import_batch: str | None) -> None:
        """Refuse (413) an inline contacts export too large for a Lambda response."""
        count = self.contacts.count(principal.account_id, tag=tag_filter(tag), import_batch=import_batch)
        if count > INLINE_EXPORT_ROWS:
            raise PayloadTooLarge(
                f"{count} contacts are too many to answer inline (at most {INLINE_EXPORT_ROWS}): "
                "POST /api/contacts/exports and download the file it writes",
                details={"rows": count, "limit": INLINE_EXPORT_ROWS},
            )

    def check_inline_messages(self, principal: Principal, campaign_id: str) -> None:
        """Refuse (413) an inline export of a campaign's messages too large for a Lambda response."""
        campaign = self.campaigns.get(principal.account_id, campaign_id)
        if campaign is None:
            raise NotFound("no such campaign", details={"campaign_id": campaign_id})
        if campaign.counters.total > INLINE_EXPORT_ROWS:
            raise PayloadTooLarge(
                f"{campaign.counters.total} messages are too many to answer inline (at most {INLINE_EXPORT_ROWS}): "
                f"POST /api/campaigns/{campaign_id}/messages/exports and download the file it writes",
                details={"rows": campaign.counters.total, "limit": INLINE_EXPORT_ROWS},
            )

    def _create(
        self,
        principal: Principal,
        kind: ExportKind,
        tag: str | None,
        import_batch: str | None,
        campaign_id: str | None,
    ) -> ExportJob:
        now, job_id = self.clock.now(), f"exp_{uuid.uuid4().hex[:20]}"
        job = ExportJob(
            id=job_id,
            account_id=principal.account_id,
            kind=kind,
            status=JobStatus.QUEUED,
            object_key=export_key(principal.account_id, job_id),
            tag=tag,
            import_batch=import_batch,
            campaign_id=campaign_id,
            created_at=now,
            updated_at=now,
        )
        self.jobs.create_export(job)
        self.queue.send(ExportFileJob(account_id=job.account_id, job_id=job.id).model_dump())
        return job

    # -- the files function's part ------------------------------------------------------------------

    def run(self, message: ExportFileJob) -> ExportJob | None:
        """Write the export's file. A run that fails is retried by the queue and writes it whole again."""
        job = self.jobs.get_export(message.account_id, message.job_id)
        if job is None or job.status in FINISHED:
            return job
        job = self._save(job, status=JobStatus.WRITING)
        rows = 0

        def lines() -> Iterator[bytes]:
            nonlocal rows
            for number, line in enumerate(self._lines(job)):
                rows = number  # the header is line 0
                yield line.encode()

        size = self.files.write(job.object_key, lines())
        logger.info("export written", job_id=job.id, kind=job.kind, rows=rows, size=size)
        return self._save(job, status=JobStatus.COMPLETED, rows=rows, size_bytes=size)

    def _lines(self, job: ExportJob) -> Iterator[str]:
        if job.kind == ExportKind.CONTACTS:
            return contact_export_lines(self.contacts, job.account_id, job.tag, job.import_batch, JOB_PAGE)
        assert job.campaign_id is not None
        return message_export_lines(self.messages, job.campaign_id)

    def _save(self, job: ExportJob, **changes: object) -> ExportJob:
        return self.jobs.save_export(job.model_copy(update={**changes, "updated_at": self.clock.now()}))
