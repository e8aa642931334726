"""Scheduled messages, their due-time index, appointments and reminder answers.

    TENANT#<tenant>   SCHED#<conversation>#<schedule>   a scheduled message (body sealed)
    DUE               <due iso>#<tenant>#<conv>#<sched>  due pointer: ids only, swept
    TENANT#<tenant>   APPT#<appointment ulid>            an appointment (ULID of its start)
    TENANT#<tenant>   APPTKEY#<hash of import id>        import id -> appointment (re-imports)
    TENANT#<tenant>   AWAIT#<conversation>               a reminder awaits this client's answer
    TENANT#<tenant>   SCHEDCFG                           the tenant's scheduling rules

The due pointers share one partition, read with a strongly consistent Query on sort
key <= now: at a practice's volume (reminders per minute, not thousands per second) one
partition is far below its limits, and a strongly consistent read means a pointer
written a moment ago is never missed (a GSI is eventually consistent).
The send is one transaction: the message put, the schedule's pending -> sent and the
pointer's delete commit together or not at all, so a retry cannot send twice.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from botocore.exceptions import ClientError

from functions.core.errors import ConflictError, NotFoundError
from functions.core.models import ConversationChange, Message
from functions.core.schedule import (
    Appointment,
    AppointmentStatus,
    ReplyKind,
    ScheduledMessage,
    ScheduleKind,
    ScheduleStatus,
    SchedulingConfig,
    parse_utc,
)
from functions.dal import aws
from functions.dal.schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from functions.dal.store import MessageStore
from functions.dal.store._common import clamp, dynamodb, tenant_pk
from functions.dal.store.messages import _message_item

DUE_PK = "DUE"
_AFTER_SEPARATOR = "$"  # sorts after "#": the upper bound of one instant's pointers


def schedule_key(tenant_id: str, conversation_id: str, schedule_id: str) -> dict[str, str]:
    return {
        PARTITION_KEY: tenant_pk(tenant_id),
        SORT_KEY: f"SCHED#{conversation_id}#{schedule_id}",
    }


def due_key(s: ScheduledMessage, due_at: str | None = None) -> dict[str, str]:
    at = due_at or s.due_at
    return {
        PARTITION_KEY: DUE_PK,
        SORT_KEY: f"{at}#{s.tenant_id}#{s.conversation_id}#{s.schedule_id}",
    }


def appointment_key(tenant_id: str, appointment_id: str) -> dict[str, str]:
    return {PARTITION_KEY: tenant_pk(tenant_id), SORT_KEY: f"APPT#{appointment_id}"}


def awaiting_key(tenant_id: str, conversation_id: str) -> dict[str, str]:
    return {PARTITION_KEY: tenant_pk(tenant_id), SORT_KEY: f"AWAIT#{conversation_id}"}


class ScheduleRecords(MessageStore):
    """The scheduler's items, on the message store (its reads and the send transaction)."""

    # --- scheduled messages -------------------------------------------------------
    def put_schedule(self, schedule: ScheduledMessage) -> None:
        """The schedule and its due pointer, together."""
        self._transact(
            [
                self._put(_schedule_item(schedule), "attribute_not_exists(pk)"),
                self._put(_pointer_item(schedule), None),
            ],
            "schedule",
        )

    def get_schedule(self, tenant_id: str, conversation_id: str, schedule_id: str) -> Any:
        key = schedule_key(tenant_id, conversation_id, schedule_id)
        item = self._existing_item(key, "schedule", consistent=True)
        return _schedule_from_item(item)

    def list_schedules(self, tenant_id: str, conversation_id: str) -> list[ScheduledMessage]:
        with dynamodb("Query schedules"):
            response = self._db.query(
                KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
                ExpressionAttributeNames={"#pk": PARTITION_KEY, "#sk": SORT_KEY},
                ExpressionAttributeValues={
                    ":pk": tenant_pk(tenant_id),
                    ":prefix": f"SCHED#{conversation_id}#",
                },
                Limit=100,
            )
        return [_schedule_from_item(i) for i in response.get("Items", [])]

    def due_pointers(self, now: str, *, limit: int = 100) -> list[tuple[str, str, str]]:
        """(tenant, conversation, schedule) of pointers due at or before `now`, oldest first."""
        with dynamodb("Query due"):
            response = self._db.query(
                KeyConditionExpression="#pk = :pk AND #sk < :upper",
                ExpressionAttributeNames={"#pk": PARTITION_KEY, "#sk": SORT_KEY},
                ExpressionAttributeValues={":pk": DUE_PK, ":upper": now + _AFTER_SEPARATOR},
                ConsistentRead=True,
                Limit=clamp(limit),
            )
        return [
            (i["tenant_id"], i["conversation_id"], i["schedule_id"])
            for i in response.get("Items", [])
        ]

    def complete_send(
        self,
        schedule: ScheduledMessage,
        message: Message,
        *,
        at: str,
        awaiting_until: str | None = None,
    ) -> None:
        """Claim and send at once: the message, schedule pending -> sent, pointer gone.

        ConflictError: the schedule is no longer pending at this due time (another sweep
        sent it, staff cancelled it): nothing was written.
        """
        table = self._db.name
        actions = [
            self._put(_message_item(message), "attribute_not_exists(pk)"),
            self._conversation_touch(message, table, None, ConversationChange()),
            self._settle(schedule, ScheduleStatus.SENT, at=at, sent_at=at),
            {"Delete": {"TableName": table, "Key": due_key(schedule)}},
        ]
        if schedule.appointment_id and awaiting_until:
            actions += self._awaiting_actions(schedule, at, awaiting_until)
        self._transact(actions, "scheduled send")

    def _awaiting_actions(
        self, schedule: ScheduledMessage, at: str, until: str
    ) -> list[dict[str, Any]]:
        assert schedule.appointment_id
        table = self._db.name
        expires = int(parse_utc(until).timestamp()) + 7 * 86_400
        return [
            {
                "Update": {
                    "TableName": table,
                    "Key": appointment_key(schedule.tenant_id, schedule.appointment_id),
                    "UpdateExpression": "SET awaiting_since = :at ADD reminders_sent :one",
                    "ConditionExpression": "attribute_exists(pk) AND #st = :booked",
                    "ExpressionAttributeNames": {"#st": "status"},
                    "ExpressionAttributeValues": {
                        ":at": at,
                        ":one": 1,
                        ":booked": AppointmentStatus.BOOKED.value,
                    },
                }
            },
            self._put(
                {
                    **awaiting_key(schedule.tenant_id, schedule.conversation_id),
                    "appointment_id": schedule.appointment_id,
                    "until": until,
                    TTL_ATTRIBUTE: expires,
                },
                None,
            ),
        ]

    def settle_schedule(
        self, schedule: ScheduledMessage, status: ScheduleStatus, *, at: str, reason: str
    ) -> None:
        """Pending -> cancelled/skipped/failed, pointer gone (ConflictError: not pending)."""
        self._transact(
            [
                self._settle(schedule, status, at=at, reason=reason),
                {"Delete": {"TableName": self._db.name, "Key": due_key(schedule)}},
            ],
            "schedule settle",
        )

    def defer_schedule(self, schedule: ScheduledMessage, new_due: str) -> None:
        """Move a pending schedule's due time (quiet hours): the pointer moves with it."""
        table = self._db.name
        moved = ScheduledMessage(**{**asdict(schedule), "due_at": new_due})
        self._transact(
            [
                {
                    "Update": {
                        "TableName": table,
                        "Key": schedule_key(
                            schedule.tenant_id, schedule.conversation_id, schedule.schedule_id
                        ),
                        "UpdateExpression": "SET due_at = :new",
                        "ConditionExpression": "#st = :pending AND due_at = :due",
                        "ExpressionAttributeNames": {"#st": "status"},
                        "ExpressionAttributeValues": {
                            ":new": new_due,
                            ":pending": ScheduleStatus.PENDING.value,
                            ":due": schedule.due_at,
                        },
                    }
                },
                {"Delete": {"TableName": table, "Key": due_key(schedule)}},
                self._put(_pointer_item(moved), None),
            ],
            "schedule defer",
        )

    def note_attempt(self, schedule: ScheduledMessage, reason: str) -> int:
        """Count a failed send attempt (the pointer stays: the next sweep retries)."""
        with dynamodb("UpdateItem schedule attempt"):
            response = self._db.update_item(
                Key=schedule_key(
                    schedule.tenant_id, schedule.conversation_id, schedule.schedule_id
                ),
                UpdateExpression="SET reason = :reason ADD attempts :one",
                ExpressionAttributeValues={":reason": reason[:100], ":one": 1},
                ReturnValues="UPDATED_NEW",
            )
        return int(response["Attributes"]["attempts"])

    def _settle(
        self,
        schedule: ScheduledMessage,
        status: ScheduleStatus,
        *,
        at: str,
        reason: str | None = None,
        sent_at: str | None = None,
    ) -> dict[str, Any]:
        sets = ["#st = :status", "settled_at = :at"]
        values: dict[str, Any] = {
            ":status": status.value,
            ":at": at,
            ":pending": ScheduleStatus.PENDING.value,
            ":due": schedule.due_at,
        }
        if reason:
            sets.append("reason = :reason")
            values[":reason"] = reason[:100]
        if sent_at:
            sets.append("sent_at = :sent")
            values[":sent"] = sent_at
        return {
            "Update": {
                "TableName": self._db.name,
                "Key": schedule_key(
                    schedule.tenant_id, schedule.conversation_id, schedule.schedule_id
                ),
                "UpdateExpression": "SET " + ", ".join(sets),
                "ConditionExpression": "#st = :pending AND due_at = :due",
                "ExpressionAttributeNames": {"#st": "status"},
                "ExpressionAttributeValues": values,
            }
        }

    # --- appointments ---------------------------------------------------------------
    def put_appointment(self, appointment: Appointment, *, replaces: str | None = None) -> None:
        """A new appointment (and its import key); `replaces`: the id it moves from."""
        actions = [self._put(_appointment_item(appointment), "attribute_not_exists(pk)")]
        if appointment.external_key:
            actions.append(
                self._put(
                    {
                        PARTITION_KEY: tenant_pk(appointment.tenant_id),
                        SORT_KEY: f"APPTKEY#{appointment.external_key}",
                        "appointment_id": appointment.appointment_id,
                        TTL_ATTRIBUTE: appointment.expires_at,
                    },
                    None,
                )
            )
        if replaces:
            actions.append(
                {
                    "Delete": {
                        "TableName": self._db.name,
                        "Key": appointment_key(appointment.tenant_id, replaces),
                    }
                }
            )
        self._transact(actions, "appointment")

    def appointment_for_key(self, tenant_id: str, external_key: str) -> Appointment | None:
        with dynamodb("GetItem appointment key"):
            item = self._db.get_item(
                Key={PARTITION_KEY: tenant_pk(tenant_id), SORT_KEY: f"APPTKEY#{external_key}"},
                ConsistentRead=True,
            ).get("Item")
        if not item:
            return None
        try:
            return self.get_appointment(tenant_id, item["appointment_id"])
        except NotFoundError:
            return None

    def get_appointment(self, tenant_id: str, appointment_id: str) -> Appointment:
        key = appointment_key(tenant_id, appointment_id)
        item = self._existing_item(key, "appointment", consistent=True)
        return _appointment_from_item(item)

    def list_appointments(self, tenant_id: str, first_id: str, last_id: str) -> list[Appointment]:
        """Appointments whose ids (ULIDs of their start) fall in [first_id, last_id]."""
        items: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while True:
            query: dict[str, Any] = {
                "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :a AND :b",
                "ExpressionAttributeNames": {"#pk": PARTITION_KEY, "#sk": SORT_KEY},
                "ExpressionAttributeValues": {
                    ":pk": tenant_pk(tenant_id),
                    ":a": f"APPT#{first_id}",
                    ":b": f"APPT#{last_id}",
                },
            }
            if start:
                query["ExclusiveStartKey"] = start
            with dynamodb("Query appointments"):
                response = self._db.query(**query)
            items += response.get("Items", [])
            start = response.get("LastEvaluatedKey")
            if not start or len(items) >= 1000:
                return [_appointment_from_item(i) for i in items]

    def set_appointment_status(
        self, tenant_id: str, appointment_id: str, status: AppointmentStatus
    ) -> None:
        self._update_existing(
            appointment_key(tenant_id, appointment_id),
            "appointment",
            UpdateExpression="SET #st = :st",
            ExpressionAttributeNames={"#st": "status"},
            ExpressionAttributeValues={":st": status.value},
        )

    def set_schedule_ids(
        self, tenant_id: str, appointment_id: str, schedule_ids: tuple[str, ...]
    ) -> None:
        self._update_existing(
            appointment_key(tenant_id, appointment_id),
            "appointment",
            UpdateExpression="SET schedule_ids = :ids",
            ExpressionAttributeValues={":ids": list(schedule_ids)},
        )

    # --- answers to reminders -------------------------------------------------------
    def awaiting(self, tenant_id: str, conversation_id: str) -> tuple[str, str] | None:
        """(appointment id, answer-by) of the reminder this client may answer, if any."""
        with dynamodb("GetItem awaiting"):
            item = self._db.get_item(
                Key=awaiting_key(tenant_id, conversation_id), ConsistentRead=True
            ).get("Item")
        if not item:
            return None
        return str(item["appointment_id"]), str(item["until"])

    def record_reply(
        self, tenant_id: str, conversation_id: str, appointment_id: str, reply: ReplyKind, at: str
    ) -> None:
        """The answer on the appointment, the awaiting marker gone (ConflictError: no longer
        awaiting, e.g. a second answer raced this one)."""
        table = self._db.name
        self._transact(
            [
                {
                    "Update": {
                        "TableName": table,
                        "Key": appointment_key(tenant_id, appointment_id),
                        "UpdateExpression": "SET reply = :r, reply_at = :at REMOVE awaiting_since",
                        "ConditionExpression": "attribute_exists(awaiting_since)",
                        "ExpressionAttributeValues": {":r": reply.value, ":at": at},
                    }
                },
                {
                    "Delete": {
                        "TableName": table,
                        "Key": awaiting_key(tenant_id, conversation_id),
                        "ConditionExpression": "appointment_id = :id",
                        "ExpressionAttributeValues": {":id": appointment_id},
                    }
                },
            ],
            "reminder reply",
        )

    def clear_awaiting(self, tenant_id: str, conversation_id: str, appointment_id: str) -> None:
        with dynamodb("DeleteItem awaiting"):
            try:
                self._db.delete_item(
                    Key=awaiting_key(tenant_id, conversation_id),
                    ConditionExpression="appointment_id = :id",
                    ExpressionAttributeValues={":id": appointment_id},
                )
            except ClientError as error:
                if aws.error_code(error) != "ConditionalCheckFailedException":
                    raise

    # --- configuration -----------------------------------------------------------------
    def get_scheduling_config(self, tenant_id: str) -> SchedulingConfig:
        with dynamodb("GetItem scheduling config"):
            item = self._db.get_item(
                Key={PARTITION_KEY: tenant_pk(tenant_id), SORT_KEY: "SCHEDCFG"}
            ).get("Item")
        if not item:
            return SchedulingConfig()
        fields = {k: item[k] for k in SchedulingConfig.__dataclass_fields__ if k in item}
        if "reminder_hours_before" in fields:
            fields["reminder_hours_before"] = tuple(int(h) for h in fields["reminder_hours_before"])
        return SchedulingConfig(**fields)

    def put_scheduling_config(self, tenant_id: str, config: SchedulingConfig) -> None:
        item = {**asdict(config), "reminder_hours_before": list(config.reminder_hours_before)}
        with dynamodb("PutItem scheduling config"):
            self._db.put_item(
                Item={PARTITION_KEY: tenant_pk(tenant_id), SORT_KEY: "SCHEDCFG", **item}
            )

    # --- helpers ---------------------------------------------------------------------
    def _put(self, item: dict[str, Any], condition: str | None) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self._db.name, "Item": item}
        if condition:
            put["ConditionExpression"] = condition
        return {"Put": put}

    def _transact(self, actions: list[dict[str, Any]], what: str) -> None:
        with dynamodb(f"TransactWriteItems {what}"):
            try:
                self._db.transact_write_items(TransactItems=actions)
            except ClientError as error:
                if aws.error_code(error) != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
                if "ConditionalCheckFailed" in reasons:
                    raise ConflictError(f"{what}: changed underneath") from None
                raise


