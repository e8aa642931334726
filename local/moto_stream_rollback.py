"""Keep DynamoDB stream iterators working after a TransactWriteItems fails, as in DynamoDB.

When one condition of a TransactWriteItems fails, moto 5 rolls back by putting deep
copies of the tables (taken when the transaction began) in place of the live ones. A
shard iterator handed out before then still points at the old table's stream shard,
which no write reaches again: the stream consumer reads nothing more, for good. Local
mode's audit sealer hit this on restart (replayed events fail their "not yet sealed"
condition), and it is a likely cause of the staff notifier's stall noted in runtime.py
(a duplicate inbound text fails its transaction the same way).

`install()` moves the rolled-back records into the original shard object and puts that
object back on the restored table, so every iterator keeps reading the live stream.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

from local import moto_dynamodb

_MARK = "_quietline_keeps_shards"


def _keeping_shards(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def transact_write_items(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        # The same lock moto_dynamodb serializes requests with (re-entrant), so no other
        # request sees the table between the rollback and the shard being put back.
        with moto_dynamodb._LOCK:
            shards = {
                name: table.stream_shard
                for name, table in self.tables.items()
                if table.stream_shard is not None
            }
            try:
                return method(self, *args, **kwargs)
            finally:
                for name, shard in shards.items():
                    table = self.tables.get(name)
                    if table is None or table.stream_shard in (None, shard):
                        continue
                    shard.items = table.stream_shard.items  # the records as rolled back
                    shard.table = table
                    table.stream_shard = shard

    setattr(transact_write_items, _MARK, True)
    return transact_write_items


def install() -> None:
    """Patch moto's DynamoDB backend once per process (idempotent)."""
    current = DynamoDBBackend.transact_write_items
    if not getattr(current, _MARK, False):
        DynamoDBBackend.transact_write_items = _keeping_shards(current)  # type: ignore[method-assign]


def installed() -> bool:
    return bool(getattr(DynamoDBBackend.transact_write_items, _MARK, False))
