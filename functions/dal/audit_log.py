"""The audit table: append-only (the writer only ever creates items), hash-chained per tenant.

    AUDIT#<tenant>   <seq, 12 digits>   event fields, prev_hash, hash, at_seq, expires_at

Appending reads the tenant's newest link and creates the next with a condition that it
does not exist yet; a concurrent writer that took the number first makes us re-read and
retry, so the chain never forks.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import asdict
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.core.concurrency import start
from functions.core.errors import ConflictError, QuietlineError
from functions.dal import aws
from functions.dal.schema import (
    AUDIT_PARTITION_KEY,
    AUDIT_SORT_KEY,
    AUDIT_TIME_INDEX,
    AUDIT_TIME_KEY,
    TTL_ATTRIBUTE,
)
from functions.logic.audit import AuditEvent
from functions.logic.audit_chain import GENESIS, ChainedEvent, event_from_dict, link_hash

_MAX_ATTEMPTS = 8
_EVENT_FIELDS = tuple(AuditEvent.__dataclass_fields__)


def partition_key(tenant_id: str) -> str:
    """The tenant's partition of the audit table (also how CloudTrail names its appends)."""
    return f"AUDIT#{tenant_id}"


def _partition(tenant_id: str) -> dict[str, Any]:
    return {
        "KeyConditionExpression": "#pk = :pk",
        "ExpressionAttributeNames": {"#pk": AUDIT_PARTITION_KEY},
        "ExpressionAttributeValues": {":pk": partition_key(tenant_id)},
    }


def _seq(number: int) -> str:
    return f"{number:012d}"


def _chained(item: dict[str, Any]) -> ChainedEvent:
    return ChainedEvent(
        int(item[AUDIT_SORT_KEY]),
        event_from_dict({name: item.get(name) for name in _EVENT_FIELDS}),
        str(item["prev_hash"]),
        str(item["hash"]),
    )


class DynamoDbAuditLog:
    """AuditSink that appends to the chain; also reads it for export and verification."""

    def __init__(self, table: Any, *, retention_days: int) -> None:
        self._table = aws.TableClient(table)
        self._retention_seconds = retention_days * 86_400
        self._heads_read_ahead: dict[str, Future[ChainedEvent | None]] = {}

    def expect(self, tenant_id: str) -> None:
        """Read the tenant's chain head now, while the caller does its own work.

        The next `record` for the tenant then appends in one round trip, not two. The
        head may be stale by then (another writer appended): the conditional put fails
        and `record` re-reads, exactly as for any concurrent writer, so the chain holds.
        """
        self._heads_read_ahead[tenant_id] = start(lambda: self._head(tenant_id))

    def record(self, event: AuditEvent) -> None:
        read_ahead = self._heads_read_ahead.pop(event.tenant_id, None)
        for _ in range(_MAX_ATTEMPTS):
            head = self._head(event.tenant_id, read_ahead)
            read_ahead = None
            seq = head.seq + 1 if head else 1
            previous = head.hash if head else GENESIS
            item: dict[str, Any] = {
                AUDIT_PARTITION_KEY: partition_key(event.tenant_id),
                AUDIT_SORT_KEY: _seq(seq),
                AUDIT_TIME_KEY: f"{event.at}#{_seq(seq)}",
                **{k: v for k, v in asdict(event).items()},
                "prev_hash": previous,
                "hash": link_hash(previous, event),
            }
            item[TTL_ATTRIBUTE] = _epoch(event.at) + self._retention_seconds
            try:
                self._table.put_item(
                    Item=item, ConditionExpression=f"attribute_not_exists({AUDIT_SORT_KEY})"
                )
                return
            except ClientError as error:
                if aws.error_code(error) != "ConditionalCheckFailedException":
                    raise aws.translate(error, "PutItem audit") from None
            except BotoCoreError as error:
                raise aws.translate(error, "PutItem audit") from None
        raise ConflictError("audit chain busy: too many concurrent writers")

    def _head(
        self, tenant_id: str, read_ahead: Future[ChainedEvent | None] | None = None
    ) -> ChainedEvent | None:
        if read_ahead is not None:
            try:
                return read_ahead.result()
            except QuietlineError:
                pass  # read it again below: the fault may have been transient
        try:
            items = self._table.query(
                **_partition(tenant_id),
                ScanIndexForward=False,
                Limit=1,
                ConsistentRead=True,
            ).get("Items", [])
        except (ClientError, BotoCoreError) as error:
            raise aws.translate(error, "Query audit head") from None
        return _chained(items[0]) if items else None

    def chain(self, tenant_id: str) -> Iterator[ChainedEvent]:
        """Every link of the tenant's chain, in sequence order (for verification)."""
        yield from self._query({**_partition(tenant_id), "ConsistentRead": True})

    def between(self, tenant_id: str, start: str, end: str) -> Iterator[ChainedEvent]:
        """Events with start <= at < end (ISO-8601), oldest first (for export)."""
        yield from self._query(
            {
                "IndexName": AUDIT_TIME_INDEX,
                # at_seq is "<at>#<seq>": an event at exactly `end` sorts after `end`.
                "KeyConditionExpression": "#pk = :pk AND #at BETWEEN :start AND :end",
                "ExpressionAttributeNames": {"#pk": AUDIT_PARTITION_KEY, "#at": AUDIT_TIME_KEY},
                "ExpressionAttributeValues": {
                    ":pk": partition_key(tenant_id),
                    ":start": start,
                    ":end": end,
                },
            }
        )

    def _query(self, query: dict[str, Any]) -> Iterator[ChainedEvent]:
        start: dict[str, Any] | None = None
        while True:
            page = {**query, **({"ExclusiveStartKey": start} if start else {})}
            try:
                response = self._table.query(**page)
            except (ClientError, BotoCoreError) as error:
                raise aws.translate(error, "Query audit") from None
            for item in response.get("Items", []):
                yield _chained(item)
            start = response.get("LastEvaluatedKey")
            if not start:
                return


def _epoch(iso_time: str) -> int:
    return int(datetime.fromisoformat(iso_time.replace("Z", "+00:00")).timestamp())
