"""DynamoDB plumbing the data-access modules share: one connection for transactions."""

from __future__ import annotations

from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, UpdateError

from chalicelib.store.models import ApplicationModel

_connections: dict[tuple[str | None, str | None], Connection] = {}


def connection() -> Connection:
    """The connection for transactions on the stage's tables (one region and endpoint).

    Kept per process: a new pynamodb ``Connection`` starts a new botocore session, which loads
    the DynamoDB service model again (tens of milliseconds per transaction).
    """
    key = (ApplicationModel.Meta.region, ApplicationModel.Meta.host)
    found = _connections.get(key)
    if found is None:
        found = _connections[key] = Connection(region=key[0], host=key[1])
    return found


def condition_failed(exc: PutError | UpdateError) -> bool:
    """Whether a single-item write failed on its condition (rather than on anything else)."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"