def _schedule_item(s: ScheduledMessage) -> dict[str, Any]:
    item: dict[str, Any] = {
        **schedule_key(s.tenant_id, s.conversation_id, s.schedule_id),
        "tenant_id": s.tenant_id,
        "conversation_id": s.conversation_id,
        "schedule_id": s.schedule_id,
        "message_id": s.message_id,
        "kind": s.kind.value,
        "due_at": s.due_at,
        "body_record": s.body_record,
        "created_by": s.created_by,
        "created_at": s.created_at,
        "status": s.status.value,
        "attempts": s.attempts,
        TTL_ATTRIBUTE: s.expires_at,
    }
    if s.appointment_id:
        item["appointment_id"] = s.appointment_id
    return item


def _pointer_item(s: ScheduledMessage) -> dict[str, Any]:
    """Ids only: the sweep reads the schedule itself, under the tenant's partition."""
    return {
        **due_key(s),
        "tenant_id": s.tenant_id,
        "conversation_id": s.conversation_id,
        "schedule_id": s.schedule_id,
    }


def _schedule_from_item(item: dict[str, Any]) -> ScheduledMessage:
    return ScheduledMessage(
        tenant_id=item["tenant_id"],
        conversation_id=item["conversation_id"],
        schedule_id=item["schedule_id"],
        message_id=item["message_id"],
        kind=ScheduleKind(item["kind"]),
        due_at=item["due_at"],
        body_record=bytes(item["body_record"]),
        created_by=item["created_by"],
        created_at=item["created_at"],
        expires_at=int(item[TTL_ATTRIBUTE]),
        status=ScheduleStatus(item["status"]),
        appointment_id=item.get("appointment_id"),
        attempts=int(item.get("attempts", 0)),
        reason=item.get("reason"),
        sent_at=item.get("sent_at"),
    )


