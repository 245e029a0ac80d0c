"""boto3 clients, built once per process.

No endpoint is passed: botocore reads `AWS_ENDPOINT_URL` and the per-service variables
(`AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL_DYNAMODB`, ...) itself, so the same code reaches AWS, the
local stack's moto server or LocalStack, and a user may point one service elsewhere.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)


@lru_cache(maxsize=32)
def client(service: str, region: str) -> Any:
    """A shared boto3 client (boto3 clients are thread-safe; sessions are not)."""
    return boto3.session.Session().client(service, region_name=region, config=_CONFIG)
