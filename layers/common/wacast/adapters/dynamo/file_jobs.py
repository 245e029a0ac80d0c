"""Import and export jobs: pk ACCT#{account}, sk IMPORTJOB#{job} or EXPORTJOB#{job}. The job is one JSON
attribute plus a version that every save checks and moves (optimistic locking). A job expires (TTL) 30 days
after it was created; its files in S3 go sooner (the bucket's lifecycle rules)."""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from pydantic import BaseModel
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError

from wacast.adapters.dynamo.table import TableModel, is_condition_failure, unavailable_on_failure
from wacast.domain.errors import Conflict, StaleState, Unavailable
from wacast.domain.file_jobs import ExportJob, ImportJob

RETENTION = timedelta(days=30)
J = TypeVar("J", ImportJob, ExportJob)


class FileJobModel(TableModel):
    kind = UnicodeAttribute()
    body = UnicodeAttribute()
    version = NumberAttribute()


def job_key(account_id: str, kind: str, job_id: str) -> tuple[str, str]:
    return f"ACCT#{account_id}", f"{kind.upper()}JOB#{job_id}"


class DynamoFileJobRepository:
    """Import and export jobs in DynamoDB (implements FileJobRepository)."""

    def create_import(self, job: ImportJob) -> None:
        self._create("import", job)

    def get_import(self, account_id: str, job_id: str) -> ImportJob | None:
        return self._get("import", account_id, job_id, ImportJob)

    def save_import(self, job: ImportJob) -> ImportJob:
        return self._save("import", job)

    def create_export(self, job: ExportJob) -> None:
        self._create("export", job)

    def get_export(self, account_id: str, job_id: str) -> ExportJob | None:
        return self._get("export", account_id, job_id, ExportJob)

    def save_export(self, job: ExportJob) -> ExportJob:
        return self._save("export", job)

    @staticmethod
    def _model(kind: str, job: BaseModel, account_id: str, job_id: str, version: int, created: float) -> FileJobModel:
        return FileJobModel(
            *job_key(account_id, kind, job_id),
            kind=kind,
            body=job.model_dump_json(exclude={"version"}),
            version=version,
            expires_at=int(created + RETENTION.total_seconds()),
        )

    @unavailable_on_failure("save the job")
    def _create(self, kind: str, job: ImportJob | ExportJob) -> None:
        model = self._model(kind, job, job.account_id, job.id, job.version, job.created_at.timestamp())
        try:
            model.save(condition=FileJobModel.pk.does_not_exist())
        except PutError as exc:
            if is_condition_failure(exc):
                raise Conflict("a job with this id exists", details={"job_id": job.id}) from exc
            raise Unavailable("could not save the job") from exc

    @unavailable_on_failure("read the job")
    def _get(self, kind: str, account_id: str, job_id: str, cls: type[J]) -> J | None:
        if len(job_id) > 64:
            return None
        try:
            model = FileJobModel.get(*job_key(account_id, kind, job_id), consistent_read=True)
        except FileJobModel.DoesNotExist:
            return None
        return cls.model_validate_json(model.body).model_copy(update={"version": int(model.version)})

    @unavailable_on_failure("save the job")
    def _save(self, kind: str, job: J) -> J:
        model = self._model(kind, job, job.account_id, job.id, job.version + 1, job.created_at.timestamp())
        try:
            model.save(condition=FileJobModel.version == job.version)
        except PutError as exc:
            if is_condition_failure(exc):
                raise StaleState("the job changed meanwhile", details={"job_id": job.id}) from exc
            raise Unavailable("could not save the job") from exc
        return job.model_copy(update={"version": job.version + 1})
