"""The client's side of a secure message (public, no staff sign-in): challenge, verify, read,
reply. Throttled at the gateway; wrong codes lock the link; every step is audited."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from functions import wiring
from functions.core.errors import (
    DependencyError,
    InvalidCodeError,
    LinkLockedError,
    LinkUnavailableError,
    NotFoundError,
    TenantUnavailableError,
    ThrottledError,
    ValidationError,
)
from functions.core.observability import logger
from functions.handlers._entry import lambda_entry

SESSION_HEADER = "X-Secure-Session"

app = APIGatewayRestResolver(enable_validation=True)


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
    return _json(410, {"error": "this link is no longer valid; ask the practice to send it again"})


@app.exception_handler(LinkLockedError)
def _locked(error: LinkLockedError) -> Response[Any]:
    return _json(423, {"error": "locked"})


@app.exception_handler(InvalidCodeError)
def _bad_code(error: InvalidCodeError) -> Response[Any]:
    return _json(
        401, {"error": "the code is not right or has expired", "attempts_left": error.attempts_left}
    )


@app.exception_handler(ValidationError)
def _invalid(error: ValidationError) -> Response[Any]:
    return _json(
        422,
        {"error": "invalid request", "errors": [{"field": error.field, "problem": error.problem}]},
    )


@app.exception_handler(RequestValidationError)
def _request_invalid(error: RequestValidationError) -> Response[Any]:
    return _json(422, {"error": "invalid request"})


@app.exception_handler([ThrottledError, DependencyError])
def _busy(error: Exception) -> Response[Any]:
    return _json(503, {"error": "busy; retry shortly"})


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response[Any]:
    logger.error("unhandled error", extra={"error": type(error).__name__})
    return _json(500, {"error": "internal error"})


class Code(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=4, max_length=12)


class Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(min_length=1, max_length=1600)


def _session() -> str:
    return app.current_event.headers.get(SESSION_HEADER) or app.current_event.headers.get(
        SESSION_HEADER.lower(), ""
    )


@app.post("/secure/<token>/challenge")
def challenge(token: str) -> Response[Any]:
    return _json(200, {"method": wiring.secure_links().challenge(token)})


@app.post("/secure/<token>/verify")
def verify(token: str, payload: Code) -> Response[Any]:
    return _json(200, {"session": wiring.secure_links().verify(token, payload.code)})


@app.get("/secure/<token>/message")
def read(token: str) -> Response[Any]:
    view = wiring.secure_links().read(token, _session())
    return _json(200, {"practice": view.practice, "body": view.body, "sent_at": view.sent_at})


@app.post("/secure/<token>/reply")
def reply(token: str, payload: Reply) -> Response[Any]:
    wiring.secure_links().reply(token, _session(), payload.body)
    return _json(202, {"status": "received"})


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
