"""Errors become responses here, in one place, by exception type: no stack trace, no PHI."""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import BaseModel, ConfigDict

from functions.core.errors import (
    AppLockedError,
    ConflictError,
    ConsentRequiredError,
    DependencyError,
    ForbiddenError,
    InvalidCursorError,
    NotFoundError,
    OptedOutError,
    QuietlineError,
    RequestBodyError,
    SessionExpiredError,
    TenantUnavailableError,
    ThrottledError,
    UnauthorizedError,
    ValidationError,
)
from functions.core.observability import logger
from functions.handlers import _boundary


class Problem(BaseModel):
    field: str
    problem: str


class ErrorBody(BaseModel):
    """Every error answer's body, as the OpenAPI document describes it."""

    # Only the OpenAPI document builds its schema: no request pays for it.
    model_config = ConfigDict(defer_build=True)

    error: str | None = None  # what went wrong; never an input value
    errors: list[Problem] | None = None  # 400/422: the fields at fault
    detail: str | None = None  # 409: which conflict
    message: str | None = None  # API Gateway's own answers (its authorizer's 401)


def error_response(status: int, message: str, **extra: Any) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"error": message, **extra},
        headers={"Cache-Control": "no-store"},
    )


def _unauthorized(error: UnauthorizedError) -> Response[Any]:
    ended = isinstance(error, SessionExpiredError)
    return error_response(401, "sign in again" if ended else "unauthorized")


def _forbidden(error: ForbiddenError) -> Response[Any]:
    return error_response(403, "forbidden")


def _locked(error: AppLockedError) -> Response[Any]:
    # Not a 401: the page must show its lock screen, not end the session.
    return error_response(423, "locked: unlock with your PIN or passkey")


def _tenant_unavailable(error: TenantUnavailableError) -> Response[Any]:
    return error_response(403, "this practice's data is no longer available")


def _not_found(error: NotFoundError) -> Response[Any]:
    return error_response(404, "not found")


def _bad_cursor(error: InvalidCursorError) -> Response[Any]:
    return error_response(400, "invalid cursor")


def _invalid(error: ValidationError) -> Response[Any]:
    # Field name and rule only: the offending value (maybe PHI) is never echoed.
    problem = {"field": error.field, "problem": error.problem}
    return error_response(422, "invalid request", errors=[problem])


def _refused_body(error: RequestBodyError) -> Response[Any]:
    # Refused at the boundary, unparsed: 400, 413 or 415, naming the field, never the value.
    problem = {"field": error.field, "problem": error.problem}
    return error_response(_boundary.status_of(error), "invalid request", errors=[problem])


def _unsupported_type(error: RequestUnsupportedContentType) -> Response[Any]:
    # An empty body (the boundary passes those) under a type the model parser cannot read.
    problem = {"field": "Content-Type", "problem": "must be application/json"}
    return error_response(415, "invalid request", errors=[problem])


def _not_allowed_to_text(error: QuietlineError) -> Response[Any]:
    return error_response(409, str(error))


def _conflict(error: ConflictError) -> Response[Any]:
    return error_response(409, "conflict", detail=str(error))


_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}|\d{1,6}")


def field_path(location: tuple[Any, ...]) -> str:
    # A location part can be a key the caller sent (an unknown field, a form body parsed
    # as a key): anything that is not a plain identifier is masked, never echoed.
    return ".".join(str(p) if _FIELD_NAME.fullmatch(str(p)) else "(unrecognized)" for p in location)


def _request_invalid(error: RequestValidationError) -> Response[Any]:
    # Where and which rule, never the input itself (it may be PHI).
    errors = [{"field": field_path(tuple(e["loc"])), "problem": e["type"]} for e in error.errors()]
    return error_response(422, "invalid request", errors=errors)


def _busy(error: QuietlineError) -> Response[Any]:
    return error_response(503, "busy; retry shortly")


def _unexpected(error: Exception) -> Response[Any]:
    logger.error("unhandled error", extra={"error": type(error).__name__})
    return error_response(500, "internal error")


def _no_route(error: Exception) -> Response[Any]:
    return error_response(404, "no such route")


def install(app: APIGatewayRestResolver) -> None:
    """Register every mapping on `app`; Powertools picks the most specific type."""
    app.exception_handler(UnauthorizedError)(_unauthorized)
    app.exception_handler(ForbiddenError)(_forbidden)
    app.exception_handler(AppLockedError)(_locked)
    app.exception_handler(TenantUnavailableError)(_tenant_unavailable)
    app.exception_handler(NotFoundError)(_not_found)
    app.exception_handler(InvalidCursorError)(_bad_cursor)
    app.exception_handler(ValidationError)(_invalid)
    app.exception_handler(RequestBodyError)(_refused_body)
    app.exception_handler([OptedOutError, ConsentRequiredError])(_not_allowed_to_text)
    app.exception_handler(ConflictError)(_conflict)
    app.exception_handler(RequestValidationError)(_request_invalid)
    app.exception_handler(RequestUnsupportedContentType)(_unsupported_type)
    app.exception_handler([ThrottledError, DependencyError])(_busy)
    app.exception_handler(Exception)(_unexpected)
    app.not_found(_no_route)
