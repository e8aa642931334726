"""Voicemail transcripts: their state and sealed text on the call item, and a marker per
job under way for the sweep to poll.

    CONV#<tenant>#<conversation> CALL#<call ulid>   ... transcript = {status, attempt, record?}
    TRANSCRIBE                   <call id>          the job to poll (ids only; TTL = the call's)

The marker partition holds only jobs under way (a handful at a time), so one Query reads
them all; the text stays on the call item, deleted with the thread.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from functions.core.voice import split_call_id
from functions.dal import aws
from functions.dal.schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from functions.dal.store._common import TableRecords, clamp, dynamodb, messages_pk
from functions.dal.store.calls import CALL_SORT_KEY_PREFIX
from functions.logic.transcription import (
    PendingTranscription,
    StoredTranscript,
    TranscriptStatus,
)

_PENDING_PK = "TRANSCRIBE"


def _call_key(call_id: str) -> dict[str, str]:
    tenant_id, conversation_id, call_ulid = split_call_id(call_id)
    return _call_key_of(tenant_id, conversation_id, call_ulid)


def _call_key_of(tenant_id: str, conversation_id: str, call_ulid: str) -> dict[str, str]:
    return {
        PARTITION_KEY: messages_pk(tenant_id, conversation_id),
        SORT_KEY: f"{CALL_SORT_KEY_PREFIX}{call_ulid}",
    }


def _marker_key(call_id: str) -> dict[str, str]:
    return {PARTITION_KEY: _PENDING_PK, SORT_KEY: call_id}


class TranscriptRecords(TableRecords):
    def put_pending(self, pending: PendingTranscription) -> None:
        marker = {
            **_marker_key(pending.call_id),
            "job_name": pending.job_name,
            "attempt": pending.attempt,
            "started_at": pending.started_at,
            TTL_ATTRIBUTE: pending.expires_at,
        }
        state = {"status": TranscriptStatus.PENDING.value, "attempt": pending.attempt}
        self._transact(
            "TransactWriteItems transcript pending",
            [
                {"Update": self._set_transcript(pending.call_id, state)},
                {"Put": {"TableName": self._db.name, "Item": marker}},
            ],
        )

    def list_pending(self, *, limit: int) -> list[PendingTranscription]:
        with dynamodb("Query pending transcripts"):
            response = self._db.query(
                KeyConditionExpression="#pk = :pk",
                ExpressionAttributeNames={"#pk": PARTITION_KEY},
                ExpressionAttributeValues={":pk": _PENDING_PK},
                Limit=clamp(limit),
                ConsistentRead=True,
            )
        return [
            PendingTranscription(
                str(i[SORT_KEY]),
                str(i["job_name"]),
                int(i["attempt"]),
                str(i["started_at"]),
                int(i[TTL_ATTRIBUTE]),
            )
            for i in response.get("Items", [])
        ]

    def finish(
        self, pending: PendingTranscription, status: TranscriptStatus, record: bytes | None
    ) -> None:
        state: dict[str, Any] = {"status": status.value, "attempt": pending.attempt}
        if record is not None:
            state["record"] = record
        self._transact(
            "TransactWriteItems transcript final",
            [{"Update": self._set_transcript(pending.call_id, state)}],
        )

    def clear_pending(self, call_id: str) -> None:
        with dynamodb("DeleteItem pending transcript"):
            self._db.delete_item(Key=_marker_key(call_id))

    def get_transcript(
        self, tenant_id: str, conversation_id: str, call_ulid: str
    ) -> StoredTranscript | None:
        with dynamodb("GetItem transcript"):
            item = self._db.get_item(
                Key=_call_key_of(tenant_id, conversation_id, call_ulid),
                ProjectionExpression="transcript",
                ConsistentRead=True,
            ).get("Item")
        state = (item or {}).get("transcript")
        if not state:
            return None
        record = state.get("record")
        return StoredTranscript(
            TranscriptStatus(state["status"]),
            int(state.get("attempt", 0)),
            bytes(record) if record is not None else None,
        )

    def _set_transcript(self, call_id: str, state: dict[str, Any]) -> dict[str, Any]:
        # Only on a call that still exists: a thread deleted meanwhile stays deleted.
        return {
            "TableName": self._db.name,
            "Key": _call_key(call_id),
            "UpdateExpression": "SET transcript = :t",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":t": state},
        }

    def _transact(self, what: str, actions: list[dict[str, Any]]) -> None:
        with dynamodb(what):
            try:
                self._db.transact_write_items(TransactItems=actions)
            except ClientError as error:
                if aws.error_code(error) != "TransactionCanceledException":
                    raise
                raise aws.translate(error, what) from None
