"""The files bucket (S3): presigned upload and download URLs, reading an object as a stream, writing one
from a stream (a multipart upload of 8 MiB parts once it outgrows one part), and the one translation of S3's
failures into domain errors."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from wacast.adapters.aws import unavailable_on_aws_failure
from wacast.domain.errors import Conflict, NotFound
from wacast.ports import StoredFile

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

#: A multipart upload's part (S3 wants at least 5 MiB for every part but the last).
PART_BYTES = 8 * 1024 * 1024
MISSING = ("404", "NoSuchKey", "NotFound")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3FileStore:
    """One bucket of files (implements FileStore). Takes its client, as every adapter does."""

    def __init__(self, bucket: str, client: S3Client) -> None:
        self.bucket = bucket
        self.client = client

    def upload_url(self, key: str, content_type: str, expires_seconds: int) -> str:
        with unavailable_on_aws_failure("sign the upload"):
            params = {"Bucket": self.bucket, "Key": key, "ContentType": content_type}
            return self.client.generate_presigned_url("put_object", Params=params, ExpiresIn=expires_seconds)

    def download_url(self, key: str, filename: str, expires_seconds: int) -> str:
        with unavailable_on_aws_failure("sign the download"):
            params = {
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
                "ResponseContentType": "text/csv; charset=utf-8",
            }
            return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_seconds)

    def stat(self, key: str) -> StoredFile | None:
        with unavailable_on_aws_failure("read the file"):
            try:
                head = self.client.head_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if _code(exc) in MISSING:
                    return None
                raise
        return StoredFile(size_bytes=int(head["ContentLength"]), etag=str(head["ETag"]))

    def read(self, key: str, etag: str | None = None, chunk_bytes: int = 1024 * 1024) -> Iterator[bytes]:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if etag:
            kwargs["IfMatch"] = etag
        with unavailable_on_aws_failure("read the file"):
            try:
                body = self.client.get_object(**kwargs)["Body"]
            except ClientError as exc:
                if _code(exc) in MISSING:
                    raise NotFound("the file is gone", details={"key": key}) from exc
                if _code(exc) in ("PreconditionFailed", "412"):
                    raise Conflict("the file was replaced since it was checked", details={"key": key}) from exc
                raise
        return self._chunks(body, chunk_bytes)

    @staticmethod
    def _chunks(body: Any, chunk_bytes: int) -> Iterator[bytes]:
        try:
            with unavailable_on_aws_failure("read the file"):
                yield from body.iter_chunks(chunk_bytes)
        finally:
            body.close()

    def write(self, key: str, chunks: Iterable[bytes], content_type: str = "text/csv; charset=utf-8") -> int:
        parts = _parts(chunks)
        first = next(parts, b"")
        second = next(parts, None)
        with unavailable_on_aws_failure("write the file"):
            if second is None:  # one part: a plain put
                self.client.put_object(Bucket=self.bucket, Key=key, Body=first, ContentType=content_type)
                return len(first)
            upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=key, ContentType=content_type)
            upload_id = upload["UploadId"]
            try:
                size, done = 0, list["CompletedPartTypeDef"]()
                for number, part in enumerate(_chain(first, second, parts), start=1):
                    answer = self.client.upload_part(
                        Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=part
                    )
                    done.append({"PartNumber": number, "ETag": answer["ETag"]})
                    size += len(part)
                self.client.complete_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done}
                )
            except Exception:  # S3 refused a part, or the chunks failed: leave no parts behind
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
                raise
        return size

    def delete(self, key: str) -> None:
        with unavailable_on_aws_failure("delete the file"):
            self.client.delete_object(Bucket=self.bucket, Key=key)


def _parts(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """`chunks` regrouped into parts of PART_BYTES (the last one smaller)."""
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= PART_BYTES:
            yield bytes(buffer[:PART_BYTES])
            del buffer[:PART_BYTES]
    if buffer:
        yield bytes(buffer)


def _chain(first: bytes, second: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield second
    yield from rest
