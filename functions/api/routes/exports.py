"""Exports through S3: a job writes the CSV to the files bucket; when it is completed, its download URL (a
presigned GET) is valid for 15 minutes, and a new one is given at each read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, Field

from routes.contacts import IMPORT_BATCH
from routes.deps import PrincipalDep, ServicesDep
from routes.errors import ERRORS
from wacast.domain.file_jobs import ExportJob, ExportKind, JobStatus

router = APIRouter(tags=["exports"], responses=ERRORS)
ExportId = Annotated[str, Path(pattern=r"^exp_[0-9a-f]{20}$")]


class ExportOut(BaseModel):
    id: str
    kind: ExportKind
    status: JobStatus = Field(description="queued, writing, completed or failed")
    rows: int
    size_bytes: int | None
    download_url: str | None = Field(description="once completed: a GET of the CSV, valid for 15 minutes")
    created_at: datetime
    updated_at: datetime


def export_out(job: ExportJob, url: str | None) -> ExportOut:
    return ExportOut(**job.model_dump(include=set(ExportOut.model_fields)), download_url=url)


@router.post("/api/contacts/exports", status_code=status.HTTP_202_ACCEPTED)
def export_contacts(
    principal: PrincipalDep,
    services: ServicesDep,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    import_batch: Annotated[str | None, Query(pattern=IMPORT_BATCH)] = None,
) -> ExportOut:
    """Export every contact (or a tag's, or an import batch's) to a CSV file that imports back as is."""
    return export_out(services.exports.export_contacts(principal, tag, import_batch), None)


@router.get("/api/contacts/exports/{export_id}")
def get_contacts_export(export_id: ExportId, principal: PrincipalDep, services: ServicesDep) -> ExportOut:
    job = services.exports.get(principal, export_id, ExportKind.CONTACTS)
    return export_out(job, services.exports.download_url(job))


@router.post("/api/campaigns/{campaign_id}/messages/exports", status_code=status.HTTP_202_ACCEPTED)
def export_messages(campaign_id: str, principal: PrincipalDep, services: ServicesDep) -> ExportOut:
    """Export every message of the campaign (its text as sent, its status) to a CSV file."""
    return export_out(services.exports.export_messages(principal, campaign_id), None)


@router.get("/api/campaigns/{campaign_id}/messages/exports/{export_id}")
def get_messages_export(
    campaign_id: str, export_id: ExportId, principal: PrincipalDep, services: ServicesDep
) -> ExportOut:
    job = services.exports.get(principal, export_id, ExportKind.CAMPAIGN_MESSAGES, campaign_id)
    return export_out(job, services.exports.download_url(job))
