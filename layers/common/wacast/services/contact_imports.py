"""Contact imports through S3: the file goes straight to the bucket (a presigned PUT), and a job of the files
function imports it, off the HTTP request.

The job reads the object as a stream, twice. The checking pass reads the whole file with the rules of the
direct import (`ContactFileReader`): it counts the rows, writes every rejected row to a CSV in the bucket,
and hashes the content into the import batch (the same file is the same batch, whichever route it took).
A file that is unusable as a whole fails the job and writes nothing. The writing pass reads the same
object again (its ETag) and writes its valid rows a chunk at a time, each chunk in the order the direct
import uses (opt-outs, then tags, then contacts: safe to stop anywhere). Before a chunk's writes the job
records what the chunk counts; after them, the last line written. A run that dies (a crash, a timeout, a
throttle) is run again by the queue and starts after that line; the chunk it died in is planned again and
its idempotent puts complete it, counted once. Near the function's timeout a run records its position and
queues its own continuation.
"""

from __future__ import annotations

import csv
import heapq
import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from wacast.domain.accounts import Account, Principal
from wacast.domain.contact_csv import (
    ContactFileReader,
    ImportRow,
    ParsedFile,
    RejectedRow,
    batch_hasher,
    batch_id,
    csv_line,
    text_lines,
)
from wacast.domain.contact_import import plan_import
from wacast.domain.contacts import contact_id_for
from wacast.domain.errors import Conflict, NotFound, PayloadTooLarge, StaleState, ValidationFailed
from wacast.domain.file_jobs import (
    FINISHED,
    IMPORT_CHUNK_ROWS,
    MAX_IMPORT_BYTES,
    REJECTED_SAMPLE,
    ImportCounts,
    ImportFileJob,
    ImportJob,
    JobStatus,
    PendingChunk,
    RejectedLine,
    rejected_key,
    upload_key,
)
from wacast.observability import logger
from wacast.ports import AccountRepository, Clock, ContactStore, FileJobRepository, FileStore, OptOutRepository, Queue

UPLOAD_CONTENT_TYPE = "text/csv"
#: A run stops taking chunks when its function has less than this left, and queues its continuation.
TIME_MARGIN_SECONDS = 60.0
REJECTED_HEADER = ["line", "reason", "field"]
#: A checking or writing job untouched this long has no live run (the files queue's visibility is 30 min,
#: a run saves the job after every chunk): starting it again queues a run that resumes it.
STALLED_AFTER = timedelta(minutes=35)


@dataclass(frozen=True)
class Upload:
    url: str
    method: str
    headers: dict[str, str]
    expires_in: int


