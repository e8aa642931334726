"""The staff REST API (API Gateway + Cognito authorizer -> this Lambda).

One Powertools Router per resource, each route declared with its authorization and
audit policy (policy.py); request bodies in models.py; errors mapped to responses by
type in one place (errors.py).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from functions.container import Container
from functions.dal import audit_log, sessions  # noqa: F401 - see below
from functions.handlers._entry import EntryPoint, for_the_browser
from functions.handlers.api import (
    app_lock,
    audit_events,
    browser_session,
    calls,
    care,
    contacts,
    conversations,
    errors,
    live,
    me,
    openapi,
    passkeys,
    practice_settings,
    push,
    schedules,
    templates,
    users,
)
from functions.handlers.api.policy import ROUTES, RUNTIME, RoutePolicy
from functions.logic import read_watch  # noqa: F401 - see below

# Every request's guard touches the session, audits and counts reads: the container
# builds those on demand, so their modules are imported here, at init. Only the
# user-admin routes' Cognito adapter, secure-link sends and contact creation's number
# parser load on first use.

__all__ = ["ROUTES", "RoutePolicy", "app", "handler", "openapi_schema"]

app = APIGatewayRestResolver(enable_validation=True)
errors.install(app)
for resource in (
    openapi,
    me,
    conversations,
    contacts,
    templates,
    practice_settings,
    users,
    audit_events,
    calls,
    care,
    live,
    push,
    schedules,
    browser_session,
    app_lock,
    passkeys,
):
    app.include_router(resource.router)


def openapi_schema() -> dict[str, Any]:
    """The OpenAPI 3.1 document, generated from the routes and models."""
    return openapi.schema_of(app)


def handle(event: dict[str, Any], context: Any, runtime: Container) -> dict[str, Any]:
    # The container travels in the resolver's per-request context (cleared after it).
    app.append_context(**{RUNTIME: runtime})
    return for_the_browser(app.resolve(event, context), runtime.settings.inbox_origin)


handler = EntryPoint(
    handle, required=("table_name", "user_pool_id", "audit_table_name", "outbound_queue_url")
)
