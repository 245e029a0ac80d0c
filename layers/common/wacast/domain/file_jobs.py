"""Big files through S3: contact imports and exports run as jobs, off the HTTP request.

An import is uploaded straight to S3 (a presigned PUT), then started: the files function checks the whole
file, then writes it chunk by chunk, recording after each chunk the last line written, so a run that dies
resumes there. An export is written to S3 by the same function and handed out as a presigned GET. The jobs
live in the table; the queue carries only which job to run (`FileJobMessage`). Pure: no I/O.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter

#: The largest file the S3 route takes (a 100,000-row file with a few attribute columns is ~10 MB).
MAX_IMPORT_BYTES = 50 * 1024 * 1024
#: The largest file the direct route (`POST /api/contacts/import`) takes: a Lambda request body is at most
#: 6 MB, and API Gateway base64-encodes a binary body (4/3 larger), plus the multipart envelope.
MAX_DIRECT_UPLOAD_BYTES = 4 * 1024 * 1024
#: Rows written per chunk (the position is recorded after each).
IMPORT_CHUNK_ROWS = 1_000
#: Rejected rows the job itself shows; the CSV has them all.
REJECTED_SAMPLE = 20


class JobStatus(StrEnum):
    AWAITING_UPLOAD = "awaiting_upload"  # an import whose file is not uploaded (or not started) yet
    QUEUED = "queued"
    CHECKING = "checking"  # an import: reading the whole file before writing anything
    WRITING = "writing"
    COMPLETED = "completed"
    FAILED = "failed"


#: Statuses a job never leaves.
FINISHED = frozenset({JobStatus.COMPLETED, JobStatus.FAILED})


class RejectedLine(BaseModel):
    line: int
    reason: str
    field: str | None = None


class ImportCounts(BaseModel):
    """The per-row report, as today's synchronous import gives it."""

    rows: int = 0  # data rows in the file (blank lines aside)
    valid: int = 0  # rows to write: the first row of each phone, valid
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicate_in_file: int = 0
    opted_out: int = 0
    rejected: int = 0

    def plus(self, other: ImportCounts) -> ImportCounts:
        return ImportCounts(**{k: getattr(self, k) + getattr(other, k) for k in ImportCounts.model_fields})


class PendingChunk(BaseModel):
    """A chunk being written: what it counts, recorded before its writes, so that a run that dies in the
    middle counts it once, as planned from the state before it (a retry would see its own writes)."""

    first_line: int
    last_line: int
    counts: ImportCounts
    rejected: list[RejectedLine] = Field(default_factory=list)


class ImportJob(BaseModel):
    id: str
    account_id: str
    status: JobStatus
    object_key: str
    filename: str = ""
    size_bytes: int | None = None
    etag: str | None = None  # of the object checked: the writing pass reads that same object
    import_batch: str | None = None
    #: the report; `counts.rows` (found by the checking pass) is the total the progress is out of
    counts: ImportCounts = Field(default_factory=ImportCounts)
    position: int = 0  # last line of the file whose chunk is written
    rows_done: int = 0  # data rows up to `position`
    pending: PendingChunk | None = None
    ignored_columns: list[str] = Field(default_factory=list)
    rejected_sample: list[RejectedLine] = Field(default_factory=list)
    #: rows the writing pass rejected (an attribute merged with the stored ones breaks a limit): rare
    late_rejected: list[RejectedLine] = Field(default_factory=list)
    rejected_key: str | None = None
    error: str | None = None
    error_field: str | None = None
    version: int = 0
    created_at: datetime
    updated_at: datetime


class ExportKind(StrEnum):
    CONTACTS = "contacts"
    CAMPAIGN_MESSAGES = "campaign_messages"


class ExportJob(BaseModel):
    id: str
    account_id: str
    kind: ExportKind
    status: JobStatus
    tag: str | None = None
    import_batch: str | None = None
    campaign_id: str | None = None
    object_key: str
    rows: int = 0
    size_bytes: int | None = None
    error: str | None = None
    version: int = 0
    created_at: datetime
    updated_at: datetime


# -- the files queue --------------------------------------------------------------------------------


class ImportFileJob(BaseModel):
    type: Literal["import"] = "import"
    account_id: str
    job_id: str


class ExportFileJob(BaseModel):
    type: Literal["export"] = "export"
    account_id: str
    job_id: str


FileJobMessage = Annotated[ImportFileJob | ExportFileJob, Field(discriminator="type")]
FILE_JOB: TypeAdapter[ImportFileJob | ExportFileJob] = TypeAdapter(FileJobMessage)


def upload_key(account_id: str, job_id: str) -> str:
    return f"uploads/{account_id}/{job_id}.csv"


def rejected_key(account_id: str, job_id: str) -> str:
    return f"reports/{account_id}/{job_id}-rejected.csv"


def export_key(account_id: str, job_id: str) -> str:
    return f"exports/{account_id}/{job_id}.csv"
