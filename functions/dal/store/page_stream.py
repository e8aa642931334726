"""The care pager's stream records, read as page requests (functions/logic/care_pages.py).

The event source mapping admits only the inserts of urgent markers and after-hours page
requests (functions/dal/schema.py PAGE_REQUEST_FILTER); this checks the same again, so a
filter changed by hand cannot page for any other write. Only plain attributes are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from functions.core.errors import ValidationError
from functions.dal.schema import PARTITION_KEY, SORT_KEY, TENANT_PARTITION_PREFIX
from functions.dal.store.care import PAGE_PREFIX, URGENT_PREFIX
from functions.logic.care_pages import PageDue
from functions.logic.pager import PageKind


def _text(image: Mapping[str, Any], name: str) -> str:
    value = image.get(name)
    return str(value.get("S", "")) if isinstance(value, Mapping) else ""


def _when(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError("record", "a page request without its time") from None


def page_due(record: Mapping[str, Any]) -> PageDue | None:
    """The page a stream record asks for; None for any other change."""
    if record.get("eventName") != "INSERT":
        return None
    change = record.get("dynamodb") or {}
    image = change.get("NewImage") or {}
    sort_key, partition = _text(image, SORT_KEY), _text(image, PARTITION_KEY)
    if sort_key.startswith(URGENT_PREFIX):
        kind, at = PageKind.URGENT, _text(image, "urgent_at")
        # A flag cleared and raised again is a new insert: its time keeps the keys apart.
        page_key = f"{sort_key}#{at}"
    elif sort_key.startswith(PAGE_PREFIX):
        kind, at, page_key = PageKind.AFTER_HOURS, _text(image, "requested_at"), sort_key
    else:
        return None
    conversation_id = _text(image, "conversation_id")
    position = str(change.get("SequenceNumber") or "")
    if not (partition.startswith(TENANT_PARTITION_PREFIX) and conversation_id and position):
        raise ValidationError("record", "a page request without its tenant or sequence number")
    tenant_id = partition.removeprefix(TENANT_PARTITION_PREFIX)
    return PageDue(tenant_id, kind, conversation_id, page_key, _when(at), position)
