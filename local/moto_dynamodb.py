"""Make moto's DynamoDB behave as DynamoDB does under concurrent, sustained load.

DynamoDB applies each write (and each TransactWriteItems as a whole) atomically. moto 5
does not once several threads call it: its TransactWriteItems checks conditions and
writes item by item, and when one condition fails it restores a deep copy of every
table taken when the transaction began, undoing whatever other threads wrote meanwhile.
Local mode (ThreadingHTTPServer, the moto server's threads), the load benchmark and the
concurrency tests would then lose or double messages that DynamoDB keeps exactly once.

`install()` patches moto in this process, once:
- every request of moto's DynamoDB backend runs under one re-entrant lock: requests
  become serial, each one atomic, which is stricter than DynamoDB (it runs requests on
  different items in parallel) but never weaker;
- TransactWriteItems keeps a journal of the items it touches (and where each table's
  stream ended) instead of moto's deep copy of every table it names: a cancelled
  transaction restores those items and drops its stream records, as before, but a
  transaction costs what it touches rather than the size of the table;
- moto stops keeping a reference to every model object it ever created (for its web
  dashboard, which nothing here uses). With that list, every table copy above was kept
  forever: local mode grew by megabytes per inbound text under load;
- a stream's shard iterators expire 15 minutes after they are issued, as DynamoDB
  Streams' do (moto kept each one, and a poller gets a new one every second);
- a stream keeps its records STREAM_RETENTION_SECONDS, then trims them (the trim horizon
  moves on, and reading behind it is DynamoDB's TrimmedDataAccessException). DynamoDB
  keeps them 24 hours; local mode, whose pollers read within a second, keeps five
  minutes, so that a long-running local mode does not hold every write twice.
"""

from __future__ import annotations

import copy
import functools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from moto.core.common_models import BaseModel
from moto.core.exceptions import JsonRESTError
from moto.core.model_instances import reset_model_data
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamShard, Table
from moto.dynamodbstreams.models import DynamoDBStreamsBackend

# Reads too: a Query must not see a transaction half-applied (or rolled back under it).
_OPERATIONS = (
    "batch_get_item",
    "batch_write_item",
    "create_backup",
    "delete_item",
    "get_item",
    "put_item",
    "query",
    "restore_table_from_backup",
    "restore_table_to_point_in_time",
    "scan",
    "transact_get_items",
    "update_item",
)
_LOCK = threading.RLock()
_MARK = "_quietline_serialized"
# `journaling` is set while this thread runs a journaled TransactWriteItems (under _LOCK).
_transaction = threading.local()
ITERATOR_LIFETIME_SECONDS = 15 * 60
STREAM_RETENTION_SECONDS = 5 * 60
_now = time.time  # the tests move it on (wall time: a saved local mode keeps its meaning)
_BORN = "_quietline_born"  # on a StreamShard: when each of its records was written


