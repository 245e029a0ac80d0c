"""boto3 clients, built once per process, and the one translation of their failures into domain errors.

No endpoint is passed: botocore reads `AWS_ENDPOINT_URL` and the per-service variables
(`AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL_DYNAMODB`, ...) itself, so the same code reaches AWS, the
local stack's moto server or LocalStack, and a user may point one service elsewhere.

The client types (`SQSClient`, ...) come from boto3-stubs, a development dependency: they are imported
for the type checker only, so the Lambda layer needs nothing more at run time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from wacast.domain.errors import Unavailable

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sts import STSClient

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)


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
def client(service: str, region: str) -> Any:
    """A shared boto3 client (boto3 clients are thread-safe; sessions are not)."""
    return _client(service, region)


@lru_cache(maxsize=32)
def _client(service: str, region: str) -> Any:
    session: Any = boto3.session.Session()  # typed per service by the overloads above
    return session.client(service, region_name=region, config=_CONFIG)


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
