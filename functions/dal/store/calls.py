"""Calls in a client's thread, voice settings and clinicians' forwarding cells.

    CONV#<tenant>#<conversation> CALL#<call ulid>   a call (ids, outcome; no number, no audio)
    CARRIER#<carrier>#<call id>  CALL               carrier call id -> call (idempotency)
    TENANT#<tenant>              VOICE              the practice's voice settings
    TENANT#<tenant>              FORWARD#<user>     a clinician's encrypted forwarding cell
    RECDEL#<carrier>             <recording id>     a carrier's voicemail copy still to delete

Calls share the thread's partition, so deleting a conversation deletes its calls; they
have their own sort-key prefix so nothing that reads messages ever meets a call
(docs/data-model.md argues the choice).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from functions.core.errors import DuplicateError
from functions.core.models import Page
from functions.core.voice import (
    CallDirection,
    CallOutcome,
    CallRecord,
    CallStatus,
    NumberRouting,
    RingStrategy,
    VoicemailRef,
    VoiceSettings,
)
from functions.dal import aws
from functions.dal.schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from functions.dal.store._common import (
    TableRecords,
    activity_pk,
    carrier_pk,
    clamp,
    conversation_sk,
    dynamodb,
    messages_pk,
    tenant_pk,
)
from functions.logic.voice_ports import PendingRecordingDelete

CALL_SORT_KEY_PREFIX = "CALL#"
_CARRIER_CALL_SK = "CALL"


def _call_key(tenant_id: str, conversation_id: str, call_ulid: str) -> dict[str, str]:
    return {
        PARTITION_KEY: messages_pk(tenant_id, conversation_id),
        SORT_KEY: f"{CALL_SORT_KEY_PREFIX}{call_ulid}",
    }


def _pointer_key(carrier: str, carrier_call_id: str) -> dict[str, str]:
    return {PARTITION_KEY: carrier_pk(carrier, carrier_call_id), SORT_KEY: _CARRIER_CALL_SK}


class CallRecords(TableRecords):
    def put_call(
        self,
        call: CallRecord,
        *,
        new_phone_record: bytes | None = None,
        texting_number: str | None = None,
    ) -> None:
        table = self._db.name
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": table,
                    "Item": _call_item(call),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Update": self._conversation_touch(call, new_phone_record, texting_number)},
        ]
        if call.carrier and call.carrier_call_id:
            pointer = {
                **_pointer_key(call.carrier, call.carrier_call_id),
                **_ids(call),
                TTL_ATTRIBUTE: call.expires_at,
            }
            actions.append(
                {
                    "Put": {
                        "TableName": table,
                        "Item": pointer,
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        with dynamodb("TransactWriteItems call"):
            try:
                self._db.transact_write_items(TransactItems=actions)
            except ClientError as error:
                if aws.error_code(error) != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
                if len(reasons) == 3 and reasons[2] == "ConditionalCheckFailed":
                    raise DuplicateError("call already recorded") from None
                raise

    def _conversation_touch(
        self, call: CallRecord, new_phone_record: bytes | None, texting_number: str | None
    ) -> dict[str, Any]:
        """The call brings its conversation to the top of the inbox, as a message does."""
        sets = [
            "tenant_id = :tenant",
            "conversation_id = :conv",
            "last_activity_at = :at",
            "gsi1pk = :gpk",
            "gsi1sk = :gsk",
            "created_at = if_not_exists(created_at, :at)",
            "opted_out = if_not_exists(opted_out, :false)",
        ]
        values: dict[str, Any] = {
            ":tenant": call.tenant_id,
            ":conv": call.conversation_id,
            ":at": call.created_at,
            ":gpk": activity_pk(call.tenant_id),
            ":gsk": f"{call.created_at}#{call.conversation_id}",
            ":false": False,
        }
        update: dict[str, Any] = {
            "TableName": self._db.name,
            "Key": {
                PARTITION_KEY: tenant_pk(call.tenant_id),
                SORT_KEY: conversation_sk(call.conversation_id),
            },
            "ExpressionAttributeValues": values,
        }
        if texting_number is not None:  # the number the conversation's texts go from
            sets.append("business_number = if_not_exists(business_number, :biz)")
            values[":biz"] = texting_number
        if new_phone_record is not None:
            sets.append("phone_record = if_not_exists(phone_record, :phone)")
            values[":phone"] = new_phone_record
        else:
            update["ConditionExpression"] = "attribute_exists(phone_record)"
        update["UpdateExpression"] = "SET " + ", ".join(sets)
        if call.direction is CallDirection.INBOUND:
            update["UpdateExpression"] += " ADD unread_count :one"
            values[":one"] = 1
        return update

    def get_call(self, tenant_id: str, conversation_id: str, call_ulid: str) -> CallRecord:
        item = self._existing_item(
            _call_key(tenant_id, conversation_id, call_ulid), "call", consistent=True
        )
        return _call_from_item(item)

    def find_call_by_carrier_id(self, carrier: str, carrier_call_id: str) -> CallRecord:
        item = self._existing_item(
            _pointer_key(carrier, carrier_call_id),
            "carrier call id",
            missing="no call with that carrier id",
        )
        return self.get_call(item["tenant_id"], item["conversation_id"], item["call_ulid"])

    def update_call(
        self,
        call: CallRecord,
        *,
        status: CallStatus,
        expected: tuple[CallStatus, ...],
        at: str,
        outcome: CallOutcome | None = None,
        answered_by: str | None = None,
        duration_seconds: int | None = None,
        carrier_call_id: str | None = None,
        voicemail: VoicemailRef | None = None,
    ) -> bool:
        sets = ["#status = :status", "updated_at = :at"]
        values: dict[str, Any] = {":status": status.value, ":at": at}
        for name, value in (
            ("outcome", outcome.value if outcome else None),
            ("answered_by", answered_by),
            ("duration_seconds", duration_seconds),
            ("carrier_call_id", carrier_call_id),
            ("voicemail", _voicemail_item(voicemail) if voicemail else None),
        ):
            if value is not None:
                sets.append(f"{name} = :{name}")
                values[f":{name}"] = value
        placeholders = []
        for i, allowed in enumerate(expected):
            values[f":e{i}"] = allowed.value
            placeholders.append(f":e{i}")
        with dynamodb("UpdateItem call"):
            try:
                self._db.update_item(
                    Key=_call_key(call.tenant_id, call.conversation_id, call.call_ulid),
                    UpdateExpression="SET " + ", ".join(sets),
                    ConditionExpression=(
                        f"attribute_exists(pk) AND #status IN ({', '.join(placeholders)})"
                    ),
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues=values,
                )
            except ClientError as error:
                if aws.error_code(error) == "ConditionalCheckFailedException":
                    return False
                raise
        return True

    def list_calls(
        self, tenant_id: str, conversation_id: str, *, limit: int, cursor: str | None
    ) -> Page[CallRecord]:
        items, next_cursor = self._newest_first(
            messages_pk(tenant_id, conversation_id),
            CALL_SORT_KEY_PREFIX,
            limit=limit,
            cursor=cursor,
            what="calls",
        )
        return Page([_call_from_item(i) for i in items], next_cursor)

    # --- carrier copies whose delete failed (one small partition per carrier) ------------

    def mark_recording_delete_pending(self, pending: PendingRecordingDelete) -> None:
        item = {
            PARTITION_KEY: _pending_pk(pending.carrier),
            SORT_KEY: pending.carrier_recording_id,
            "call_id": pending.call_id,
            TTL_ATTRIBUTE: pending.expires_at,
        }
        with dynamodb("PutItem pending recording delete"):
            self._db.put_item(Item=item)

    def list_pending_recording_deletes(
        self, carrier: str, *, limit: int
    ) -> list[PendingRecordingDelete]:
        with dynamodb("Query pending recording deletes"):
            response = self._db.query(
                KeyConditionExpression="#pk = :pk",
                ExpressionAttributeNames={"#pk": PARTITION_KEY},
                ExpressionAttributeValues={":pk": _pending_pk(carrier)},
                Limit=clamp(limit),
            )
        return [
            PendingRecordingDelete(
                carrier, str(i[SORT_KEY]), str(i["call_id"]), int(i[TTL_ATTRIBUTE])
            )
            for i in response.get("Items", [])
        ]

    def clear_recording_delete_pending(self, carrier: str, carrier_recording_id: str) -> None:
        with dynamodb("DeleteItem pending recording delete"):
            self._db.delete_item(
                Key={PARTITION_KEY: _pending_pk(carrier), SORT_KEY: carrier_recording_id}
            )

    # --- voice settings and forwarding cells -------------------------------------------------

    def get_voice_settings(self, tenant_id: str) -> VoiceSettings:
        with dynamodb("GetItem voice settings"):
            item = self._db.get_item(
                Key={PARTITION_KEY: tenant_pk(tenant_id), SORT_KEY: "VOICE"}
            ).get("Item")
        return _settings_from_item(item) if item else VoiceSettings()

    def put_voice_settings(self, tenant_id: str, settings: VoiceSettings) -> None:
        item = {PARTITION_KEY: tenant_pk(tenant_id), SORT_KEY: "VOICE", **_settings_item(settings)}
        with dynamodb("PutItem voice settings"):
            self._db.put_item(Item=item)

    def get_forwarding_records(self, tenant_id: str, user_ids: list[str]) -> dict[str, bytes]:
        if not user_ids:
            return {}
        keys = [
            {PARTITION_KEY: tenant_pk(tenant_id), SORT_KEY: f"FORWARD#{u}"} for u in set(user_ids)
        ]
        with dynamodb("BatchGetItem forwarding"):
            response = self._db.batch_get_item(
                RequestItems={self._db.name: {"Keys": keys, "ConsistentRead": True}}
            )
        items = response.get("Responses", {}).get(self._db.name, [])
        return {i["user_id"]: bytes(i["number_record"]) for i in items}

    def put_forwarding_record(self, tenant_id: str, user_id: str, record: bytes) -> None:
        item = {
            PARTITION_KEY: tenant_pk(tenant_id),
            SORT_KEY: f"FORWARD#{user_id}",
            "user_id": user_id,
            "number_record": record,
        }
        with dynamodb("PutItem forwarding"):
            self._db.put_item(Item=item)

    def delete_forwarding_record(self, tenant_id: str, user_id: str) -> None:
        with dynamodb("DeleteItem forwarding"):
            self._db.delete_item(
                Key={PARTITION_KEY: tenant_pk(tenant_id), SORT_KEY: f"FORWARD#{user_id}"}
            )


def _pending_pk(carrier: str) -> str:
    return f"RECDEL#{carrier}"


def _ids(call: CallRecord) -> dict[str, str]:
    return {
        "tenant_id": call.tenant_id,
        "conversation_id": call.conversation_id,
        "call_ulid": call.call_ulid,
    }


def _voicemail_item(ref: VoicemailRef) -> dict[str, Any]:
    return {
        "object_key": ref.object_key,
        "content_type": ref.content_type,
        "duration_seconds": ref.duration_seconds,
        "size_bytes": ref.size_bytes,
    }


def _call_item(call: CallRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        **_call_key(call.tenant_id, call.conversation_id, call.call_ulid),
        **_ids(call),
        "kind": "call",
        "direction": call.direction.value,
        "status": call.status.value,
        "business_number": call.business_number,
        "created_at": call.created_at,
        "updated_at": call.updated_at,
        TTL_ATTRIBUTE: call.expires_at,
        "duration_seconds": call.duration_seconds,
    }
    for name in ("carrier", "carrier_call_id", "answered_by", "placed_by"):
        if getattr(call, name):
            item[name] = getattr(call, name)
    if call.outcome:
        item["outcome"] = call.outcome.value
    if call.voicemail:
        item["voicemail"] = _voicemail_item(call.voicemail)
    return item


def _call_from_item(item: dict[str, Any]) -> CallRecord:
    voicemail = item.get("voicemail")
    return CallRecord(
        tenant_id=item["tenant_id"],
        conversation_id=item["conversation_id"],
        call_ulid=item["call_ulid"],
        direction=CallDirection(item["direction"]),
        status=CallStatus(item["status"]),
        business_number=item["business_number"],
        created_at=item["created_at"],
        updated_at=item["updated_at"],
        expires_at=int(item[TTL_ATTRIBUTE]),
        carrier=item.get("carrier"),
        carrier_call_id=item.get("carrier_call_id"),
        outcome=CallOutcome(item["outcome"]) if item.get("outcome") else None,
        answered_by=item.get("answered_by"),
        placed_by=item.get("placed_by"),
        duration_seconds=int(item.get("duration_seconds", 0)),
        voicemail=VoicemailRef(
            voicemail["object_key"],
            voicemail["content_type"],
            int(voicemail["duration_seconds"]),
            int(voicemail["size_bytes"]),
        )
        if voicemail
        else None,
        transcript_status=item.get("transcript", {}).get("status"),
    )


def _settings_item(settings: VoiceSettings) -> dict[str, Any]:
    item: dict[str, Any] = settings.plain()
    if settings.greeting_recording_key:
        item["greeting_recording_key"] = settings.greeting_recording_key
    return item


def _settings_from_item(item: dict[str, Any]) -> VoiceSettings:
    return VoiceSettings(
        enabled=bool(item.get("enabled", False)),
        routes=tuple(
            NumberRouting(
                r["business_number"],
                tuple(r.get("user_ids", [])),
                RingStrategy(r.get("strategy", RingStrategy.SEQUENTIAL.value)),
                int(r.get("ring_seconds", 20)),
            )
            for r in item.get("routes", [])
        ),
        greeting_text=item.get("greeting_text", ""),
        greeting_recording_key=item.get("greeting_recording_key"),
        max_voicemail_seconds=int(item.get("max_voicemail_seconds", 120)),
        missed_call_text_enabled=bool(item.get("missed_call_text_enabled", False)),
        missed_call_text=item.get("missed_call_text", ""),
        transcribe_voicemail=bool(item.get("transcribe_voicemail", False)),
    )
