"""After-hours care items: the practice's rota and crisis settings, and urgent markers.

    TENANT#<tenant>   CARE                    rota + crisis settings (no PHI)
    TENANT#<tenant>   URGENT#<conversation>   a conversation flagged urgent, until cleared
    TENANT#<tenant>   PAGE#<conversation>#<message>   an after-hours page asked for (ids, TTL)

An urgent marker is written in the inbound message's own transaction (messages.py), so a
stored crisis text is never left unflagged; the inbox lists the markers with one Query on
the tenant's partition, whatever page the conversation's last activity puts it on.
Both markers' inserts are page requests: the care pager reads them from the table's
stream (functions/handlers/care_pager.py), off the carrier's request path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from functions.core.care import CareSettings, DateRange, OnCallRota, WeeklySlot
from functions.core.clock import expiry, iso
from functions.dal import aws
from functions.dal.schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from functions.dal.store._common import TableRecords, conversation_key, dynamodb, tenant_pk

CARE_SK = "CARE"
URGENT_PREFIX = "URGENT#"
PAGE_PREFIX = "PAGE#"
PAGE_REQUEST_DAYS = 2  # past the stream's 24 hours: the insert is what matters


def urgent_marker_item(tenant_id: str, conversation_id: str, at: str) -> dict[str, Any]:
    return {
        PARTITION_KEY: tenant_pk(tenant_id),
        SORT_KEY: URGENT_PREFIX + conversation_id,
        "conversation_id": conversation_id,
        "urgent_at": at,
    }


def after_hours_page_item(
    tenant_id: str, conversation_id: str, message_id: str, at: datetime
) -> dict[str, Any]:
    """Ids and a time only: the pager reads who is on call and the practice number itself."""
    return {
        PARTITION_KEY: tenant_pk(tenant_id),
        SORT_KEY: f"{PAGE_PREFIX}{conversation_id}#{message_id}",
        "conversation_id": conversation_id,
        "message_id": message_id,
        "requested_at": iso(at),
        TTL_ATTRIBUTE: expiry(at, PAGE_REQUEST_DAYS),
    }


class CareRecords(TableRecords):
    def get_care_settings(self, tenant_id: str) -> CareSettings:
        with dynamodb("GetItem care"):
            item = self._db.get_item(
                Key={PARTITION_KEY: tenant_pk(tenant_id), SORT_KEY: CARE_SK}
            ).get("Item")
        return care_from_item(item) if item else CareSettings()

    def put_care_settings(self, tenant_id: str, settings: CareSettings) -> None:
        item = {PARTITION_KEY: tenant_pk(tenant_id), SORT_KEY: CARE_SK, **care_item(settings)}
        with dynamodb("PutItem care"):
            self._db.put_item(Item=item)

    def list_urgent(self, tenant_id: str) -> list[tuple[str, str]]:
        """(conversation id, flagged at), oldest flag first."""
        with dynamodb("Query urgent"):
            response = self._db.query(
                KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
                ExpressionAttributeNames={"#pk": PARTITION_KEY, "#sk": SORT_KEY},
                ExpressionAttributeValues={":pk": tenant_pk(tenant_id), ":prefix": URGENT_PREFIX},
            )
        found = [(i["conversation_id"], i["urgent_at"]) for i in response.get("Items", [])]
        return sorted(found, key=lambda pair: pair[1])

    def clear_urgent(self, tenant_id: str, conversation_id: str) -> bool:
        """Removes the marker and the conversation's flag together; False if not flagged."""
        key = {PARTITION_KEY: tenant_pk(tenant_id), SORT_KEY: URGENT_PREFIX + conversation_id}
        with dynamodb("TransactWriteItems clear urgent"):
            try:
                self._db.transact_write_items(
                    TransactItems=[
                        {
                            "Delete": {
                                "TableName": self._db.name,
                                "Key": key,
                                "ConditionExpression": "attribute_exists(#pk)",
                                "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
                            }
                        },
                        {
                            "Update": {
                                "TableName": self._db.name,
                                "Key": conversation_key(tenant_id, conversation_id),
                                "UpdateExpression": "REMOVE urgent_at",
                            }
                        },
                    ]
                )
            except ClientError as error:
                if aws.error_code(error) == "TransactionCanceledException":
                    return False
                raise
        return True


def care_item(settings: CareSettings) -> dict[str, Any]:
    rota = settings.rota
    return {
        "rota_weekly": [
            [s.user_id, s.from_day, s.from_time, s.to_day, s.to_time] for s in rota.weekly
        ],
        "rota_ranges": [[r.user_id, r.starts, r.ends] for r in rota.ranges],
        "crisis_enabled": settings.crisis_enabled,
        "crisis_phrases": {c: list(p) for c, p in settings.crisis_phrases.items()},
        "crisis_reply": settings.crisis_reply,
        "page_after_hours": settings.page_after_hours,
    }


def care_from_item(item: dict[str, Any]) -> CareSettings:
    defaults = CareSettings()
    weekly = tuple(
        WeeklySlot(str(u), int(fd), str(ft), int(td), str(tt))
        for u, fd, ft, td, tt in item.get("rota_weekly", [])
    )
    ranges = tuple(DateRange(str(u), str(s), str(e)) for u, s, e in item.get("rota_ranges", []))
    return CareSettings(
        rota=OnCallRota(weekly, ranges),
        crisis_enabled=bool(item.get("crisis_enabled", defaults.crisis_enabled)),
        crisis_phrases={
            str(c): tuple(str(p) for p in ps) for c, ps in item.get("crisis_phrases", {}).items()
        },
        crisis_reply=str(item.get("crisis_reply", "")),
        page_after_hours=bool(item.get("page_after_hours", defaults.page_after_hours)),
    )
