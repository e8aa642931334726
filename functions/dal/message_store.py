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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.core.errors import (
    ConflictError,
    DuplicateError,
    InvalidCursorError,
    NotFoundError,
)
from functions.core.models import (
    STATUS_RANK,
    AfterHours,
    ConsentRecord,
    Conversation,
    ConversationChange,
    Direction,
    Message,
    MessageRef,
    MessageStatus,
    MessageTemplate,
    Page,
    PendingMessage,
    Tenant,
    TenantSettings,
    TenantStatus,
)
from functions.dal import aws
from functions.dal.schema import (
    CONVERSATIONS_BY_ACTIVITY,
    PARTITION_KEY,
    PENDING_OUTBOUND,
    SORT_KEY,
    TTL_ATTRIBUTE,
)

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


def _tenant_key(tenant_id: str) -> dict[str, str]:
    return {PARTITION_KEY: _tenant_pk(tenant_id), SORT_KEY: "PROFILE"}


def _conversation_key(tenant_id: str, conversation_id: str) -> dict[str, str]:
    return {PARTITION_KEY: _tenant_pk(tenant_id), SORT_KEY: _conversation_sk(conversation_id)}


def _activity_pk(tenant_id: str) -> str:
    return f"CONVS#{tenant_id}"


_PENDING_PK = "PENDING"


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
        self._db = aws.TableClient(table)  # safe to call from several threads at once

    @property
    def table(self) -> Any:
        return self._table

    @classmethod
    def for_table_name(cls, table_name: str) -> MessageStore:
        return cls(aws.dynamodb_table(table_name))

    def _update_existing(self, key: dict[str, str], what: str, **update: Any) -> None:
        """UpdateItem on an item that must exist; NotFoundError names `what` otherwise."""
        with _dynamodb(f"UpdateItem {what}"):
            try:
                self._db.update_item(Key=key, ConditionExpression="attribute_exists(pk)", **update)
            except ClientError as error:
                if aws.error_code(error) == "ConditionalCheckFailedException":
                    raise NotFoundError(f"{what} not found") from None
                raise

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
            "business_numbers": list(tenant.business_numbers),
            "settings": _settings_item(tenant.settings),
        }
        if tenant.index_key_record:
            item["index_key_record"] = tenant.index_key_record
        with _dynamodb("PutItem tenant"):
            self._db.put_item(Item=item)

    def update_tenant_profile(self, tenant: Tenant) -> None:
        """Refresh display fields without touching the index key or the wiped flag."""
        self._update_existing(
            _tenant_key(tenant.tenant_id),
            "tenant",
            UpdateExpression=(
                "SET display_name = :n, support_contact = :s, retention_days = :r, "
                "business_numbers = :b"
            ),
            ExpressionAttributeValues={
                ":n": tenant.display_name,
                ":s": tenant.support_contact,
                ":r": tenant.retention_days,
                ":b": list(tenant.business_numbers),
            },
        )

    def get_tenant(self, tenant_id: str) -> Tenant:
        with _dynamodb("GetItem tenant"):
            item = self._db.get_item(
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
            business_numbers=tuple(item.get("business_numbers", ())),
            settings=_settings_from_item(item.get("settings") or {}),
        )

    def set_tenant_status(self, tenant_id: str, status: TenantStatus) -> None:
        self._update_existing(
            _tenant_key(tenant_id),
            "tenant",
            UpdateExpression="SET #status = :v",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":v": status.value},
        )

    def set_tenant_retention(self, tenant_id: str, days: int) -> None:
        self._update_existing(
            _tenant_key(tenant_id),
            "tenant",
            UpdateExpression="SET retention_days = :v",
            ExpressionAttributeValues={":v": days},
        )

    def update_tenant_settings(self, tenant_id: str, settings: TenantSettings) -> None:
        self._update_existing(
            _tenant_key(tenant_id),
            "tenant",
            UpdateExpression="SET settings = :s",
            ExpressionAttributeValues={":s": _settings_item(settings)},
        )

    def assign_business_number(self, number: str, tenant_id: str) -> None:
        """Map a business number to a tenant; refuse to steal another tenant's number."""
        with _dynamodb("PutItem number"):
            try:
                self._db.put_item(
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
            item = self._db.get_item(
                Key={PARTITION_KEY: _number_pk(number), SORT_KEY: "NUMBER"}
            ).get("Item")
        if not item:
            raise NotFoundError("business number not assigned")
        return str(item["tenant_id"])

    # --- conversations ----------------------------------------------------------------
    def get_conversation(self, tenant_id: str, conversation_id: str) -> Conversation:
        with _dynamodb("GetItem conversation"):
            item = self._db.get_item(
                Key={
                    PARTITION_KEY: _tenant_pk(tenant_id),
                    SORT_KEY: _conversation_sk(conversation_id),
                }
            ).get("Item")
        if not item:
            raise NotFoundError("conversation not found")
        return _conversation_from_item(item)

    def list_conversations(
        self,
        tenant_id: str,
        *,
        limit: int = 25,
        cursor: str | None = None,
        visible_to: str | None = None,
        unread_only: bool = False,
        assigned_to: str | None = None,
        unassigned_only: bool = False,
    ) -> Page[Conversation]:
        """Conversations by last activity, newest first.

        `visible_to` (a clinician's user id) keeps theirs and unassigned ones. Filters
        apply after DynamoDB's page limit, so a page may hold fewer items than `limit`
        while a cursor still follows: clients page until the cursor is absent.
        """
        index = CONVERSATIONS_BY_ACTIVITY
        start = _decode_cursor(cursor, {index.partition_key: _activity_pk(tenant_id)})
        names = {"#gpk": index.partition_key}
        values: dict[str, Any] = {":gpk": _activity_pk(tenant_id)}
        conditions: list[str] = []
        if visible_to is not None or assigned_to is not None or unassigned_only:
            names["#assigned"] = "assigned_to"
        if visible_to is not None:
            conditions.append("(attribute_not_exists(#assigned) OR #assigned = :me)")
            values[":me"] = visible_to
        if unread_only:
            conditions.append("#unread > :zero")
            names["#unread"] = "unread_count"
            values[":zero"] = 0
        if assigned_to is not None:
            conditions.append("#assigned = :assignee")
            values[":assignee"] = assigned_to
        if unassigned_only:
            conditions.append("attribute_not_exists(#assigned)")
        query: dict[str, Any] = {
            "IndexName": index.name,
            "KeyConditionExpression": "#gpk = :gpk",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": _clamp(limit),
        }
        if conditions:
            query["FilterExpression"] = " AND ".join(conditions)
        if start:
            query["ExclusiveStartKey"] = start
        with _dynamodb("Query conversations"):
            response = self._db.query(**query)
        return Page(
            [_conversation_from_item(i) for i in response.get("Items", [])],
            _encode_cursor(response.get("LastEvaluatedKey")),
        )

    def mark_conversation_read(self, tenant_id: str, conversation_id: str) -> None:
        self._update_existing(
            _conversation_key(tenant_id, conversation_id),
            "conversation",
            UpdateExpression="SET unread_count = :zero",
            ExpressionAttributeValues={":zero": 0},
        )

    # --- messages ---------------------------------------------------------------------
    def record_message(
        self,
        message: Message,
        *,
        new_phone_record: bytes | None = None,
        change: ConversationChange | None = None,
        replies: Sequence[Message] = (),
    ) -> None:
        """Store a message, its conversation's new state and any replies, atomically.

        Inbound messages carry the carrier id: a guard item makes the write idempotent,
        so a redelivered webhook or SNS retry raises DuplicateError and stores nothing.
        `new_phone_record` creates the conversation's encrypted number on first contact;
        `change` records an opt-out/opt-in or auto-reply in the same transaction, so a
        crash can never keep the message but lose the client's STOP.
        """
        table_name = self._db.name
        guarded = bool(message.carrier and message.carrier_message_id)
        actions: list[dict[str, Any]] = []
        if guarded:
            actions.append(self._carrier_guard(message, table_name))
        for each in (message, *replies):
            actions.append(
                {
                    "Put": {
                        "TableName": table_name,
                        "Item": _message_item(each),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        actions.append(
            self._conversation_touch(
                message, table_name, new_phone_record, change or ConversationChange()
            )
        )
        with _dynamodb("TransactWriteItems message"):
            try:
                self._db.transact_write_items(TransactItems=actions)
            except ClientError as error:
                if aws.error_code(error) != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
                if guarded and reasons and reasons[0] == "ConditionalCheckFailed":
                    raise DuplicateError("carrier message already stored") from None
                if reasons and reasons[-1] == "ConditionalCheckFailed":
                    raise NotFoundError("conversation not found") from None
                if "ConditionalCheckFailed" in reasons:
                    raise ConflictError("message already exists") from None
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
        self,
        message: Message,
        table_name: str,
        new_phone_record: bytes | None,
        change: ConversationChange,
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
        condition = "attribute_exists(phone_record)"
        if new_phone_record is not None:
            sets.append("phone_record = if_not_exists(phone_record, :phone)")
            values[":phone"] = new_phone_record
            condition = ""
        if change.business_number:
            sets.append("business_number = :biz")
            values[":biz"] = change.business_number
        if change.opted_out is not None:
            # Replaces the if_not_exists default above: an explicit STOP/START wins.
            sets.remove("opted_out = if_not_exists(opted_out, :false)")
            sets += ["opted_out = :opted", "opted_out_changed_at = :at"]
            values[":opted"] = change.opted_out
        if change.auto_reply_at:
            sets.append("last_auto_reply_at = :auto")
            values[":auto"] = change.auto_reply_at
        update = "SET " + ", ".join(sets)
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

    def set_consent(self, tenant_id: str, conversation_id: str, consent: ConsentRecord) -> None:
        self._update_existing(
            _conversation_key(tenant_id, conversation_id),
            "conversation",
            UpdateExpression="SET consent = :c",
            ExpressionAttributeValues={":c": consent.to_item()},
        )

    def create_conversation(
        self,
        tenant_id: str,
        conversation_id: str,
        phone_record: bytes,
        at: str,
        *,
        name_record: bytes | None = None,
        consent: ConsentRecord | None = None,
    ) -> None:
        """A conversation before its first message (a contact added by staff)."""
        item: dict[str, Any] = {
            PARTITION_KEY: _tenant_pk(tenant_id),
            SORT_KEY: _conversation_sk(conversation_id),
            "tenant_id": tenant_id,
            "conversation_id": conversation_id,
            "phone_record": phone_record,
            "created_at": at,
            "last_activity_at": at,
            "opted_out": False,
            "unread_count": 0,
            CONVERSATIONS_BY_ACTIVITY.partition_key: _activity_pk(tenant_id),
            CONVERSATIONS_BY_ACTIVITY.sort_key: f"{at}#{conversation_id}",
        }
        if name_record is not None:
            item["name_record"] = name_record
        if consent is not None:
            item["consent"] = consent.to_item()
        with _dynamodb("PutItem conversation"):
            try:
                self._db.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
            except ClientError as error:
                if aws.error_code(error) == "ConditionalCheckFailedException":
                    raise ConflictError("conversation already exists") from None
                raise

    def update_contact(
        self,
        tenant_id: str,
        conversation_id: str,
        *,
        name_record: bytes | None = None,
        assigned_to: str | None = None,
        unassign: bool = False,
    ) -> None:
        """Change a conversation's client name or assignment; NotFoundError if it is gone."""
        sets: list[str] = []
        removes: list[str] = []
        values: dict[str, Any] = {}
        if name_record is not None:
            sets.append("name_record = :name")
            values[":name"] = name_record
        if assigned_to is not None:
            sets.append("assigned_to = :who")
            values[":who"] = assigned_to
        if unassign:
            removes.append("assigned_to")
        if not sets and not removes:
            return
        expression = " ".join(
            part
            for part in (
                "SET " + ", ".join(sets) if sets else "",
                "REMOVE " + ", ".join(removes) if removes else "",
            )
            if part
        )
        extra = {"ExpressionAttributeValues": values} if values else {}
        self._update_existing(
            _conversation_key(tenant_id, conversation_id),
            "conversation",
            UpdateExpression=expression,
            **extra,
        )

    def delete_conversation(self, tenant_id: str, conversation_id: str) -> int:
        """Delete a conversation, its client's details and every message; returns messages deleted.

        The message partition is queried page by page (keys only) and deleted in batches;
        the conversation item goes last, so a retry after a crash finishes the job.
        """
        pk = _messages_pk(tenant_id, conversation_id)
        deleted = 0
        start: dict[str, Any] | None = None
        with _dynamodb("delete conversation"):
            while True:
                query: dict[str, Any] = {
                    "KeyConditionExpression": "#pk = :pk",
                    "ExpressionAttributeNames": {"#pk": PARTITION_KEY, "#sk": SORT_KEY},
                    "ExpressionAttributeValues": {":pk": pk},
                    "ProjectionExpression": "#pk, #sk",
                }
                if start:
                    query["ExclusiveStartKey"] = start
                response = self._db.query(**query)
                with self._table.batch_writer() as batch:
                    for item in response.get("Items", []):
                        batch.delete_item(Key={PARTITION_KEY: item["pk"], SORT_KEY: item["sk"]})
                        deleted += 1
                start = response.get("LastEvaluatedKey")
                if not start:
                    break
            self._db.delete_item(
                Key={
                    PARTITION_KEY: _tenant_pk(tenant_id),
                    SORT_KEY: _conversation_sk(conversation_id),
                }
            )
        return deleted

    # --- message templates ------------------------------------------------------------
    def put_template(self, tenant_id: str, template: MessageTemplate) -> None:
        with _dynamodb("PutItem template"):
            self._db.put_item(
                Item={
                    PARTITION_KEY: _tenant_pk(tenant_id),
                    SORT_KEY: f"TEMPLATE#{template.template_id}",
                    "template_id": template.template_id,
                    "name": template.name,
                    "body": template.body,
                    "updated_at": template.updated_at,
                }
            )

    def list_templates(self, tenant_id: str) -> list[MessageTemplate]:
        with _dynamodb("Query templates"):
            items = self._db.query(
                KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
                ExpressionAttributeNames={"#pk": PARTITION_KEY, "#sk": SORT_KEY},
                ExpressionAttributeValues={":pk": _tenant_pk(tenant_id), ":prefix": "TEMPLATE#"},
            ).get("Items", [])
        return [_template_from_item(i) for i in items]

    def get_template(self, tenant_id: str, template_id: str) -> MessageTemplate:
        with _dynamodb("GetItem template"):
            item = self._db.get_item(
                Key={PARTITION_KEY: _tenant_pk(tenant_id), SORT_KEY: f"TEMPLATE#{template_id}"}
            ).get("Item")
        if not item:
            raise NotFoundError("template not found")
        return _template_from_item(item)

    def delete_template(self, tenant_id: str, template_id: str) -> None:
        with _dynamodb("DeleteItem template"):
            try:
                self._db.delete_item(
                    Key={PARTITION_KEY: _tenant_pk(tenant_id), SORT_KEY: f"TEMPLATE#{template_id}"},
                    ConditionExpression="attribute_exists(pk)",
                )
            except ClientError as error:
                if aws.error_code(error) == "ConditionalCheckFailedException":
                    raise NotFoundError("template not found") from None
                raise

    def get_message(self, ref: MessageRef) -> Message:
        with _dynamodb("GetItem message"):
            item = self._db.get_item(
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
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY, "#sk": SORT_KEY},
            "ExpressionAttributeValues": {":pk": pk, ":prefix": "MSG#"},
            "ScanIndexForward": False,
            "Limit": _clamp(limit),
        }
        if start:
            query["ExclusiveStartKey"] = start
        with _dynamodb("Query messages"):
            response = self._db.query(**query)
        return Page(
            [_message_from_item(i) for i in response.get("Items", [])],
            _encode_cursor(response.get("LastEvaluatedKey")),
        )

    def find_by_carrier_id(self, carrier: str, carrier_message_id: str) -> MessageRef:
        with _dynamodb("GetItem carrier id"):
            item = self._db.get_item(
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
        pending = PENDING_OUTBOUND
        update: dict[str, Any] = {
            "TableName": self._db.name,
            "Key": key,
            # Leaving `queued` takes the message off the sweeper's pending index.
            "UpdateExpression": "SET "
            + ", ".join(sets)
            + f" REMOVE {pending.partition_key}, {pending.sort_key}, send_lease",
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
            actions.append({"Put": {"TableName": self._db.name, "Item": pointer}})
        with _dynamodb("TransactWriteItems status"):
            try:
                self._db.transact_write_items(TransactItems=actions)
            except ClientError as error:
                if aws.error_code(error) != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    self.get_message(ref)  # NotFoundError if it never existed
                    return False
                raise
        return True

    def claim_for_sending(self, ref: MessageRef, *, now: str, lease_until: str) -> Message | None:
        """Take a queued message for one sender and return it as claimed; None if it is
        sent, failed, claimed already or absent (the caller reads it to tell which).

        SQS delivers at least once, so two senders can hold the same message: the lease
        makes sure only one calls the carrier while it is valid. The claim returns the
        item, so a send needs no read before it.
        """
        with _dynamodb("UpdateItem claim"):
            try:
                response = self._db.update_item(
                    Key={
                        PARTITION_KEY: _messages_pk(ref.tenant_id, ref.conversation_id),
                        SORT_KEY: _message_sk(ref.message_id),
                    },
                    UpdateExpression="SET send_lease = :until ADD send_attempts :one",
                    ConditionExpression=(
                        "#status = :queued AND "
                        "(attribute_not_exists(send_lease) OR send_lease < :now)"
                    ),
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={
                        ":until": lease_until,
                        ":now": now,
                        ":queued": MessageStatus.QUEUED.value,
                        ":one": 1,
                    },
                    ReturnValues="ALL_NEW",
                )
            except ClientError as error:
                if aws.error_code(error) == "ConditionalCheckFailedException":
                    return None
                raise
        return _message_from_item(response["Attributes"])

    def list_pending(self, *, created_before: str, limit: int = 100) -> list[PendingMessage]:
        """Outbound messages still queued that were created before `created_before`."""
        index = PENDING_OUTBOUND
        with _dynamodb("Query pending"):
            response = self._db.query(
                IndexName=index.name,
                KeyConditionExpression="#gpk = :gpk AND #gsk < :before",
                ExpressionAttributeNames={"#gpk": index.partition_key, "#gsk": index.sort_key},
                ExpressionAttributeValues={":gpk": _PENDING_PK, ":before": created_before},
                Limit=_clamp(limit),
            )
        return [
            PendingMessage(
                MessageRef(i["tenant_id"], i["conversation_id"], i["message_id"]),
                i["created_at"],
                int(i.get("send_attempts", 0)),
            )
            for i in response.get("Items", [])
        ]

    def set_opted_out(self, tenant_id: str, conversation_id: str, opted_out: bool, at: str) -> None:
        """Record an opt-out the carrier reported (the client's STOP reached it, not us)."""
        self._update_existing(
            _conversation_key(tenant_id, conversation_id),
            "conversation",
            UpdateExpression="SET opted_out = :o, opted_out_changed_at = :at",
            ExpressionAttributeValues={":o": opted_out, ":at": at},
        )


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
        "sent_by": message.sent_by,
        "sms_text_record": message.sms_text_record,
    }
    item.update({k: v for k, v in optional.items() if v is not None})
    if message.status is MessageStatus.QUEUED:
        item[PENDING_OUTBOUND.partition_key] = _PENDING_PK
        item[PENDING_OUTBOUND.sort_key] = f"{message.created_at}#{message.message_id}"
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
        sent_by=item.get("sent_by"),
        sms_text_record=bytes(item["sms_text_record"]) if "sms_text_record" in item else None,
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
        business_number=item.get("business_number"),
        consent=ConsentRecord.from_item(item["consent"]) if item.get("consent") else None,
        last_auto_reply_at=item.get("last_auto_reply_at"),
        name_record=bytes(item["name_record"]) if "name_record" in item else None,
    )


def _template_from_item(item: dict[str, Any]) -> MessageTemplate:
    return MessageTemplate(item["template_id"], item["name"], item["body"], item["updated_at"])


def _settings_item(settings: TenantSettings) -> dict[str, Any]:
    after = settings.after_hours
    return {
        "help_reply": settings.help_reply,
        "stop_reply": settings.stop_reply,
        "start_reply": settings.start_reply,
        "max_body_chars": settings.max_body_chars,
        "after_hours": {
            "enabled": after.enabled,
            "timezone": after.timezone,
            "hours": {str(day): list(span) for day, span in after.hours.items()},
            "text": after.text,
            "window_minutes": after.window_minutes,
        },
    }


def _settings_from_item(item: dict[str, Any]) -> TenantSettings:
    defaults = TenantSettings()
    after = item.get("after_hours") or {}
    hours = after.get("hours")
    return TenantSettings(
        help_reply=item.get("help_reply", ""),
        stop_reply=item.get("stop_reply", ""),
        start_reply=item.get("start_reply", ""),
        max_body_chars=int(item.get("max_body_chars", defaults.max_body_chars)),
        after_hours=AfterHours(
            enabled=bool(after.get("enabled", False)),
            timezone=after.get("timezone", defaults.after_hours.timezone),
            hours=(
                {int(d): (span[0], span[1]) for d, span in hours.items()}
                if hours is not None
                else defaults.after_hours.hours
            ),
            text=after.get("text", ""),
            window_minutes=int(after.get("window_minutes", defaults.after_hours.window_minutes)),
        ),
    )
