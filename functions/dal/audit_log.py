"""The audit table: events appended without contention, sealed into a chain off the path.

    AUDIT#<tenant>  E#<at>#<random id>    event fields, at_seq, expires_at   (the request)
    AUDIT#<tenant>  S#<seq, 12 digits>    event_key, event_hash, prev_hash, hash,
                                          prior_expiry, expires_at, sealed_at   (the sealer)
    AUDIT#<tenant>  M#<event key>         seal_seq, expires_at                  (the sealer)

An append is one PutItem of a key no other writer can hold (a random id), so concurrent
requests never conflict and nothing is read first. The sealer (handlers/audit_sealer.py)
gets each new event from the table's stream and writes its link and marker in one
transaction (functions/logic/audit_seal.py). Every item expires with its event.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import BotoCoreError, ClientError

from functions.core.errors import ConflictError, ThrottledError, ValidationError
from functions.dal import aws
from functions.dal.schema import (
    AUDIT_EVENT_PREFIX,
    AUDIT_MARKER_PREFIX,
    AUDIT_PARTITION_KEY,
    AUDIT_SEAL_PREFIX,
    AUDIT_SORT_KEY,
    AUDIT_TIME_INDEX,
    AUDIT_TIME_KEY,
    TTL_ATTRIBUTE,
)
from functions.logic.audit import AuditEvent
from functions.logic.audit_chain import (
    SealLink,
    StoredEvent,
    event_from_dict,
    parse_time,
)
from functions.logic.audit_seal import SealWrite

_EVENT_FIELDS = tuple(AuditEvent.__dataclass_fields__)
_ID_BYTES = 10  # 80 random bits: two appends never pick the same key
_MAX_APPEND_ATTEMPTS = 3
_BATCH_GET_MAX = 100  # DynamoDB's BatchGetItem limit
_BATCH_GET_ATTEMPTS = 8
_CONDITION_FAILED = "ConditionalCheckFailed"
_deserializer = TypeDeserializer()


# --- keys (persisted format: tests/unit/test_audit_chain.py pins them) ----------------------
def partition_key(tenant_id: str) -> str:
    """The tenant's partition of the audit table (also how CloudTrail names its appends)."""
    return f"AUDIT#{tenant_id}"


def event_key(at: str, event_id: str) -> str:
    """Sorts by time; the random id makes it unique without asking anyone."""
    return f"{AUDIT_EVENT_PREFIX}{at}#{event_id}"


def seal_key(seq: int) -> str:
    return f"{AUDIT_SEAL_PREFIX}{seq:012d}"


def marker_key(key_of_event: str) -> str:
    """Sorts as the event's key does, so markers and events can be read side by side."""
    return f"{AUDIT_MARKER_PREFIX}{key_of_event}"


def is_event_key(key: str) -> bool:
    return key.startswith(AUDIT_EVENT_PREFIX)


def time_key(key_of_event: str) -> str:
    """The LSI sort key: "<at>#<id>", so an event at exactly `end` sorts after `end`."""
    return key_of_event.removeprefix(AUDIT_EVENT_PREFIX)


# --- items --------------------------------------------------------------------------------
def _stored(item: Mapping[str, Any]) -> StoredEvent:
    return StoredEvent(
        key=str(item[AUDIT_SORT_KEY]),
        event=event_from_dict({name: item.get(name) for name in _EVENT_FIELDS}),
        expires_at=int(item[TTL_ATTRIBUTE]),
    )


def _link(item: Mapping[str, Any]) -> SealLink:
    return SealLink(
        seq=int(str(item[AUDIT_SORT_KEY]).removeprefix(AUDIT_SEAL_PREFIX)),
        event_key=str(item["event_key"]),
        event_hash=str(item["event_hash"]),
        expires_at=int(item[TTL_ATTRIBUTE]),
        prior_expiry=int(item["prior_expiry"]),
        prev_hash=str(item["prev_hash"]),
        hash=str(item["hash"]),
        sealed_at=str(item.get("sealed_at", "")),
    )


def stored_event_from_stream(record: Mapping[str, Any]) -> StoredEvent | None:
    """The event a DynamoDB Streams record inserted; None for any other record (a seal, a
    marker, a change or a TTL deletion: the event filter already keeps those away)."""
    if record.get("eventName") != "INSERT":
        return None
    image: Mapping[str, Any] = (record.get("dynamodb") or {}).get("NewImage") or {}
    if not is_event_key(str((image.get(AUDIT_SORT_KEY) or {}).get("S", ""))):
        return None
    try:
        item = {name: _deserializer.deserialize(value) for name, value in image.items()}
        stored = _stored(item)
    except (KeyError, TypeError, ValueError):
        raise ValidationError("audit stream record", "is not an audit event") from None
    if item.get(AUDIT_PARTITION_KEY) != partition_key(stored.event.tenant_id):
        raise ValidationError("audit stream record", "is not in its tenant's partition")
    return stored