def _serialized(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    setattr(locked, _MARK, True)
    return locked


@dataclass
class _Touched:
    table: Table
    hash_key: DynamoType
    range_key: DynamoType | None
    before: Item | None


class _Journal:
    """What a transaction may change: each item it names, as it was, and each table's
    stream length. Restoring puts exactly that back."""

    def __init__(self, backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        self._touched: list[_Touched] = []
        self._stream_ends: dict[int, tuple[Table, int]] = {}  # the next sequence number
        for entry in transact_items:
            for op_type, op in entry.items():
                self._remember(backend, op_type, op)

    def _remember(self, backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> None:
        table = backend.tables.get(op.get("TableName", ""))
        if table is None:
            return  # moto raises ResourceNotFound before it writes anything
        key = op.get("Item") if op_type == "Put" else op.get("Key")
        if not isinstance(key, dict) or table.hash_key_attr not in key:
            return  # malformed: moto refuses it before writing
        hash_key = DynamoType(key[table.hash_key_attr])
        range_attr = table.range_key_attr
        range_key = DynamoType(key[range_attr]) if range_attr and range_attr in key else None
        current = table.get_item(hash_key, range_key) if range_attr is None or range_key else None
        before = copy.deepcopy(current) if current is not None else None  # updates mutate in place
        self._touched.append(_Touched(table, hash_key, range_key, before))
        shard = table.stream_shard
        if shard is not None and id(table) not in self._stream_ends:
            self._stream_ends[id(table)] = (
                table,
                shard.starting_sequence_number + len(shard.items),
            )

    def restore(self) -> None:
        for touched in reversed(self._touched):
            items: Any = touched.table.items
            if touched.range_key is None:
                if touched.before is None:
                    items.pop(touched.hash_key, None)
                else:
                    items[touched.hash_key] = touched.before
                continue
            rows = items[touched.hash_key]
            if touched.before is None:
                rows.pop(touched.range_key, None)
                if not rows:
                    items.pop(touched.hash_key, None)
            else:
                rows[touched.range_key] = touched.before
        for table, end in self._stream_ends.values():
            shard = table.stream_shard
            if shard is not None:
                keep = max(end - shard.starting_sequence_number, 0)
                born: deque[float] = shard.__dict__.get(_BORN, deque())
                for _ in range(len(shard.items) - keep):
                    born.pop()
                del shard.items[keep:]


def _table_deepcopy(table: Table, memo: dict[int, Any]) -> Table:
    if getattr(_transaction, "journaling", False):
        # moto's rollback snapshot inside a journaled transaction: the journal restores
        # instead, so the "snapshot" is the live table and moto's restore is a no-op.
        return table
    # Anything else (backups): the copy deepcopy would make without this hook.
    snapshot: Table = object.__new__(Table)  # type: ignore[type-abstract]
    memo[id(table)] = snapshot
    for name, value in table.__dict__.items():
        setattr(snapshot, name, copy.deepcopy(value, memo))
    return snapshot


@contextmanager
def _journaled(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Iterator[None]:
    journal = _Journal(backend, transact_items)
    _transaction.journaling = True
    try:
        yield
    except BaseException:
        journal.restore()
        raise
    finally:
        _transaction.journaling = False


def _transact_write_items(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def journaled(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Any:
        with _LOCK, _journaled(self, transact_items):
            return method(self, transact_items)

    setattr(journaled, _MARK, True)
    return journaled


def _retaining_add(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def add(self: StreamShard, old: Item | None, new: Item | None) -> None:
        method(self, old, new)
        now = _now()
        born: deque[float] = self.__dict__.setdefault(_BORN, deque())
        born.append(now)
        trimmed = 0
        while born and now - born[0] > STREAM_RETENTION_SECONDS:
            born.popleft()
            trimmed += 1
        if trimmed:
            del self.items[:trimmed]
            self.starting_sequence_number += trimmed

    setattr(add, _MARK, True)
    return add


class TrimmedDataAccessError(JsonRESTError):
    def __init__(self) -> None:
        super().__init__("TrimmedDataAccessException", "Records beyond the trim horizon")


def _trim_aware_get(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def get(self: StreamShard, start: int, quantity: int) -> Any:
        if start < self.starting_sequence_number:
            raise TrimmedDataAccessError()
        return method(self, start, quantity)

    setattr(get, _MARK, True)
    return get


class ExpiredIteratorError(JsonRESTError):
    def __init__(self) -> None:
        super().__init__("ExpiredIteratorException", "Iterator expired")


def _issued(backend: DynamoDBStreamsBackend) -> deque[tuple[float, str]]:
    issued: deque[tuple[float, str]] = backend.__dict__.setdefault("_quietline_issued", deque())
    return issued


def _expire_iterators(backend: DynamoDBStreamsBackend, now: float) -> None:
    issued = _issued(backend)
    while issued and now - issued[0][0] > ITERATOR_LIFETIME_SECONDS:
        backend.shard_iterators.pop(issued.popleft()[1], None)


def _expiring_get_shard_iterator(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def get_shard_iterator(self: DynamoDBStreamsBackend, *args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            iterator = method(self, *args, **kwargs)
            now = _now()
            _issued(self).append((now, iterator.arn))
            _expire_iterators(self, now)
            return iterator

    setattr(get_shard_iterator, _MARK, True)
    return get_shard_iterator


def _expiring_get_records(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def get_records(self: DynamoDBStreamsBackend, iterator_arn: str, limit: int) -> Any:
        with _LOCK:
            now = _now()
            _expire_iterators(self, now)
            if iterator_arn not in self.shard_iterators:
                raise ExpiredIteratorError()
            page = method(self, iterator_arn, limit)
            _issued(self).append((now, page["NextShardIterator"]))
            return page

    setattr(get_records, _MARK, True)
    return get_records


def _untracked_new(cls: type[BaseModel], *args: Any, **kwargs: Any) -> Any:
    return super(BaseModel, cls).__new__(cls)


def install() -> None:
    """Patch moto's DynamoDB backend (and its model tracking) once per process."""
    for name in _OPERATIONS:
        method = getattr(DynamoDBBackend, name, None)
        if method is not None and not getattr(method, _MARK, False):
            setattr(DynamoDBBackend, name, _serialized(method))
    transact = DynamoDBBackend.transact_write_items
    if not getattr(transact, _MARK, False):
        DynamoDBBackend.transact_write_items = _transact_write_items(transact)  # type: ignore[method-assign]
    Table.__deepcopy__ = _table_deepcopy  # type: ignore[attr-defined]
    if not getattr(StreamShard.add, _MARK, False):
        StreamShard.add = _retaining_add(StreamShard.add)  # type: ignore[method-assign]
        StreamShard.get = _trim_aware_get(StreamShard.get)  # type: ignore[method-assign]
    streams = DynamoDBStreamsBackend
    if not getattr(streams.get_records, _MARK, False):
        streams.get_records = _expiring_get_records(streams.get_records)  # type: ignore[method-assign]
        streams.get_shard_iterator = _expiring_get_shard_iterator(  # type: ignore[method-assign]
            streams.get_shard_iterator
        )
    if BaseModel.__new__ is not _untracked_new:
        BaseModel.__new__ = staticmethod(_untracked_new)  # type: ignore[assignment]
        reset_model_data()  # drop what was tracked before install


def installed() -> bool:
    return (
        all(getattr(getattr(DynamoDBBackend, name, None), _MARK, False) for name in _OPERATIONS)
        and getattr(DynamoDBBackend.transact_write_items, _MARK, False)
        and getattr(Table, "__deepcopy__", None) is _table_deepcopy
        and BaseModel.__new__ is _untracked_new
        and getattr(DynamoDBStreamsBackend.get_records, _MARK, False)
        and getattr(StreamShard.add, _MARK, False)
    )
