"""The inbox's session routes: keep the refresh credential in an HttpOnly cookie.

POST /session          the refresh token from a fresh sign-in, once; answers an ID token
                       and sets the cookie (the page then forgets the refresh token)
POST /session/refresh  the cookie only; answers a new ID token (reload, renewal)
DELETE /session        forgets the cookie (sign-out, idle logoff in the page)

They are public at the gateway (a reloaded page has no ID token to show): the refresh
credential is their authentication, and Cognito plus the server-side session decide.
The cookie is HttpOnly (no script reads it), Secure, SameSite=Strict and scoped to
/session, so it goes nowhere but here; the routes also refuse a request whose Origin is
not the inbox's (docs/access.md, "Where the refresh credential is kept").
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, ConfigDict, Field

from functions.core.errors import ForbiddenError, UnauthorizedError
from functions.handlers.api.errors import error_response
from functions.handlers.api.policy import route, runtime

router = Router()

SESSION_PATH = "/session"
COOKIE_NAME = "__Secure-quietline-refresh"
# Cognito's refresh tokens live 12 hours (infra/constructs/identity.py): the browser may
# drop the cookie then, whatever happens; the server decides long before that.
COOKIE_MAX_AGE_SECONDS = 12 * 3600
_ATTRIBUTES = f"Path={SESSION_PATH}; HttpOnly; Secure; SameSite=Strict"


class SessionStart(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    # Cognito's refresh tokens are JWEs of about 1.8 KB; room to spare, not to abuse.
    refresh_token: str = Field(min_length=1, max_length=4096)


def _cookie(value: str, max_age: int) -> str:
    return f"{COOKIE_NAME}={value}; Max-Age={max_age}; {_ATTRIBUTES}"


def _header(name: str) -> str:
    headers = router.current_event.headers or {}
    lowered = {key.lower(): value for key, value in headers.items()}
    return str(lowered.get(name.lower(), ""))


def _check_origin() -> None:
    """Only the inbox's own pages may use the cookie (with SameSite=Strict, belt and braces):
    the Origin must be the configured inbox origin, or this request's own host locally."""
    origin = _header("Origin")
    allowed = runtime(router).settings.inbox_origin
    if allowed:
        ok = origin == allowed
    else:
        ok = bool(origin) and urlsplit(origin).netloc == _header("Host")
    if not ok:
        raise ForbiddenError("session routes answer the inbox's own pages only")


def _refresh_cookie() -> str:
    for part in _header("Cookie").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE_NAME:
            return value
    return ""


def _resume(refresh_token: str) -> Response[Any]:
    try:
        resumed = runtime(router).browser_sessions().resume(refresh_token)
    except UnauthorizedError:
        # Whatever the reason (revoked, idle, disabled), the cookie is of no further use.
        answer = error_response(401, "sign in again" if refresh_token else "unauthorized")
        answer.headers["Set-Cookie"] = _cookie("", 0)
        return answer
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body={"id_token": resumed.id_token, "expires_at": resumed.expires_at},
        headers={"Set-Cookie": _cookie(refresh_token, COOKIE_MAX_AGE_SECONDS)},
    )


@route(router, "POST", SESSION_PATH, audit=None, public=True, errors=(401, 403, 503))
def start_session(payload: SessionStart) -> Response[Any]:
    _check_origin()
    return _resume(payload.refresh_token)


@route(router, "POST", SESSION_PATH + "/refresh", audit=None, public=True, errors=(401, 403, 503))
def refresh_session() -> Response[Any]:
    _check_origin()
    return _resume(_refresh_cookie())


@route(router, "DELETE", SESSION_PATH, audit=None, public=True, status=204, errors=(403,))
def end_session() -> Response[Any]:
    _check_origin()
    return Response(status_code=204, headers={"Set-Cookie": _cookie("", 0)})
