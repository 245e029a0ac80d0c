"""boto3 clients, built once per process, against AWS_ENDPOINT_URL when it is set (moto, LocalStack)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)


@lru_cache(maxsize=32)
def client(service: str, region: str, endpoint_url: str | None) -> Any:
    """A shared boto3 client (boto3 clients are thread-safe; sessions are not)."""
    return boto3.session.Session().client(service, region_name=region, endpoint_url=endpoint_url, config=_CONFIG)
