"""AWS clients, built once per process from its one botocore session, and the one translation of their
failures into domain errors.

One botocore session per process: every client here and PynamoDB's connections
(`wacast.adapters.dynamo.connection`) are made from it. A session holds the endpoint, partition and service
data it loads (~11 MB), so a session per client or per model class multiplied that. botocore sessions are
not safe to create clients from on several threads at once (the session host and the API run threads), so
every client is created under `SESSION_LOCK`; the clients themselves are thread-safe. The clients are
botocore's own (what boto3's `client()` returns too): importing boto3 would only add its resource layer
and s3transfer to every cold start.

No endpoint is passed: botocore reads `AWS_ENDPOINT_URL` and the per-service variables
(`AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL_DYNAMODB`, ...) itself, so the same code reaches AWS, the
local stack's moto server or LocalStack, and a user may point one service elsewhere.

The client types (`SQSClient`, ...) come from boto3-stubs, a development dependency: they are imported
for the type checker only, so the Lambda layer needs nothing more at run time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, overload

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from wacast.domain.errors import Unavailable

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sts import STSClient

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)
#: Presigned URLs signed with SigV4 (what every region takes), path-style when the endpoint is an IP (moto).
_S3_CONFIG = _CONFIG.merge(Config(signature_version="s3v4"))


#: Held while a client is created from the process's session (botocore sessions are not thread-safe).
SESSION_LOCK = threading.RLock()
_session: botocore.session.Session | None = None
_clients: dict[tuple[str, str], Any] = {}


def botocore_session() -> botocore.session.Session:
    """The process's one botocore session, made at first use. Create clients from it under `SESSION_LOCK`."""
    global _session
    with SESSION_LOCK:
        if _session is None:
            _session = botocore.session.get_session()
        return _session


@overload
def client(service: Literal["sqs"], region: str) -> SQSClient: ...
@overload
def client(service: Literal["scheduler"], region: str) -> EventBridgeSchedulerClient: ...
@overload
def client(service: Literal["cloudwatch"], region: str) -> CloudWatchClient: ...
@overload
def client(service: Literal["dynamodb"], region: str) -> DynamoDBClient: ...
@overload
def client(service: Literal["secretsmanager"], region: str) -> SecretsManagerClient: ...
@overload
def client(service: Literal["sts"], region: str) -> STSClient: ...
@overload
def client(service: Literal["s3"], region: str) -> S3Client: ...
def client(service: str, region: str) -> Any:
    """The process's client of `service` in `region`, made at first use (clients are thread-safe)."""
    key = (service, region)
    made = _clients.get(key)
    if made is None:
        with SESSION_LOCK:
            made = _clients.get(key)
            if made is None:
                config = _S3_CONFIG if service == "s3" else _CONFIG
                made = _clients[key] = botocore_session().create_client(service, region_name=region, config=config)
    return made


def error_details(exc: ClientError | BotoCoreError) -> dict[str, str] | None:
    """AWS's error code and message, or None when no answer came (a connection failure, a timeout)."""
    if not isinstance(exc, ClientError):
        return None
    error = exc.response.get("Error", {})
    return {"code": str(error.get("Code", "")), "message": str(error.get("Message", ""))}


@contextmanager
def unavailable_on_aws_failure(
    what: str, details: dict[str, Any] | None = None, *, with_aws_error: bool = False
) -> Iterator[None]:
    """Turn a failed AWS call (an error answer, ClientError, or none, BotoCoreError) into `Unavailable`
    ("could not {what}"), with `details`, or with AWS's error code and message when `with_aws_error`.

    The cases a caller handles itself (a schedule that does not exist, a move task already running) are
    caught inside the block, before they reach this translation."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise Unavailable(f"could not {what}", details=error_details(exc) if with_aws_error else details) from exc
