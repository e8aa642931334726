"""The client's side of a secure message (public, no staff sign-in): challenge, verify, read,
reply. Throttled at the gateway; wrong codes lock the link; every step is audited.

The two request bodies (a code, a reply) are one string field each, checked here rather
than with pydantic: Powertools' request validation would load pydantic on every cold start
of the page a client opens from a text.

Every refusal is counted by reason (REFUSALS: EMF metric names, namespace Quietline, the
one dimension service=quietline; never a token, a code or a number). These routes are on
their own API (infra/constructs/secure_link_api.py): its stage's 4xx-burst alarm says
"many", these counts say which kind.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

from functions.container import Container
from functions.core.errors import (
    DependencyError,
    InvalidCodeError,
    LinkLockedError,
    LinkUnavailableError,
    NotFoundError,
    RequestBodyError,
    TenantUnavailableError,
    ThrottledError,
    ValidationError,
)
from functions.core.observability import logger
from functions.dal import audit_log, secure_links  # noqa: F401 - see below
from functions.dal.store import schedules  # noqa: F401 - reminder answers read it
from functions.handlers import _boundary
from functions.handlers._entry import EntryPoint, for_the_browser
from functions.logic import reminder_replies  # noqa: F401 - built with the inbound service
from functions.logic.secure_links import SecureLinkService

# Every request runs the secure-link service (built with the inbound service) and is audited:
# the container builds these on demand, so their modules are imported here, at init. Only a
# reply's number parser loads on first use.

SESSION_HEADER = "X-Secure-Session"

app = APIGatewayRestResolver()

# Refusal reason -> metric counted once per refused request.
REFUSALS = {
    "malformed": "SecureLinkRefusedMalformed",  # 400, 413, 415, 422: body or header
    "unavailable": "SecureLinkRefusedUnavailable",  # 410: unknown, expired, spent, wiped
    "wrong_code": "SecureLinkRefusedWrongCode",  # 401: code wrong or expired, no session
    "locked": "SecureLinkRefusedLocked",  # 423: too many wrong codes
}

CODE_LENGTH = (4, 12)
REPLY_LENGTH = (1, 1600)


def _refused(reason: str) -> None:
    runtime: Container = app.context["runtime"]
    runtime.metrics().count(REFUSALS[reason])


def _json(status: int, body: dict[str, Any]) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers={"Cache-Control": "no-store"},
    )


@app.exception_handler([LinkUnavailableError, NotFoundError, TenantUnavailableError])
def _gone(error: Exception) -> Response[Any]:
    # Unknown, expired, spent or wiped look alike: nothing to learn by probing tokens.
    _refused("unavailable")
    return _json(410, {"error": "this link is no longer valid; ask the practice to send it again"})


@app.exception_handler(LinkLockedError)
def _locked(error: LinkLockedError) -> Response[Any]:
    _refused("locked")
    return _json(423, {"error": "locked"})


@app.exception_handler(InvalidCodeError)
def _bad_code(error: InvalidCodeError) -> Response[Any]:
    _refused("wrong_code")
    return _json(
        401, {"error": "the code is not right or has expired", "attempts_left": error.attempts_left}
    )


@app.exception_handler(ValidationError)
def _invalid(error: ValidationError) -> Response[Any]:
    _refused("malformed")
    return _json(
        422,
        {"error": "invalid request", "errors": [{"field": error.field, "problem": error.problem}]},
    )


@app.exception_handler(RequestBodyError)
def _unreadable(error: RequestBodyError) -> Response[Any]:
    # Refused at the boundary, unparsed: 400, 413 or 415.
    _refused("malformed")
    return _json(
        _boundary.status_of(error),
        {"error": "invalid request", "errors": [{"field": error.field, "problem": error.problem}]},
    )


@app.exception_handler([ThrottledError, DependencyError])
def _busy(error: Exception) -> Response[Any]:
    return _json(503, {"error": "busy; retry shortly"})


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response[Any]:
    logger.error("unhandled error", extra={"error": type(error).__name__})
    return _json(500, {"error": "internal error"})


def text_field(name: str, length: tuple[int, int]) -> str:
    """`name` from a JSON-object body that holds nothing else: a string of `length` chars.

    A ValidationError (422) names the field and the rule, never a value or an unknown key
    (either may be PHI).
    """
    # Size, encoding, Content-Type, depth, surrogates and duplicate keys, before parsing.
    payload = _boundary.json_body(app.current_event.raw_event)
    if not isinstance(payload, dict):
        raise ValidationError("body", "must be a JSON object")
    if set(payload) - {name}:
        raise ValidationError("body", f"must hold only {name}")
    value = payload.get(name)
    if not isinstance(value, str):
        raise ValidationError(name, "is required and must be a string")
    low, high = length
    if not low <= len(value) <= high:
        raise ValidationError(name, f"must be {low} to {high} characters")
    return value


def _links() -> SecureLinkService:
    runtime: Container = app.context["runtime"]
    return runtime.secure_links()


def _session() -> str:
    return app.current_event.headers.get(SESSION_HEADER) or app.current_event.headers.get(
        SESSION_HEADER.lower(), ""
    )


@app.post("/secure/<token>/challenge")
def challenge(token: str) -> Response[Any]:
    return _json(200, {"method": _links().challenge(token)})


@app.post("/secure/<token>/verify")
def verify(token: str) -> Response[Any]:
    code = text_field("code", CODE_LENGTH)
    return _json(200, {"session": _links().verify(token, code)})


@app.get("/secure/<token>/message")
def read(token: str) -> Response[Any]:
    view = _links().read(token, _session())
    return _json(200, {"practice": view.practice, "body": view.body, "sent_at": view.sent_at})


@app.post("/secure/<token>/reply")
def reply(token: str) -> Response[Any]:
    body = text_field("body", REPLY_LENGTH)
    _links().reply(token, _session(), body)
    return _json(202, {"status": "received"})


def handle(event: dict[str, Any], context: Any, runtime: Container) -> dict[str, Any]:
    # The container travels in the resolver's per-request context (cleared after it).
    app.append_context(runtime=runtime)
    return for_the_browser(app.resolve(event, context), runtime.settings.inbox_origin)


handler = EntryPoint(
    handle,
    required=("table_name", "audit_table_name", "outbound_queue_url", "secure_link_base_url"),
)