class ContactImportService:
    """Import jobs of an account's contact files (create, start, read) and the files function's run of them."""

    def __init__(
        self,
        jobs: FileJobRepository,
        files: FileStore,
        queue: Queue,
        contacts: ContactStore,
        optouts: OptOutRepository,
        accounts: AccountRepository,
        clock: Clock,
        *,
        url_seconds: int = 900,
        chunk_rows: int = IMPORT_CHUNK_ROWS,
    ) -> None:
        self.jobs = jobs
        self.files = files
        self.queue = queue
        self.contacts = contacts
        self.optouts = optouts
        self.accounts = accounts
        self.clock = clock
        self.url_seconds = url_seconds
        self.chunk_rows = chunk_rows

    # -- the API's part -----------------------------------------------------------------------------

    def create(self, principal: Principal, filename: str, size_bytes: int | None) -> tuple[ImportJob, Upload]:
        """A new import waiting for its file, and where to PUT it."""
        if size_bytes is not None and size_bytes > MAX_IMPORT_BYTES:
            raise PayloadTooLarge(f"the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MiB: split it")
        now, job_id = self.clock.now(), f"cim_{uuid.uuid4().hex[:20]}"
        job = ImportJob(
            id=job_id,
            account_id=principal.account_id,
            status=JobStatus.AWAITING_UPLOAD,
            object_key=upload_key(principal.account_id, job_id),
            filename=filename[:200],
            size_bytes=size_bytes,
            created_at=now,
            updated_at=now,
        )
        self.jobs.create_import(job)
        url = self.files.upload_url(job.object_key, UPLOAD_CONTENT_TYPE, self.url_seconds)
        return job, Upload(url, "PUT", {"Content-Type": UPLOAD_CONTENT_TYPE}, self.url_seconds)

    def start(self, principal: Principal, job_id: str) -> ImportJob:
        """Queue the import of the uploaded file. Starting a started import changes nothing, unless it stalled
        (its runs were dead-lettered): then a new run resumes it where it stopped."""
        job = self.get(principal, job_id)
        if job.status == JobStatus.AWAITING_UPLOAD:
            stored = self.files.stat(job.object_key)
            if stored is None:
                raise ValidationFailed("the file is not uploaded yet: PUT it to the upload URL first", field="file")
            if stored.size_bytes > MAX_IMPORT_BYTES:
                self.files.delete(job.object_key)
                self._save(job, status=JobStatus.FAILED, error="the file is too large", error_field="file")
                raise PayloadTooLarge(f"the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MiB: split it")
            try:
                job = self._save(job, status=JobStatus.QUEUED, size_bytes=stored.size_bytes, etag=stored.etag)
            except StaleState:
                return self.get(principal, job_id)  # a concurrent start won
        stalled = job.status in (JobStatus.CHECKING, JobStatus.WRITING) and (
            self.clock.now() - job.updated_at > STALLED_AFTER
        )
        if job.status == JobStatus.QUEUED or stalled:  # a duplicate run finds nothing to do, or loses the race
            self.queue.send(ImportFileJob(account_id=job.account_id, job_id=job.id).model_dump())
        return job

    def get(self, principal: Principal, job_id: str) -> ImportJob:
        job = self.jobs.get_import(principal.account_id, job_id)
        if job is None:
            raise NotFound("no such import", details={"import_id": job_id})
        return job

    def rejected_url(self, job: ImportJob) -> str | None:
        """A presigned GET of the rejected rows (None until the file is checked, or when none was rejected)."""
        if job.rejected_key is None or job.status not in (JobStatus.WRITING, JobStatus.COMPLETED):
            return None
        if job.counts.rejected == 0:
            return None
        return self.files.download_url(job.rejected_key, f"{job.id}-rejected.csv", self.url_seconds)

    # -- the files function's part ------------------------------------------------------------------

    def run(self, message: ImportFileJob, time_left: Callable[[], float]) -> ImportJob | None:
        """Check, then write, from where the job is. Returns the job as this run left it (None: no job)."""
        job = self.jobs.get_import(message.account_id, message.job_id)
        if job is None or job.status in FINISHED or job.status == JobStatus.AWAITING_UPLOAD:
            logger.info("import job has nothing to run", job_id=message.job_id, status=job and job.status)
            return job
        account = self.accounts.get(job.account_id)
        try:
            if account is None:
                raise NotFound("the account is gone")
            if job.status in (JobStatus.QUEUED, JobStatus.CHECKING):
                job = self._check(job, account)
            return self._write(job, account, time_left)
        except StaleState:
            logger.warning("import job moved on under this run: it stops here", job_id=job.id)
            return self.jobs.get_import(job.account_id, job.id)
        except (ValidationFailed, NotFound, Conflict) as exc:  # the file (or its account) is unusable
            logger.info("import failed", job_id=job.id, reason=exc.message)
            field = exc.field if isinstance(exc, ValidationFailed) else "file"
            latest = self.jobs.get_import(job.account_id, job.id) or job
            return self._save(latest, status=JobStatus.FAILED, error=exc.message, error_field=field)

    def _check(self, job: ImportJob, account: Account) -> ImportJob:
        job = self._save(job, status=JobStatus.CHECKING)
        hasher = batch_hasher(account.id)

        def hashed() -> Iterator[bytes]:
            for chunk in self.files.read(job.object_key, job.etag):
                hasher.update(chunk)
                yield chunk

        reader = ContactFileReader(hashed(), account.settings.default_country)
        counts, sample = ImportCounts(), list[RejectedLine]()

        def rejected_csv() -> Iterator[bytes]:
            yield csv_line([*REJECTED_HEADER, *reader.header]).encode()
            for entry in reader:
                counts.rows += 1
                if isinstance(entry, ImportRow):
                    counts.valid += 1
                elif isinstance(entry, RejectedRow):
                    counts.rejected += 1
                    if len(sample) < REJECTED_SAMPLE:
                        sample.append(RejectedLine(line=entry.line, reason=entry.reason, field=entry.field))
                    yield csv_line([str(entry.line), entry.reason, entry.field or "", *entry.cells]).encode()
                else:
                    counts.duplicate_in_file += 1

        key = rejected_key(job.account_id, job.id)
        self.files.write(key, rejected_csv())
        logger.info("import file checked", job_id=job.id, rows=counts.rows, rejected=counts.rejected)
        return self._save(
            job,
            status=JobStatus.WRITING,
            import_batch=batch_id(hasher),
            counts=counts,
            ignored_columns=reader.ignored_columns,
            rejected_sample=sample,
            rejected_key=key,
            position=0,
            rows_done=0,
            pending=None,
        )

    def _write(self, job: ImportJob, account: Account, time_left: Callable[[], float]) -> ImportJob:
        reader = ContactFileReader(self.files.read(job.object_key, job.etag), account.settings.default_country)
        chunk: list[ImportRow] = []
        rows, last_line = 0, job.position
        for entry in reader:
            if entry.line <= job.position:
                continue
            rows, last_line = rows + 1, entry.line
            if isinstance(entry, ImportRow):
                chunk.append(entry)
            if len(chunk) >= self.chunk_rows:
                job = self._write_chunk(job, account, chunk, last_line, rows)
                chunk, rows = [], 0
                if time_left() < TIME_MARGIN_SECONDS:
                    self.queue.send(ImportFileJob(account_id=job.account_id, job_id=job.id).model_dump())
                    logger.info("import continues in a new run", job_id=job.id, position=job.position)
                    return job
        if rows:
            job = self._write_chunk(job, account, chunk, last_line, rows)
        return self._complete(job)

    def _write_chunk(
        self, job: ImportJob, account: Account, rows: list[ImportRow], last_line: int, row_count: int
    ) -> ImportJob:
        """Plan the chunk against what is stored, record its counts, write it, then record its last line."""
        assert job.import_batch is not None
        phones = [row.phone for row in rows]
        current = self.contacts.get_many(account.id, [contact_id_for(account.id, phone) for phone in phones])
        opt_outs = self.optouts.find_many(account.id, phones)
        plan = plan_import(account.id, ParsedFile(rows=rows), job.import_batch, current, opt_outs, self.clock.now())
        first_line = job.position + 1
        pending = job.pending
        if pending is None or (pending.first_line, pending.last_line) != (first_line, last_line):
            counts = ImportCounts(
                imported=plan.imported,
                updated=plan.updated,
                unchanged=plan.unchanged,
                opted_out=plan.opted_out,
                rejected=len(plan.rejected),
            )
            rejected = [RejectedLine(line=r.line, reason=r.reason, field=r.field) for r in plan.rejected]
            pending = PendingChunk(first_line=first_line, last_line=last_line, counts=counts, rejected=rejected)
            job = self._save(job, pending=pending)
        self.optouts.add_many(account.id, plan.new_opt_outs)
        self.contacts.put_many(plan.contacts)
        return self._save(
            job,
            position=last_line,
            rows_done=job.rows_done + row_count,
            counts=job.counts.plus(pending.counts),
            late_rejected=[*job.late_rejected, *pending.rejected],
            pending=None,
        )

    def _complete(self, job: ImportJob) -> ImportJob:
        sample = job.rejected_sample
        if job.late_rejected and job.rejected_key:
            self._merge_late_rejections(job, job.rejected_key)
            sample = sorted([*sample, *job.late_rejected], key=lambda r: r.line)[:REJECTED_SAMPLE]
        done = self._save(job, status=JobStatus.COMPLETED, rejected_sample=sample)
        logger.info(
            "contacts imported",
            account_id=job.account_id,
            job_id=job.id,
            import_batch=job.import_batch,
            imported=done.counts.imported,
            updated=done.counts.updated,
            rejected=done.counts.rejected,
        )
        return done

    def _merge_late_rejections(self, job: ImportJob, key: str) -> None:
        """Rows the writing pass rejected join the rejected-rows CSV, in line order."""
        stored = csv.reader(text_lines(self.files.read(key)))
        header = next(stored, REJECTED_HEADER)
        late = ([str(r.line), r.reason, r.field or ""] for r in job.late_rejected)
        merged = heapq.merge(stored, late, key=lambda cells: int(cells[0]))
        lines = (csv_line(cells).encode() for cells in itertools.chain([header], merged))
        self.files.write(key, lines)

    def _save(self, job: ImportJob, **changes: object) -> ImportJob:
        return self.jobs.save_import(job.model_copy(update={**changes, "updated_at": self.clock.now()}))
