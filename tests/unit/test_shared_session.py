"""One botocore session per process: a session holds ~11 MB of endpoint and service data, and PynamoDB
would open one per model class and thread. Every PynamoDB model and every client of
`wacast.adapters.aws` come from the one session, created under a lock (sessions are not thread-safe),
and the models share one DynamoDB client. Making a client sends nothing: no socket is opened here."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import botocore.session
import pytest
from pynamodb.models import Model

import wacast.adapters.dynamo
from wacast.adapters import aws
from wacast.adapters.dynamo.table import TableModel, drop_connections

REGION = "us-east-1"


def every_model() -> list[type[Model]]:
    for module in pkgutil.iter_modules(wacast.adapters.dynamo.__path__):
        importlib.import_module(f"wacast.adapters.dynamo.{module.name}")
    found, stack = [], [TableModel]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


@pytest.fixture
def sessions_made(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """A process that has made no session yet; yields every botocore session made from then on."""
    made: list[Any] = []
    real_init = botocore.session.Session.__init__

    def counting_init(self: Any, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "__init__", counting_init)
    monkeypatch.setattr(aws, "_session", None)
    monkeypatch.setattr(aws, "_clients", {})
    drop_connections()
    yield made
    drop_connections()


def test_every_model_and_client_share_one_session_even_across_threads(sessions_made: list[Any]) -> None:
    models = every_model()
    assert len(models) > 5

    # when every model's connection makes its client, from 8 threads at once, and the boto clients are made
    def dynamodb_client(model: type[Model]) -> Any:
        return model._get_connection().connection.client

    with ThreadPoolExecutor(8) as pool:
        clients = list(pool.map(dynamodb_client, models * 4))
        queues = list(pool.map(lambda _: aws.client("sqs", REGION), range(8)))
    aws.client("scheduler", REGION)

    # then the process made one botocore session, one DynamoDB client and one SQS client
    assert len(sessions_made) == 1 and aws.botocore_session() is sessions_made[0]
    assert len({id(c) for c in clients}) == 1 and clients[0].meta.service_model.service_name == "dynamodb"
    assert len({id(q) for q in queues}) == 1


def test_a_dropped_connection_is_made_again_with_the_endpoint_botocore_reads_then(
    sessions_made: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = every_model()[-1]
    before = model._get_connection().connection.client
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    drop_connections()
    after = model._get_connection().connection.client
    assert after is not before and after.meta.endpoint_url == "http://127.0.0.1:9"
    assert len(sessions_made) == 1
