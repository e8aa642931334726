"""What the store's record classes share: keys, cursors, page sizes, error translation.

The key scheme is in functions/dal/store/__init__.py (and docs/data-model.md).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.core.errors import InvalidCursorError, NotFoundError
from functions.dal import aws
from functions.dal.schema import (
    MESSAGE_SORT_KEY_PREFIX,
    PARTITION_KEY,
    SORT_KEY,
    TENANT_PARTITION_PREFIX,
)

MAX_PAGE_SIZE = 100


def tenant_pk(tenant_id: str) -> str:
    return f"{TENANT_PARTITION_PREFIX}{tenant_id}"


def number_pk(number: str) -> str:
    return f"NUMBER#{number}"


def conversation_sk(conversation_id: str) -> str:
    return f"CONV#{conversation_id}"


def messages_pk(tenant_id: str, conversation_id: str) -> str:
    return f"CONV#{tenant_id}#{conversation_id}"


def message_sk(message_id: str) -> str:
    return f"{MESSAGE_SORT_KEY_PREFIX}{message_id}"


def carrier_pk(carrier: str, carrier_message_id: str) -> str:
    return f"CARRIER#{carrier}#{carrier_message_id}"


def tenant_key(tenant_id: str) -> dict[str, str]:
    return {PARTITION_KEY: tenant_pk(tenant_id), SORT_KEY: "PROFILE"}


def conversation_key(tenant_id: str, conversation_id: str) -> dict[str, str]:
    return {PARTITION_KEY: tenant_pk(tenant_id), SORT_KEY: conversation_sk(conversation_id)}


def activity_pk(tenant_id: str) -> str:
    return f"CONVS#{tenant_id}"


PENDING_PK = "PENDING"


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    raw = json.dumps(last_key, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def encode_since(activity_sort_key: str) -> str:
    """The `since` mark of a listing: the newest activity-index sort key it returned."""
    return encode_cursor({"after": activity_sort_key}) or ""


def decode_since(since: str) -> str:
    """The activity-index sort key a `since` mark stands for (InvalidCursorError if forged)."""
    key = decode_cursor(since, {})
    if key is None or set(key) != {"after"}:
        raise InvalidCursorError()
    return str(key["after"])


def decode_cursor(cursor: str | None, expected: dict[str, str]) -> dict[str, Any] | None:
    """Accept only a cursor this listing issued: same partition, same key attributes."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error):
        raise InvalidCursorError() from None
    if not isinstance(key, dict) or not all(isinstance(v, str) for v in key.values()):
        raise InvalidCursorError()
    if any(key.get(name) != value for name, value in expected.items()):
        raise InvalidCursorError()
    return key


def clamp(limit: int) -> int:
    return max(1, min(int(limit), MAX_PAGE_SIZE))


@contextmanager
def dynamodb(operation: str) -> Iterator[None]:
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise aws.translate(error, operation) from None


class TableRecords:
    """One table client shared by the store's record classes (see MessageStore)."""

    def __init__(self, table: Any) -> None:
        self._table = table
        self._db = aws.TableClient(table)  # safe to call from several threads at once

    @property
    def table(self) -> Any:
        return self._table

    def _newest_first(
        self,
        pk: str,
        prefix: str,
        *,
        limit: int,
        cursor: str | None,
        what: str,
        after: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a partition's items whose sort key starts with `prefix` (and, given
        `after`, sorts above it), newest first, and the cursor to the next page (None: no
        more). A cursor that was not issued for this partition is InvalidCursorError."""
        start = decode_cursor(cursor, {PARTITION_KEY: pk})
        values = {":pk": pk, ":prefix": prefix}
        condition = "#pk = :pk AND begins_with(#sk, :prefix)"
        if after is not None:
            # Still within the prefix: a key condition takes one sort-key test only, and
            # BETWEEN is inclusive (`after` itself is dropped below). The upper bound sorts
            # above every key of the prefix.
            condition = "#pk = :pk AND #sk BETWEEN :after AND :last"
            values = {":pk": pk, ":after": after, ":last": prefix + "\U0010ffff"}
        query: dict[str, Any] = {
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY, "#sk": SORT_KEY},
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": clamp(limit),
        }
        if start:
            query["ExclusiveStartKey"] = start
        with dynamodb(f"Query {what}"):
            response = self._db.query(**query)
        items = [i for i in response.get("Items", []) if after is None or i[SORT_KEY] != after]
        return items, encode_cursor(response.get("LastEvaluatedKey"))

    def _existing_item(
        self, key: dict[str, str], what: str, *, consistent: bool = False, missing: str = ""
    ) -> dict[str, Any]:
        """GetItem of an item that must exist; NotFoundError (`missing`, or "<what> not
        found") otherwise."""
        read: dict[str, Any] = {"Key": key}
        if consistent:
            read["ConsistentRead"] = True
        with dynamodb(f"GetItem {what}"):
            item = self._db.get_item(**read).get("Item")
        if not item:
            raise NotFoundError(missing or f"{what} not found")
        return dict(item)

    def _update_existing(self, key: dict[str, str], what: str, **update: Any) -> None:
        """UpdateItem on an item that must exist; NotFoundError names `what` otherwise."""
        with dynamodb(f"UpdateItem {what}"):
            try:
                self._db.update_item(Key=key, ConditionExpression="attribute_exists(pk)", **update)
            except ClientError as error:
                if aws.error_code(error) == "ConditionalCheckFailedException":
                    raise NotFoundError(f"{what} not found") from None
                raise