class DynamoDbAuditLog:
    """AuditSink (appends), SealRepository (the sealer) and the reads of export and verify."""

    def __init__(self, table: Any, *, retention_days: int) -> None:
        self._table = aws.TableClient(table)
        self._client = table.meta.client  # BatchGetItem, which TableClient does not wrap
        self._retention_seconds = retention_days * 86_400

    # --- appending (the request path) ------------------------------------------------------
    def record(self, event: AuditEvent) -> None:
        self.append(event)

    def append(self, event: AuditEvent) -> str:
        """Write the event under a new key; returns the key. Reads nothing first."""
        for _ in range(_MAX_APPEND_ATTEMPTS):
            key = event_key(event.at, secrets.token_hex(_ID_BYTES))
            item: dict[str, Any] = {
                AUDIT_PARTITION_KEY: partition_key(event.tenant_id),
                AUDIT_SORT_KEY: key,
                AUDIT_TIME_KEY: time_key(key),
                **asdict(event),
                TTL_ATTRIBUTE: int(parse_time(event.at).timestamp()) + self._retention_seconds,
            }
            try:
                # Only a writer that drew the same 80 random bits could fail this.
                self._table.put_item(
                    Item=item, ConditionExpression=f"attribute_not_exists({AUDIT_SORT_KEY})"
                )
                return key
            except ClientError as error:
                if aws.error_code(error) != "ConditionalCheckFailedException":
                    raise aws.translate(error, "PutItem audit") from None
            except BotoCoreError as error:
                raise aws.translate(error, "PutItem audit") from None
        raise ConflictError("audit append: no free key")  # pragma: no cover - 2^-80 odds

    # --- sealing (the stream consumer) -------------------------------------------------------
    def head(self, tenant_id: str) -> SealLink | None:
        items = self._query_page(
            self._prefix(tenant_id, AUDIT_SEAL_PREFIX),
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        return _link(items[0]) if items else None

    def append_seal(self, tenant_id: str, link: SealLink) -> SealWrite:
        partition = partition_key(tenant_id)
        seal: dict[str, Any] = {
            AUDIT_PARTITION_KEY: partition,
            AUDIT_SORT_KEY: seal_key(link.seq),
            "event_key": link.event_key,
            "event_hash": link.event_hash,
            "prior_expiry": link.prior_expiry,
            "prev_hash": link.prev_hash,
            "hash": link.hash,
            "sealed_at": link.sealed_at,
            TTL_ATTRIBUTE: link.expires_at,
        }
        marker: dict[str, Any] = {
            AUDIT_PARTITION_KEY: partition,
            AUDIT_SORT_KEY: marker_key(link.event_key),
            "seal_seq": link.seq,
            TTL_ATTRIBUTE: link.expires_at,
        }
        absent = f"attribute_not_exists({AUDIT_SORT_KEY})"
        try:
            self._table.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table.name,
                            "Item": i,
                            "ConditionExpression": absent,
                        }
                    }
                    for i in (seal, marker)
                ]
            )
        except ClientError as error:
            if aws.error_code(error) == "TransactionCanceledException":
                codes = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
                if len(codes) == 2 and codes[1] == _CONDITION_FAILED:
                    return SealWrite.ALREADY_SEALED
                if len(codes) == 2 and codes[0] == _CONDITION_FAILED:
                    return SealWrite.SEQ_TAKEN
            raise aws.translate(error, "TransactWriteItems audit seal") from None
        except BotoCoreError as error:
            raise aws.translate(error, "TransactWriteItems audit seal") from None
        return SealWrite.SEALED

    # --- reading (export and verify) -----------------------------------------------------------
    def between(self, tenant_id: str, start: str, end: str) -> Iterator[StoredEvent]:
        """Events with start <= at < end (ISO-8601), oldest first (for export)."""
        query = {
            "IndexName": AUDIT_TIME_INDEX,
            "KeyConditionExpression": "#pk = :pk AND #at BETWEEN :start AND :end",
            "ExpressionAttributeNames": {"#pk": AUDIT_PARTITION_KEY, "#at": AUDIT_TIME_KEY},
            "ExpressionAttributeValues": {
                ":pk": partition_key(tenant_id),
                ":start": start,
                ":end": end,
            },
        }
        for item in self._query(query):
            yield _stored(item)

    def events(self, tenant_id: str) -> Iterator[StoredEvent]:
        """Every event of the tenant, sealed or not, in key (time) order."""
        for item in self._query(
            {**self._prefix(tenant_id, AUDIT_EVENT_PREFIX), "ConsistentRead": True}
        ):
            yield _stored(item)

    def markers(self, tenant_id: str) -> Iterator[tuple[str, int]]:
        """(event key, sealing link) of every sealed event, in event-key order."""
        query = {**self._prefix(tenant_id, AUDIT_MARKER_PREFIX), "ConsistentRead": True}
        for item in self._query(query):
            key = str(item[AUDIT_SORT_KEY]).removeprefix(AUDIT_MARKER_PREFIX)
            yield key, int(item["seal_seq"])

    def seals(self, tenant_id: str, up_to: int) -> Iterator[tuple[SealLink, StoredEvent | None]]:
        """Links 1..up_to present, in order, each with its event (None: not in the table)."""
        if up_to < 1:
            return
        query = {
            "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :first AND :last",
            "ExpressionAttributeNames": {"#pk": AUDIT_PARTITION_KEY, "#sk": AUDIT_SORT_KEY},
            "ExpressionAttributeValues": {
                ":pk": partition_key(tenant_id),
                ":first": seal_key(1),
                ":last": seal_key(up_to),
            },
            "ConsistentRead": True,
        }
        page: list[SealLink] = []
        for item in self._query(query):
            page.append(_link(item))
            if len(page) == _BATCH_GET_MAX:
                yield from self._with_events(tenant_id, page)
                page = []
        yield from self._with_events(tenant_id, page)

    def event_keys_since(self, tenant_id: str, first_key: str) -> set[str]:
        """Keys of the tenant's events from `first_key` on (the trail comparison's window)."""
        query = {
            "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :first AND :last",
            "ExpressionAttributeNames": {"#pk": AUDIT_PARTITION_KEY, "#sk": AUDIT_SORT_KEY},
            "ExpressionAttributeValues": {
                ":pk": partition_key(tenant_id),
                ":first": first_key,
                # '$' follows '#': the upper end of every "E#..." key.
                ":last": AUDIT_EVENT_PREFIX[:-1] + "$",
            },
            "ProjectionExpression": "#sk",
            "ConsistentRead": True,
        }
        return {str(item[AUDIT_SORT_KEY]) for item in self._query(query)}

    # --- helpers -----------------------------------------------------------------------------
    @staticmethod
    def _prefix(tenant_id: str, prefix: str) -> dict[str, Any]:
        return {
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
            "ExpressionAttributeNames": {"#pk": AUDIT_PARTITION_KEY, "#sk": AUDIT_SORT_KEY},
            "ExpressionAttributeValues": {":pk": partition_key(tenant_id), ":prefix": prefix},
        }

    def _with_events(
        self, tenant_id: str, links: list[SealLink]
    ) -> Iterator[tuple[SealLink, StoredEvent | None]]:
        found = self._get_events(tenant_id, [link.event_key for link in links])
        for link in links:
            yield link, found.get(link.event_key)

    def _get_events(self, tenant_id: str, keys: list[str]) -> dict[str, StoredEvent]:
        partition = partition_key(tenant_id)
        pending: list[dict[str, Any]] = [
            {AUDIT_PARTITION_KEY: partition, AUDIT_SORT_KEY: key} for key in dict.fromkeys(keys)
        ]
        found: dict[str, StoredEvent] = {}
        for attempt in range(_BATCH_GET_ATTEMPTS):
            if not pending:
                return found
            if attempt:
                time.sleep(min(0.05 * 2**attempt, 2.0))  # unprocessed keys: throttled
            request = {self._table.name: {"Keys": pending, "ConsistentRead": True}}
            try:
                response = self._client.batch_get_item(RequestItems=request)
            except (ClientError, BotoCoreError) as error:
                raise aws.translate(error, "BatchGetItem audit") from None
            for item in response.get("Responses", {}).get(self._table.name, []):
                stored = _stored(item)
                found[stored.key] = stored
            pending = response.get("UnprocessedKeys", {}).get(self._table.name, {}).get("Keys", [])
        if pending:
            raise ThrottledError("BatchGetItem audit: keys left unprocessed")
        return found

    def _query_page(self, query: dict[str, Any], **extra: Any) -> list[dict[str, Any]]:
        try:
            items: list[dict[str, Any]] = self._table.query(**query, **extra).get("Items", [])
        except (ClientError, BotoCoreError) as error:
            raise aws.translate(error, "Query audit") from None
        return items

    def _query(self, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
        return aws.query_items(self._table.query, query, "Query audit")
