"""Conversations: the client's encrypted details, consent, opt-out, read marks, listing."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from functions.core.errors import ConflictError
from functions.core.models import ConsentRecord, Conversation, Page
from functions.dal import aws
from functions.dal.schema import CONVERSATIONS_BY_ACTIVITY, PARTITION_KEY, SORT_KEY
from functions.dal.store._common import (
    TableRecords,
    activity_pk,
    clamp,
    conversation_key,
    conversation_sk,
    decode_cursor,
    decode_since,
    dynamodb,
    encode_cursor,
    encode_since,
    messages_pk,
    tenant_pk,
)


class ConversationRecords(TableRecords):
    """TENANT#<tenant> CONV#<conversation> items and their activity index."""

    def get_conversation(self, tenant_id: str, conversation_id: str) -> Conversation:
        item = self._existing_item(
            {
                PARTITION_KEY: tenant_pk(tenant_id),
                SORT_KEY: conversation_sk(conversation_id),
            },
            "conversation",
        )
        return conversation_from_item(item)

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
        since: str | None = None,
    ) -> Page[Conversation]:
        """Conversations by last activity, newest first.

        `since` (the mark an earlier listing returned) keeps only conversations whose
        activity is newer: a key condition, so what was not changed is not even read. The
        page's own `since` marks its newest item (on a first page only; later pages of the
        same listing keep the mark the first gave).

        `visible_to` (a clinician's user id) keeps theirs and unassigned ones. Filters
        apply after DynamoDB's page limit, so a page may hold fewer items than `limit`
        while a cursor still follows: clients page until the cursor is absent.
        """
        index = CONVERSATIONS_BY_ACTIVITY
        start = decode_cursor(cursor, {index.partition_key: activity_pk(tenant_id)})
        names = {"#gpk": index.partition_key}
        values: dict[str, Any] = {":gpk": activity_pk(tenant_id)}
        key_condition = "#gpk = :gpk"
        if since is not None:
            names["#gsk"] = index.sort_key
            values[":since"] = decode_since(since)
            key_condition += " AND #gsk > :since"
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
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": clamp(limit),
        }
        if conditions:
            query["FilterExpression"] = " AND ".join(conditions)
        if start:
            query["ExclusiveStartKey"] = start
        with dynamodb("Query conversations"):
            response = self._db.query(**query)
        items = response.get("Items", [])
        mark = since
        if items and start is None:
            mark = encode_since(str(items[0][index.sort_key]))
        return Page(
            [conversation_from_item(i) for i in items],
            encode_cursor(response.get("LastEvaluatedKey")),
            since=mark,
        )

    def mark_conversation_read(self, tenant_id: str, conversation_id: str) -> None:
        self._update_existing(
            conversation_key(tenant_id, conversation_id),
            "conversation",
            UpdateExpression="SET unread_count = :zero",
            ExpressionAttributeValues={":zero": 0},
        )

    def set_consent(self, tenant_id: str, conversation_id: str, consent: ConsentRecord) -> None:
        self._update_existing(
            conversation_key(tenant_id, conversation_id),
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
            PARTITION_KEY: tenant_pk(tenant_id),
            SORT_KEY: conversation_sk(conversation_id),
            "tenant_id": tenant_id,
            "conversation_id": conversation_id,
            "phone_record": phone_record,
            "created_at": at,
            "last_activity_at": at,
            "opted_out": False,
            "unread_count": 0,
            CONVERSATIONS_BY_ACTIVITY.partition_key: activity_pk(tenant_id),
            CONVERSATIONS_BY_ACTIVITY.sort_key: f"{at}#{conversation_id}",
        }
        if name_record is not None:
            item["name_record"] = name_record
        if consent is not None:
            item["consent"] = consent.to_item()
        with dynamodb("PutItem conversation"):
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
            conversation_key(tenant_id, conversation_id),
            "conversation",
            UpdateExpression=expression,
            **extra,
        )

    def delete_conversation(self, tenant_id: str, conversation_id: str) -> int:
        """Delete a conversation, its client's details and every message; returns messages deleted.

        The message partition is queried page by page (keys only) and deleted in batches;
        the conversation item goes last, so a retry after a crash finishes the job.
        """
        pk = messages_pk(tenant_id, conversation_id)
        deleted = 0
        start: dict[str, Any] | None = None
        with dynamodb("delete conversation"):
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
                    PARTITION_KEY: tenant_pk(tenant_id),
                    SORT_KEY: conversation_sk(conversation_id),
                }
            )
        return deleted

    def set_opted_out(self, tenant_id: str, conversation_id: str, opted_out: bool, at: str) -> None:
        """Record an opt-out the carrier reported (the client's STOP reached it, not us)."""
        self._update_existing(
            conversation_key(tenant_id, conversation_id),
            "conversation",
            UpdateExpression="SET opted_out = :o, opted_out_changed_at = :at",
            ExpressionAttributeValues={":o": opted_out, ":at": at},
        )


def conversation_from_item(item: dict[str, Any]) -> Conversation:
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
        urgent_at=item.get("urgent_at"),
    )