def _appointment_item(a: Appointment) -> dict[str, Any]:
    item: dict[str, Any] = {
        **appointment_key(a.tenant_id, a.appointment_id),
        "tenant_id": a.tenant_id,
        "appointment_id": a.appointment_id,
        "conversation_id": a.conversation_id,
        "start_at": a.start_at,
        "duration_minutes": a.duration_minutes,
        "source": a.source,
        "created_at": a.created_at,
        "status": a.status.value,
        "reminders_sent": a.reminders_sent,
        "schedule_ids": list(a.schedule_ids),
        TTL_ATTRIBUTE: a.expires_at,
    }
    optional = {
        "external_key": a.external_key,
        "reply": a.reply.value if a.reply else None,
        "reply_at": a.reply_at,
        "awaiting_since": a.awaiting_since,
    }
    item.update({k: v for k, v in optional.items() if v is not None})
    return item


def _appointment_from_item(item: dict[str, Any]) -> Appointment:
    return Appointment(
        tenant_id=item["tenant_id"],
        appointment_id=item["appointment_id"],
        conversation_id=item["conversation_id"],
        start_at=item["start_at"],
        duration_minutes=int(item["duration_minutes"]),
        source=item["source"],
        created_at=item["created_at"],
        expires_at=int(item[TTL_ATTRIBUTE]),
        status=AppointmentStatus(item["status"]),
        external_key=item.get("external_key"),
        reply=ReplyKind(item["reply"]) if item.get("reply") else None,
        reply_at=item.get("reply_at"),
        reminders_sent=int(item.get("reminders_sent", 0)),
        awaiting_since=item.get("awaiting_since"),
        schedule_ids=tuple(item.get("schedule_ids", [])),
    )
