"""Make moto's DynamoDB isolate concurrent requests, as DynamoDB does.

DynamoDB applies each write (and each TransactWriteItems as a whole) atomically. moto 5
does not once several threads call it: its TransactWriteItems checks conditions and
writes item by item, and when one condition fails it restores a deep copy of every
table taken when the transaction began, undoing whatever other threads wrote meanwhile.
Local mode (ThreadingHTTPServer, the moto server's threads), the load benchmark and the
concurrency tests would then lose or double messages that DynamoDB keeps exactly once.

`install()` runs every request of moto's DynamoDB backend under one re-entrant lock:
requests become serial, each one atomic, which is stricter than DynamoDB (it runs
requests on different items in parallel) but never weaker.

It also keeps that rollback snapshot from deep-copying a table's stream: moto keeps every
stream record forever and copied them all on each TransactWriteItems (three times for
an inbound text's three items), so each transaction grew slower with every write.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamShard

# Reads too: a Query must not see a transaction half-applied (or rolled back under it).
_OPERATIONS = (
    "batch_get_item",
    "batch_write_item",
    "delete_item",
    "get_item",
    "put_item",
    "query",
    "scan",
    "transact_get_items",
    "transact_write_items",
    "update_item",
)
_LOCK = threading.RLock()
_MARK = "_quietline_serialized"


def _serialized(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    setattr(locked, _MARK, True)
    return locked


def _snapshot_of_shard(shard: StreamShard, memo: dict[int, Any]) -> StreamShard:
    """A stream shard in a table snapshot: the same records (moto never changes one once
    written) in a list of its own, so a rolled-back transaction's records are dropped
    exactly as before, at the cost of a list copy instead of a deep copy of each."""
    snapshot = copy.copy(shard)
    memo[id(shard)] = snapshot
    snapshot.table = copy.deepcopy(shard.table, memo)
    snapshot.items = list(shard.items)
    return snapshot


def install() -> None:
    """Patch moto's DynamoDB backend once per process (idempotent)."""
    for name in _OPERATIONS:
        method = getattr(DynamoDBBackend, name, None)
        if method is not None and not getattr(method, _MARK, False):
            setattr(DynamoDBBackend, name, _serialized(method))
    StreamShard.__deepcopy__ = _snapshot_of_shard  # type: ignore[method-assign,attr-defined]


def installed() -> bool:
    return (
        all(getattr(getattr(DynamoDBBackend, name, None), _MARK, False) for name in _OPERATIONS)
        and getattr(StreamShard, "__deepcopy__", None) is _snapshot_of_shard
    )
