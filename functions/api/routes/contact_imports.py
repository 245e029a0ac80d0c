"""Contact imports through S3, for files of any size up to 100,000 rows: create the import, PUT the file to
the presigned URL, start it, then follow it until it is completed or failed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field

from routes.contact_files import RejectedRowOut
from routes.deps import PrincipalDep, ServicesDep
from routes.errors import ERRORS, TOO_LARGE
from wacast.domain.file_jobs import MAX_IMPORT_BYTES, ImportJob, JobStatus

router = APIRouter(prefix="/api/contacts/imports", tags=["contacts"], responses=ERRORS)
ImportId = Annotated[str, Path(pattern=r"^cim_[0-9a-f]{20}$")]


class ImportRequest(BaseModel):
    filename: str = Field(default="contacts.csv", max_length=200)
    size_bytes: int | None = Field(default=None, ge=0, description=f"the file's size; at most {MAX_IMPORT_BYTES}")


class UploadOut(BaseModel):
    url: str = Field(description="PUT the file's bytes here, with the headers below, before it expires")
    method: str
    headers: dict[str, str]
    expires_at: datetime
    max_bytes: int


class ImportReportOut(BaseModel):
    rows: int = Field(description="data rows in the file (blank lines aside)")
    imported: int = Field(description="new contacts")
    updated: int = Field(description="existing contacts this file changed")
    duplicate: int = Field(description="rows that changed nothing: repeated in the file, or already so")
    duplicate_in_file: int
    unchanged: int
    opted_out: int = Field(description="valid rows whose contact is opted out")
    rejected: int = Field(description="rows that could not be imported: all of them are in the rejected_csv_url file")


class ImportOut(BaseModel):
    id: str
    status: JobStatus = Field(description="awaiting_upload, queued, checking, writing, completed or failed")
    filename: str
    size_bytes: int | None
    import_batch: str | None = Field(description="the same file always gives the same batch: a campaign can target it")
    rows_total: int | None = Field(description="data rows in the file, once it is checked")
    rows_done: int = Field(description="data rows written so far")
    report: ImportReportOut | None = Field(description="once the file is checked; final when completed")
    rejected_sample: list[RejectedRowOut] = Field(description="the first rejected rows")
    rejected_csv_url: str | None = Field(description="the rejected rows as CSV (line, reason, field, the row)")
    ignored_columns: list[str]
    error: RejectedRowOut | None = Field(description="why a failed import failed (the file as a whole)")
    created_at: datetime
    updated_at: datetime


class CreatedImportOut(ImportOut):
    upload: UploadOut


def import_out(job: ImportJob, rejected_url: str | None) -> ImportOut:
    c, checked = job.counts, job.status in (JobStatus.WRITING, JobStatus.COMPLETED)
    report = ImportReportOut(**c.model_dump(exclude={"valid"}), duplicate=c.duplicate_in_file + c.unchanged)
    return ImportOut(
        id=job.id,
        status=job.status,
        filename=job.filename,
        size_bytes=job.size_bytes,
        import_batch=job.import_batch,
        rows_total=c.rows if checked else None,
        rows_done=job.rows_done,
        report=report if checked else None,
        rejected_sample=[RejectedRowOut(line=r.line, reason=r.reason, field=r.field) for r in job.rejected_sample],
        rejected_csv_url=rejected_url,
        ignored_columns=job.ignored_columns,
        error=RejectedRowOut(line=0, reason=job.error, field=job.error_field) if job.error else None,
        created_at=job.created_at,
        updated_at=job.updated_at,
    )


@router.post("", status_code=status.HTTP_201_CREATED, responses=TOO_LARGE)
def create_import(
    principal: PrincipalDep, services: ServicesDep, body: ImportRequest | None = None
) -> CreatedImportOut:
    """A new import and a presigned URL to PUT the CSV file to (UTF-8; ',' or ';'; a header row with a phone
    column; up to 100,000 rows). Then call `POST .../{id}/start`."""
    body = body or ImportRequest()
    job, upload = services.imports.create(principal, body.filename, body.size_bytes)
    expires = services.clock.now() + timedelta(seconds=upload.expires_in)
    out = UploadOut(
        url=upload.url, method=upload.method, headers=upload.headers, expires_at=expires, max_bytes=MAX_IMPORT_BYTES
    )
    return CreatedImportOut(**import_out(job, None).model_dump(), upload=out)


@router.post("/{import_id}/start", status_code=status.HTTP_202_ACCEPTED, responses=TOO_LARGE)
def start_import(import_id: ImportId, principal: PrincipalDep, services: ServicesDep) -> ImportOut:
    """Start importing the uploaded file (422 if it is not uploaded yet). The whole file is checked before
    anything is written; starting again changes nothing."""
    job = services.imports.start(principal, import_id)
    return import_out(job, services.imports.rejected_url(job))


@router.get("/{import_id}")
def get_import(import_id: ImportId, principal: PrincipalDep, services: ServicesDep) -> ImportOut:
    """Where the import stands: its status, rows done of the total, and the report."""
    job = services.imports.get(principal, import_id)
    return import_out(job, services.imports.rejected_url(job))
