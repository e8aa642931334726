"""Messages: the idempotent record transaction, status changes, the send claim, the sweep."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from functions.core.errors import ConflictError, DuplicateError, NotFoundError, NotOutboundError
from functions.core.models import (
    STATUS_RANK,
    ConversationChange,
    Direction,
    Message,
    MessageKind,
    MessageRef,
    MessageStatus,
    Page,
    PendingMessage,
)
from functions.dal import aws
from functions.dal.schema import (
    MESSAGE_SORT_KEY_PREFIX,
    PARTITION_KEY,
    PENDING_OUTBOUND,
    SORT_KEY,
    TTL_ATTRIBUTE,
)
from functions.dal.store._common import (
    PENDING_PK,
    TableRecords,
    activity_pk,
    carrier_pk,
    clamp,
    conversation_sk,
    dynamodb,
    message_sk,
    messages_pk,
    tenant_pk,
)
from functions.dal.store.care import after_hours_page_item, urgent_marker_item


class MessageRecords(TableRecords):
    """CONV#<tenant>#<conversation> MSG#<ulid> items and CARRIER#<carrier>#<id> pointers."""

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
        if change and change.urgent_at:
            # Before the touch: the cancellation reasons below read it last.
            marker = urgent_marker_item(
                message.tenant_id, message.conversation_id, change.urgent_at
            )
            actions.append({"Put": {"TableName": table_name, "Item": marker}})
        if change and change.page_after_hours:
            request = after_hours_page_item(
                message.tenant_id,
                message.conversation_id,
                message.message_id,
                datetime.fromisoformat(message.created_at.replace("Z", "+00:00")),
            )
            actions.append({"Put": {"TableName": table_name, "Item": request}})
        actions.append(
            self._conversation_touch(
                message, table_name, new_phone_record, change or ConversationChange()
            )
        )
        with dynamodb("TransactWriteItems message"):
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
            ":gpk": activity_pk(message.tenant_id),
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
        if change.urgent_at:
            sets.append("urgent_at = if_not_exists(urgent_at, :urgent)")
            values[":urgent"] = change.urgent_at
        update = "SET " + ", ".join(sets)
        if message.direction is Direction.INBOUND:
            update += " ADD unread_count :one"
            values[":one"] = 1
        touch: dict[str, Any] = {
            "TableName": table_name,
            "Key": {
                PARTITION_KEY: tenant_pk(message.tenant_id),
                SORT_KEY: conversation_sk(message.conversation_id),
            },
            "UpdateExpression": update,
            "ExpressionAttributeValues": values,
        }
        if condition:
            touch["ConditionExpression"] = condition
        return {"Update": touch}

    def get_message(self, ref: MessageRef) -> Message:
        item = self._existing_item(
            {
                PARTITION_KEY: messages_pk(ref.tenant_id, ref.conversation_id),
                SORT_KEY: message_sk(ref.message_id),
            },
            "message",
            consistent=True,
        )
        return _message_from_item(item)

    def list_messages(
        self,
        tenant_id: str,
        conversation_id: str,
        *,
        limit: int = 50,
        cursor: str | None = None,
        after: str | None = None,
    ) -> Page[Message]:
        """A thread's messages, newest first; with `after` (a message id), only those
        created after it (ids sort by creation time), so an open thread reads what is new."""
        items, next_cursor = self._newest_first(
            messages_pk(tenant_id, conversation_id),
            MESSAGE_SORT_KEY_PREFIX,
            limit=limit,
            cursor=cursor,
            what="messages",
            after=None if after is None else message_sk(after),
        )
        return Page([_message_from_item(i) for i in items], next_cursor)

    def find_by_carrier_id(self, carrier: str, carrier_message_id: str) -> MessageRef:
        item = self._existing_item(
            {PARTITION_KEY: carrier_pk(carrier, carrier_message_id), SORT_KEY: "CARRIER"},
            "carrier id",
            missing="no message with that carrier id",
        )
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
        """Move an outbound message forward (queued -> sent -> delivered | failed), never back.

        Returns False, changing nothing, when the message is already at or past `status`:
        repeated and out-of-order carrier events are expected and harmless. An inbound
        message has no delivery status: asking to change one raises NotOutboundError and
        changes nothing (its carrier id is a valid key, so a status event can name it).
        """
        lower_ranks = [s.value for s, rank in STATUS_RANK.items() if rank < STATUS_RANK[status]]
        names = {"#status": "status", "#direction": "direction"}
        values: dict[str, Any] = {
            ":new": status.value,
            ":at": at,
            ":outbound": Direction.OUTBOUND.value,
        }
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
            PARTITION_KEY: messages_pk(ref.tenant_id, ref.conversation_id),
            SORT_KEY: message_sk(ref.message_id),
        }
        pending = PENDING_OUTBOUND
        update: dict[str, Any] = {
            "TableName": self._db.name,
            "Key": key,
            # Leaving `queued` takes the message off the sweeper's pending index, and drops
            # the texted copy (a secure link's token, a one-time code): it is never needed
            # again, and a code must not stay readable (#15).
            "UpdateExpression": "SET "
            + ", ".join(sets)
            + f" REMOVE {pending.partition_key}, {pending.sort_key}, send_lease, sms_text_record",
            "ConditionExpression": (
                "attribute_exists(pk) AND #direction = :outbound"
                f" AND #status IN ({', '.join(placeholders)})"
            ),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        actions: list[dict[str, Any]] = [{"Update": update}]
        if carrier and carrier_message_id:
            # The pointer lets status callbacks that carry only the carrier id find us.
            pointer = _carrier_item(carrier, carrier_message_id, ref)
            actions.append({"Put": {"TableName": self._db.name, "Item": pointer}})
        with dynamodb("TransactWriteItems status"):
            try:
                self._db.transact_write_items(TransactItems=actions)
            except ClientError as error:
                if aws.error_code(error) != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    # NotFoundError if it never existed
                    if self.get_message(ref).direction is not Direction.OUTBOUND:
                        raise NotOutboundError("status change for an inbound message") from None
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
        with dynamodb("UpdateItem claim"):
            try:
                response = self._db.update_item(
                    Key={
                        PARTITION_KEY: messages_pk(ref.tenant_id, ref.conversation_id),
                        SORT_KEY: message_sk(ref.message_id),
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

    def mark_opened(self, ref: MessageRef, at: str) -> bool:
        """Stamp a secure-link message's first opening; False if it was opened before."""
        with dynamodb("UpdateItem opened"):
            try:
                self._db.update_item(
                    Key={
                        PARTITION_KEY: messages_pk(ref.tenant_id, ref.conversation_id),
                        SORT_KEY: message_sk(ref.message_id),
                    },
                    UpdateExpression="SET opened_at = :at",
                    ConditionExpression="attribute_exists(pk) AND attribute_not_exists(opened_at)",
                    ExpressionAttributeValues={":at": at},
                )
            except ClientError as error:
                if aws.error_code(error) == "ConditionalCheckFailedException":
                    return False
                raise
        return True

    def list_pending(self, *, created_before: str, limit: int = 100) -> list[PendingMessage]:
        """Outbound messages still queued that were created before `created_before`."""
        index = PENDING_OUTBOUND
        with dynamodb("Query pending"):
            response = self._db.query(
                IndexName=index.name,
                KeyConditionExpression="#gpk = :gpk AND #gsk < :before",
                ExpressionAttributeNames={"#gpk": index.partition_key, "#gsk": index.sort_key},
                ExpressionAttributeValues={":gpk": PENDING_PK, ":before": created_before},
                Limit=clamp(limit),
            )
        return [
            PendingMessage(
                MessageRef(i["tenant_id"], i["conversation_id"], i["message_id"]),
                i["created_at"],
                int(i.get("send_attempts", 0)),
            )
            for i in response.get("Items", [])
        ]


def _carrier_item(
    carrier: str, carrier_message_id: str, ref: Message | MessageRef
) -> dict[str, Any]:
    item: dict[str, Any] = {
        PARTITION_KEY: carrier_pk(carrier, carrier_message_id),
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
        PARTITION_KEY: messages_pk(message.tenant_id, message.conversation_id),
        SORT_KEY: message_sk(message.message_id),
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
        "kind": None if message.kind is MessageKind.PLAIN else message.kind.value,
        "opened_at": message.opened_at,
    }
    item.update({k: v for k, v in optional.items() if v is not None})
    if message.status is MessageStatus.QUEUED:
        item[PENDING_OUTBOUND.partition_key] = PENDING_PK
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
        kind=MessageKind(item.get("kind", MessageKind.PLAIN.value)),
        opened_at=item.get("opened_at"),
    )
