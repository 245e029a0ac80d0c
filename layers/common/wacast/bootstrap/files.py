"""The files function's root: contact imports and exports between the files bucket and the table."""

from __future__ import annotations

from dataclasses import dataclass

from wacast.adapters.aws import client
from wacast.adapters.clock import SystemClock
from wacast.adapters.dynamo.accounts import DynamoAccountRepository
from wacast.adapters.dynamo.campaigns import DynamoCampaignRepository
from wacast.adapters.dynamo.contacts import DynamoContactRepository
from wacast.adapters.dynamo.file_jobs import DynamoFileJobRepository
from wacast.adapters.dynamo.messages import DynamoMessageRepository
from wacast.adapters.dynamo.optouts import DynamoOptOutRepository
from wacast.adapters.s3 import S3FileStore
from wacast.adapters.sqs import SqsQueue
from wacast.bootstrap.shared import bind
from wacast.ports import Clock
from wacast.services.contact_imports import ContactImportService
from wacast.services.exports import ExportService
from wacast.settings import ApiSettings, FilesSettings


@dataclass
class FilesServices:
    """Runs import and export jobs."""

    settings: FilesSettings
    imports: ContactImportService
    exports: ExportService


def file_services(settings: FilesSettings | ApiSettings, clock: Clock) -> tuple[ContactImportService, ExportService]:
    """The import and export services, as the api (create, start, read) and the files function (run) use them."""
    files = S3FileStore(settings.files_bucket, client("s3", settings.region))
    queue = SqsQueue(settings.files_queue_url, client("sqs", settings.region))
    jobs, contacts = DynamoFileJobRepository(), DynamoContactRepository()
    imports = ContactImportService(
        jobs, files, queue, contacts, DynamoOptOutRepository(), DynamoAccountRepository(), clock
    )
    exports = ExportService(jobs, files, queue, contacts, DynamoCampaignRepository(), DynamoMessageRepository(), clock)
    return imports, exports


def build_files(settings: FilesSettings, *, clock: Clock | None = None) -> FilesServices:
    bind(settings)
    imports, exports = file_services(settings, clock or SystemClock())
    return FilesServices(settings, imports, exports)
