"""DynamoDB data access for tenants, numbers, conversations and messages.

The only module that talks to the Quietline table. Key scheme (docs/data-model.md):

    TENANT#<tenant>              PROFILE                      tenant profile
    NUMBER#<e164 business no.>   NUMBER                       business number -> tenant
    TENANT#<tenant>              CONV#<conversation>          conversation + its client
    CONV#<tenant>#<conversation> MSG#<message ulid>           message (ULIDs sort by time)
    CARRIER#<carrier>#<id>       CARRIER                      carrier id -> message (idempotency)

Client numbers never appear in a key: conversations are keyed by a blind index.
No request path scans; every read is a GetItem or a Query on a key.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import BotoCoreError, ClientError

from functions.core.errors import (
    ConflictError,
    DuplicateError,
    InvalidCursorError,
    NotFoundError,
)
from functions.core.models import (
    STATUS_RANK,
    Conversation,
    Direction,
    Message,
    MessageStatus,
    Page,
    Tenant,
    TenantStatus,
)
from functions.dal import aws
from functions.dal.schema import CONVERSATIONS_BY_ACTIVITY, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE

MAX_PAGE_SIZE = 100


def _tenant_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def _number_pk(number: str) -> str:
    return f"NUMBER#{number}"


def _conversation_sk(conversation_id: str) -> str:
    return f"CONV#{conversation_id}"


def _messages_pk(tenant_id: str, conversation_id: str) -> str:
    return f"CONV#{tenant_id}#{conversation_id}"


def _message_sk(message_id: str) -> str:
    return f"MSG#{message_id}"


def _carrier_pk(carrier: str, carrier_message_id: str) -> str:
    return f"CARRIER#{carrier}#{carrier_message_id}"


def _activity_pk(tenant_id: str) -> str:
    return f"CONVS#{tenant_id}"


@dataclass(frozen=True)
class MessageRef:
    """Where a message lives; what a carrier id or a queue entry points at."""

    tenant_id: str
    conversation_id: str
    message_id: str


def _encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    raw = json.dumps(last_key, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str | None, expected: dict[str, str]) -> dict[str, Any] | None:
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


def _clamp(limit: int) -> int:
    return max(1, min(int(limit), MAX_PAGE_SIZE))


@contextmanager
def _dynamodb(operation: str) -> Iterator[None]:
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise aws.translate(error, operation) from None


class MessageStore:
    """Repository over the Quietline table; takes a boto3 Table resource (injected)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    @classmethod
    def for_table_name(cls, table_name: str) -> MessageStore:
        return cls(aws.dynamodb_table(table_name))

    # --- tenants and numbers ----------------------------------------------------------
    def put_tenant(self, tenant: Tenant) -> None:
        item: dict[str, Any] = {
            PARTITION_KEY: _tenant_pk(tenant.tenant_id),
            SORT_KEY: "PROFILE",
            "tenant_id": tenant.tenant_id,
            "display_name": tenant.display_name,
            "support_contact": tenant.support_contact,
            "retention_days": tenant.retention_days,
            "status": tenant.status.value,
        }
        if tenant.index_key_record:
            item["index_key_record"] = tenant.index_key_record
        with _dynamodb("PutItem tenant"):
            self._table.put_item(Item=item)

    def update_tenant_profile(self, tenant: Tenant) -> None:
        """Refresh display fields without touching the index key or the wiped flag."""
        with _dynamodb("UpdateItem tenant"):
            self._table.update_item(
                Key={PARTITION_KEY: _tenant_pk(tenant.tenant_id), SORT_KEY: "PROFILE"},
                UpdateExpression="SET display_name = :n, support_contact = :s, retention_days = :r",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={
                    ":n": tenant.display_name,
                    ":s": tenant.support_contact,
                    ":r": tenant.retention_days,
                },
            )

    def get_tenant(self, tenant_id: str) -> Tenant:
        with _dynamodb("GetItem tenant"):
            item = self._table.get_item(
                Key={PARTITION_KEY: _tenant_pk(tenant_id), SORT_KEY: "PROFILE"},
                ConsistentRead=True,
            ).get("Item")
        if not item:
            raise NotFoundError("tenant not found")
        return Tenant(
            tenant_id=item["tenant_id"],
            display_name=item["display_name"],
            support_contact=item["support_contact"],
            retention_days=int(item["retention_days"]),
            status=TenantStatus(item["status"]),
            index_key_record=bytes(item["index_key_record"]) if "index_key_record" in item else b"",
        )

    def assign_business_number(self, number: str, tenant_id: str) -> None:
        """Map a business number to a tenant; refuse to steal another tenant's number."""
        with _dynamodb("PutItem number"):
            try:
                self._table.put_item(
                    Item={
                        PARTITION_KEY: _number_pk(number),
                        SORT_KEY: "NUMBER",
                        "tenant_id": tenant_id,
                    },
                    ConditionExpression="attribute_not_exists(pk) OR tenant_id = :t",
                    ExpressionAttributeValues={":t": tenant_id},
                )
            except ClientError as error:
                if aws.error_code(error) == "ConditionalCheckFailedException":
                    raise ConflictError("business number belongs to another tenant") from None
                raise

    def tenant_id_for_number(self, number: str) -> str:
        with _dynamodb("GetItem number"):
            item = self._table.get_item(
                Key={PARTITION_KEY: _number_pk(number), SORT_KEY: "NUMBER"}
            ).get("Item")
        if not item:
            raise NotFoundError("business number not assigned")
        return str(item["tenant_id"])

    # --- conversations ----------------------------------------------------------------
    def get_conversation(self, tenant_id: str, conversation_id: str) -> Conversation:
        with _dynamodb("GetItem conversation"):
            item = self._table.get_item(
                Key={
                    PARTITION_KEY: _tenant_pk(tenant_id),
                    SORT_KEY: _conversation_sk(conversation_id),
                }
            ).get("Item")
        if not item:
            raise NotFoundError("conversation not found")
        return _conversation_from_item(item)

    def list_conversations(
        self, tenant_id: str, *, limit: int = 25, cursor: str | None = None
    ) -> Page[Conversation]:
        """Conversations by last activity, newest first."""
        index = CONVERSATIONS_BY_ACTIVITY
        start = _decode_cursor(cursor, {index.partition_key: _activity_pk(tenant_id)})
        query: dict[str, Any] = {
            "IndexName": index.name,
            "KeyConditionExpression": Key(index.partition_key).eq(_activity_pk(tenant_id)),
            "ScanIndexForward": False,
            "Limit": _clamp(limit),
        }
        if start:
            query["ExclusiveStartKey"] = start
        with _dynamodb("Query conversations"):
            response = self._table.query(**query)
        return Page(
            [_conversation_from_item(i) for i in response.get("Items", [])],
            _encode_cursor(response.get("LastEvaluatedKey")),
        )

    def mark_conversation_read(self, tenant_id: str, conversation_id: str) -> None:
        with _dynamodb("UpdateItem conversation read"):
            try:
                self._table.update_item(
                    Key={
                        PARTITION_KEY: _tenant_pk(tenant_id),
                        SORT_KEY: _conversation_sk(conversation_id),
                    },
                    UpdateExpression="SET unread_count = :zero",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues={":zero": 0},
                )
            except ClientError as error:
                if aws.error_code(error) == "ConditionalCheckFailedException":
                    raise NotFoundError("conversation not found") from None
                raise

    # --- messages ---------------------------------------------------------------------
    def record_message(self, message: Message, *, new_phone_record: bytes | None = None) -> None:
        """Store a message and bump its conversation, atomically.

        Inbound messages carry the carrier id: a guard item makes the write idempotent,
        so a redelivered webhook or SNS retry raises DuplicateError and stores nothing.
        `new_phone_record` creates the conversation's encrypted number on first contact.
        """
        actions: list[dict[str, Any]] = []
        table_name = self._table.name
        guarded = bool(message.carrier and message.carrier_message_id)
        if guarded:
            actions.append(self._carrier_guard(message, table_name))
        actions.append(
            {
                "Put": {
                    "TableName": table_name,
                    "Item": _message_item(message),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        )
        actions.append(self._conversation_touch(message, table_name, new_phone_record))
        client = self._table.meta.client
        with _dynamodb("TransactWriteItems message"):
            try:
                client.transact_write_items(TransactItems=actions)
            except ClientError as error:
                if aws.error_code(error) != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
                if guarded and reasons and reasons[0] == "ConditionalCheckFailed":
                    raise DuplicateError("carrier message already stored") from None
                if "ConditionalCheckFailed" in reasons:
                    raise ConflictError("message or conversation changed concurrently") from None
                raise

    def _carrier_guard(self, message: Message, table_name: str) -> dict[str, Any]:
        assert message.carrier and message.carrier_message_id
        return {
            "Put": {
                "TableName": table_name,
                "Item": _carrier_item(message.carrier, message.carrier_message_id, message),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _conversation_touch(
        self, message: Message, table_name: str, new_phone_record: bytes | None
    ) -> dict[str, Any]:
        sets = [
            "tenant_id = :tenant",
            "conversation_id = :conv",
            "last_activity_at = :at",
            "last_direction = :dir",
            "gsi1pk = :gpk",
            "gsi1sk = :gsk",
            "created_at = if_not_exists(created_at, :at)",
            "opted_out = if_not_exists(opted_out, :false)",
        ]
        values: dict[str, Any] = {
            ":tenant": message.tenant_id,
            ":conv": message.conversation_id,
            ":at": message.created_at,
            ":dir": message.direction.value,
            ":gpk": _activity_pk(message.tenant_id),
            ":gsk": f"{message.created_at}#{message.conversation_id}",
            ":false": False,
        }
        update = "SET " + ", ".join(sets)
        condition = "attribute_exists(phone_record)"
        if new_phone_record is not None:
            update = update.replace(
                "SET ", "SET phone_record = if_not_exists(phone_record, :phone), ", 1
            )
            values[":phone"] = new_phone_record
            condition = ""
        if message.direction is Direction.INBOUND:
            update += " ADD unread_count :one"
            values[":one"] = 1
        touch: dict[str, Any] = {
            "TableName": table_name,
            "Key": {
                PARTITION_KEY: _tenant_pk(message.tenant_id),
                SORT_KEY: _conversation_sk(message.conversation_id),
            },
            "UpdateExpression": update,
            "ExpressionAttributeValues": values,
        }
        if condition:
            touch["ConditionExpression"] = condition
        return {"Update": touch}

    def get_message(self, ref: MessageRef) -> Message:
        with _dynamodb("GetItem message"):
            item = self._table.get_item(
                Key={
                    PARTITION_KEY: _messages_pk(ref.tenant_id, ref.conversation_id),
                    SORT_KEY: _message_sk(ref.message_id),
                },
                ConsistentRead=True,
            ).get("Item")
        if not item:
            raise NotFoundError("message not found")
        return _message_from_item(item)

    def list_messages(
        self, tenant_id: str, conversation_id: str, *, limit: int = 50, cursor: str | None = None
    ) -> Page[Message]:
        """A thread's messages, newest first."""
        pk = _messages_pk(tenant_id, conversation_id)
        start = _decode_cursor(cursor, {PARTITION_KEY: pk})
        query: dict[str, Any] = {
            "KeyConditionExpression": Key(PARTITION_KEY).eq(pk) & Key(SORT_KEY).begins_with("MSG#"),
            "ScanIndexForward": False,
            "Limit": _clamp(limit),
        }
        if start:
            query["ExclusiveStartKey"] = start
        with _dynamodb("Query messages"):
            response = self._table.query(**query)
        return Page(
            [_message_from_item(i) for i in response.get("Items", [])],
            _encode_cursor(response.get("LastEvaluatedKey")),
        )

    def find_by_carrier_id(self, carrier: str, carrier_message_id: str) -> MessageRef:
        with _dynamodb("GetItem carrier id"):
            item = self._table.get_item(
                Key={PARTITION_KEY: _carrier_pk(carrier, carrier_message_id), SORT_KEY: "CARRIER"}
            ).get("Item")
        if not item:
            raise NotFoundError("no message with that carrier id")
        return MessageRef(item["tenant_id"], item["conversation_id"], item["message_id"])

    def advance_status(
        self,
        ref: MessageRef,
        status: MessageStatus,
        *,
        at: str,
        carrier: str | None = None,
        carrier_message_id: str | None = None,
        failure_reason: str | None = None,
    ) -> bool:
        """Move a message forward (queued -> sent -> delivered | failed), never back.

        Returns False, changing nothing, when the message is already at or past `status`:
        repeated and out-of-order carrier events are expected and harmless.
        """
        lower_ranks = [s.value for s, rank in STATUS_RANK.items() if rank < STATUS_RANK[status]]
        names = {"#status": "status"}
        values: dict[str, Any] = {":new": status.value, ":at": at}
        placeholders = []
        for i, value in enumerate(lower_ranks):
            values[f":s{i}"] = value
            placeholders.append(f":s{i}")
        sets = ["#status = :new", "updated_at = :at", "status_at = :at"]
        if carrier_message_id:
            sets += ["carrier = :carrier", "carrier_message_id = :cid"]
            values |= {":carrier": carrier, ":cid": carrier_message_id}
        if failure_reason:
            sets.append("failure_reason = :reason")
            values[":reason"] = failure_reason
        key = {
            PARTITION_KEY: _messages_pk(ref.tenant_id, ref.conversation_id),
            SORT_KEY: _message_sk(ref.message_id),
        }
        update: dict[str, Any] = {
            "TableName": self._table.name,
            "Key": key,
            "UpdateExpression": "SET " + ", ".join(sets),
            "ConditionExpression": (
                f"attribute_exists(pk) AND #status IN ({', '.join(placeholders)})"
            ),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        actions: list[dict[str, Any]] = [{"Update": update}]
        if carrier and carrier_message_id:
            # The pointer lets status callbacks that carry only the carrier id find us.
            pointer = _carrier_item(carrier, carrier_message_id, ref)
            actions.append({"Put": {"TableName": self._table.name, "Item": pointer}})
        with _dynamodb("TransactWriteItems status"):
            try:
                self._table.meta.client.transact_write_items(TransactItems=actions)
            except ClientError as error:
                if aws.error_code(error) != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    self.get_message(ref)  # NotFoundError if it never existed
                    return False
                raise
        return True


def _carrier_item(
    carrier: str, carrier_message_id: str, ref: Message | MessageRef
) -> dict[str, Any]:
    item: dict[str, Any] = {
        PARTITION_KEY: _carrier_pk(carrier, carrier_message_id),
        SORT_KEY: "CARRIER",
        "tenant_id": ref.tenant_id,
        "conversation_id": ref.conversation_id,
        "message_id": ref.message_id,
    }
    if isinstance(ref, Message):
        item[TTL_ATTRIBUTE] = ref.expires_at
    return item


def _message_item(message: Message) -> dict[str, Any]:
    item: dict[str, Any] = {
        PARTITION_KEY: _messages_pk(message.tenant_id, message.conversation_id),
        SORT_KEY: _message_sk(message.message_id),
        "tenant_id": message.tenant_id,
        "conversation_id": message.conversation_id,
        "message_id": message.message_id,
        "direction": message.direction.value,
        "status": message.status.value,
        "body_record": message.body_record,
        "created_at": message.created_at,
        "updated_at": message.updated_at,
        TTL_ATTRIBUTE: message.expires_at,
    }
    optional = {
        "carrier": message.carrier,
        "carrier_message_id": message.carrier_message_id,
        "segments": message.segments,
        "encoding": message.encoding,
        "failure_reason": message.failure_reason,
    }
    item.update({k: v for k, v in optional.items() if v is not None})
    return item


def _message_from_item(item: dict[str, Any]) -> Message:
    return Message(
        tenant_id=item["tenant_id"],
        conversation_id=item["conversation_id"],
        message_id=item["message_id"],
        direction=Direction(item["direction"]),
        status=MessageStatus(item["status"]),
        body_record=bytes(item["body_record"]),
        created_at=item["created_at"],
        updated_at=item["updated_at"],
        expires_at=int(item[TTL_ATTRIBUTE]),
        carrier=item.get("carrier"),
        carrier_message_id=item.get("carrier_message_id"),
        segments=int(item["segments"]) if "segments" in item else None,
        encoding=item.get("encoding"),
        failure_reason=item.get("failure_reason"),
    )


def _conversation_from_item(item: dict[str, Any]) -> Conversation:
    return Conversation(
        tenant_id=item["tenant_id"],
        conversation_id=item["conversation_id"],
        phone_record=bytes(item["phone_record"]),
        last_activity_at=item["last_activity_at"],
        unread_count=int(item.get("unread_count", 0)),
        opted_out=bool(item.get("opted_out", False)),
        assigned_to=item.get("assigned_to"),
        created_at=item.get("created_at", ""),
    )
