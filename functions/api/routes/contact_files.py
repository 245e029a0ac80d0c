"""Contacts as CSV: import an upload (with a per-row report) and export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from routes.contacts import IMPORT_BATCH
from routes.deps import PrincipalDep, ServicesDep
from routes.errors import ERRORS, TOO_LARGE
from wacast.domain.errors import PayloadTooLarge
from wacast.domain.file_jobs import MAX_DIRECT_UPLOAD_BYTES

router = APIRouter(prefix="/api/contacts", tags=["contacts"], responses=ERRORS)

#: What fits a Lambda request (6 MB, after API Gateway base64-encodes the body): bigger files go through S3.
MAX_UPLOAD_BYTES = MAX_DIRECT_UPLOAD_BYTES


class RejectedRowOut(BaseModel):
    line: int = Field(description="line of the file where the row starts (the header is line 1)")
    reason: str
    field: str | None = None


class ImportOut(BaseModel):
    import_batch: str = Field(description="the same file always gives the same batch: a campaign can target it")
    rows: int
    imported: int = Field(description="new contacts")
    updated: int = Field(description="existing contacts this file changed")
    duplicate: int = Field(description="rows that changed nothing: repeated in the file, or already so")
    duplicate_in_file: int
    unchanged: int
    opted_out: int = Field(description="valid rows whose contact is opted out")
    rejected: list[RejectedRowOut]
    ignored_columns: list[str]


@router.post("/import", responses=TOO_LARGE)
def import_contacts(
    file: Annotated[UploadFile, File(description="CSV, UTF-8; ',' or ';'; a header row with a phone column")],
    principal: PrincipalDep,
    services: ServicesDep,
) -> ImportOut:
    """Files up to 4 MiB (a Lambda request's limit, once encoded); larger ones go through
    `POST /api/contacts/imports` (S3). The whole file is checked before anything is written; rows that cannot be
    imported are reported with their line. Importing the same file again changes nothing. A row whose
    opt-in column says no is imported as opted out; an import never opts anyone back in."""
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(
            f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB, the most this route takes: "
            "upload it through POST /api/contacts/imports (S3, up to 100,000 rows)",
            details={"field": "file", "limit_bytes": MAX_UPLOAD_BYTES, "use": "/api/contacts/imports"},
        )
    report = services.contacts.import_csv(principal, data)
    return ImportOut.model_validate(report, from_attributes=True)


@router.get("/export", response_class=StreamingResponse, responses={200: {"content": {"text/csv": {}}}, **TOO_LARGE})
def export_contacts(
    principal: PrincipalDep,
    services: ServicesDep,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    import_batch: Annotated[str | None, Query(pattern=IMPORT_BATCH)] = None,
) -> StreamingResponse:
    """Every contact (or a tag's, or an import batch's) as CSV; the file imports back as is. Answered inline
    up to 20,000 contacts (a Lambda response is at most 6 MB); above, 413: use `POST /api/contacts/exports`."""
    services.exports.check_inline_contacts(principal, tag, import_batch)
    lines = services.contacts.export_csv(principal, tag=tag, import_batch=import_batch)
    headers = {"Content-Disposition": 'attachment; filename="contacts.csv"'}
    return StreamingResponse(lines, media_type="text/csv; charset=utf-8", headers=headers)
