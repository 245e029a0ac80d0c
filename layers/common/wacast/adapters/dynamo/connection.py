"""PynamoDB's connections on the process's one botocore session and one DynamoDB client.

PynamoDB 6.1 gives each model class a connection of its own, and each connection a botocore session per
thread (`get_session()`, ~11 MB of endpoint and service data each) and a client with its own pool of HTTP
connections (a TLS handshake per model class on a cold start). It has no setting to share them, so
`TableModel._get_connection` hands every connection it makes to `share_client`: the model keeps its own
connection (its table's schema), and the connection makes its client from the session of
`wacast.adapters.aws` (every boto client of the process comes from it) once per process and endpoint.
Clients are thread-safe; creating one from a session is not, so it happens under `SESSION_LOCK`.
"""

from __future__ import annotations

from typing import Any

import botocore.session
from pynamodb.connection.base import Connection
from pynamodb.connection.table import TableConnection

from wacast.adapters.aws import SESSION_LOCK, botocore_session

#: The DynamoDB client of each (region, endpoint) the models are bound to, shared by every model class.
_clients: dict[tuple[str, str | None], Any] = {}


class SharedClientConnection(Connection):
    """A PynamoDB connection whose client is the process's one DynamoDB client for its region and endpoint.

    Every wacast model has the same client settings (`TableModel.Meta`), so one client serves them all."""

    @property
    def session(self) -> botocore.session.Session:
        return botocore_session()

    @property
    def client(self) -> Any:
        key = (self.region, self.host)
        shared = _clients.get(key)
        if shared is None or not _has_credentials(shared):
            with SESSION_LOCK:
                shared = _clients.get(key)
                if shared is None or not _has_credentials(shared):
                    self._client = None  # PynamoDB's own rule: a client that found no credentials is made again
                    shared = _clients[key] = super().client
        return shared


def _has_credentials(client: Any) -> bool:
    signer = client._request_signer
    return not signer or bool(signer._credentials)


def share_client(table_connection: TableConnection) -> TableConnection:
    """Put a connection PynamoDB just made on the shared client. Its state (region, endpoint, settings, the
    table's schema) stays as PynamoDB built it: only where the client comes from changes."""
    if type(table_connection.connection) is Connection:
        table_connection.connection.__class__ = SharedClientConnection
    return table_connection


def drop_clients() -> None:
    """Forget the shared clients: the next call makes one with the endpoint botocore reads then."""
    with SESSION_LOCK:
        _clients.clear()
