"""The audit trail for admins: a time range of events, ids only."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from functions.handlers.api.policy import principal, route, runtime

router = Router()

AUDIT_EXPORT_MAX = 1000


@route(router, "GET", "/audit/events", audit="audit.export", admin_only=True)
def export_audit_events(
    start: Annotated[str, Query(min_length=10, max_length=30, description="ISO-8601, inclusive")],
    end: Annotated[str, Query(min_length=10, max_length=30, description="ISO-8601, exclusive")],
) -> dict[str, Any]:
    """This tenant's audit events in a time range, oldest first (ids only, never PHI).

    At most 1,000 per call: `truncated` says when to ask again from the last `at`.
    (`quietline audit export` streams any range to CSV or JSON.)
    """
    who = principal(router)
    events: list[dict[str, Any]] = []
    for stored in runtime(router).audit_log().between(who.tenant_id, start, end):
        if len(events) == AUDIT_EXPORT_MAX:
            return {"items": events, "truncated": True}
        events.append({"key": stored.key, "hash": stored.hash, **asdict(stored.event)})
    return {"items": events, "truncated": False}
