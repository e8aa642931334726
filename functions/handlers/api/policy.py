"""Every staff-API route's authorization and audit policy, and the guard that enforces it.

Each route is declared with `route(router, ...)`, which records its policy in ROUTES: the
OpenAPI document, the authorization-matrix test and the audit test all walk that table,
so a route without a decision cannot be added unnoticed.

Request state stays in its request: the guard reads what it needs from the event once,
on the request's own thread, into `RequestFacts`, and passes it down explicitly.
(Powertools keeps the current event on a class attribute shared by every resolver in
the process, so nothing here reads it later or from another thread.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, cast

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter, Router
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
    OpenAPIResponseValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from functions.container import Container
from functions.core.clock import iso
from functions.core.errors import (
    AppLockedError,
    ForbiddenError,
    NotFoundError,
    TenantUnavailableError,
    UnauthorizedError,
    ValidationError,
)
from functions.handlers import _boundary
from functions.handlers.api.errors import ErrorBody
from functions.logic.access import Principal, principal_from_claims, require_admin
from functions.logic.audit import AuditEvent, Outcome
from functions.logic.inbox import SESSION_CONFIRMED_HERE


@dataclass(frozen=True)
class RoutePolicy:
    method: str
    path: str  # OpenAPI form: /conversations/{conversation_id}
    audit: str | None  # audit action for PHI reads/changes and admin actions
    admin_only: bool = False
    public: bool = False
    while_locked: bool = False  # answered behind the app lock (no PHI: unlock, sign-out)


ROUTES: list[RoutePolicy] = []

RUNTIME = "runtime"  # the request's container, set by the handler before resolving
PRINCIPAL = "principal"  # the authenticated caller, set by the guard


@dataclass(frozen=True)
class RequestFacts:
    """What the audit record needs from the request, read once at the guard."""

    request_id: str
    source_ip: str
    path_parameters: dict[str, str] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, resolver: BaseRouter) -> RequestFacts:
        event = cast(APIGatewayProxyEvent, resolver.current_event)
        context = event.request_context
        authorizer = context.authorizer
        return cls(
            request_id=context.request_id or "",
            source_ip=context.identity.source_ip or "",
            path_parameters={k: str(v) for k, v in (event.path_parameters or {}).items()},
            claims=dict((authorizer.claims if authorizer else None) or {}),
        )


def json_response(status: int, body: Any) -> Response[Any]:
    """A JSON answer with a status other than the route's default (201, 202, ...)."""
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def route(
    router: Router,
    method: str,
    path: str,
    *,
    audit: str | None,
    admin_only: bool = False,
    public: bool = False,
    while_locked: bool = False,
    status: int = 200,
    max_body_bytes: int = _boundary.MAX_JSON_BYTES,
    errors: tuple[int, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a route: its policy, its success `status`, and the errors it may answer.
    `max_body_bytes` raises the JSON body limit for the one route that uploads audio;
    `errors` adds answers a public route gives itself (the session routes' 401 and 403).
    `while_locked` lets the route past the app lock; every other guarded route answers 423
    while the caller's session is locked."""
    policy = RoutePolicy(method, path, audit, admin_only, public, while_locked)
    ROUTES.append(policy)
    resolver_path = path.replace("{", "<").replace("}", ">")
    # Authenticate and authorize first (an anonymous junk request is a 401), then check the
    # body at the boundary, then validate it against the models. Powertools would validate
    # before any middleware, so the route runs its validation itself, in this order.
    middlewares = [
        *([] if public else [_guarded(policy)]),
        _checked_body(max_body_bytes),
        _VALIDATE_REQUEST.handler,
        _VALIDATE_RESPONSE.handler,
    ]
    return router.route(
        resolver_path,
        method=method,
        middlewares=middlewares,
        enable_validation=False,
        responses=_responses(status, public=public, extra=errors, lockable=not while_locked),
    )


_VALIDATE_REQUEST = OpenAPIRequestValidationMiddleware()
_VALIDATE_RESPONSE = OpenAPIResponseValidationMiddleware()

# What errors.py answers, by status. Public routes skip the guard (401, 403) and touch no data.
_ERRORS: dict[int, str] = {
    400: "Unreadable body (not UTF-8, bad base64) or invalid cursor",
    401: "Not signed in, or the session ended (API Gateway's authorizer answers with `message`)",
    403: "This role may not do this, or the practice's data is no longer available",
    404: "Not found (or not this caller's to see)",
    409: "Conflict, or the recipient may not be texted (opted out, no consent)",
    413: "Body too large",
    415: "Content-Type must be application/json",
    422: "Invalid request: the fields at fault, never their values",
    423: "The app is locked: unlock with the PIN or a passkey first (docs/access.md)",
    503: "Busy; retry shortly",
}
_PUBLIC_ERRORS = (400, 413, 415, 422)


def _responses(
    status: int, *, public: bool, extra: tuple[int, ...] = (), lockable: bool = True
) -> dict[int, OpenAPIResponse]:
    success: OpenAPIResponse = {"description": HTTPStatus(status).phrase}
    if status == HTTPStatus.NO_CONTENT:
        success["content"] = {}
    error_content: Any = {"application/json": {"model": ErrorBody}}
    return {
        status: success,
        **{
            code: {"description": description, "content": error_content}
            for code, description in _ERRORS.items()
            if code in _PUBLIC_ERRORS or code in extra or not public
            if code != 423 or (lockable and not public)
        },
    }


def _checked_body(max_bytes: int) -> Callable[[Any, NextMiddleware], Response[Any]]:
    """The body passes the boundary's checks (size, encoding, type, depth) before any parser."""

    def middleware(resolver: Any, next_middleware: NextMiddleware) -> Response[Any]:
        _boundary.json_body(resolver.current_event.raw_event, max_bytes=max_bytes)
        return next_middleware(resolver)

    return middleware


def runtime(router: BaseRouter) -> Container:
    found: Container = router.context[RUNTIME]
    return found


def principal(router: BaseRouter) -> Principal:
    found: Principal = router.context[PRINCIPAL]
    return found


def _audit(
    runtime: Container,
    policy: RoutePolicy,
    outcome: Outcome,
    who: Principal | None,
    facts: RequestFacts,
) -> None:
    if policy.audit is None and outcome is not Outcome.DENIED:
        return
    runtime.audit_sink().record(
        AuditEvent(
            action=policy.audit or f"{policy.method} {policy.path}",
            outcome=outcome,
            actor=who.user_id if who else "anonymous",
            tenant_id=who.tenant_id if who else "unknown",
            at=iso(runtime.clock().now()),
            request_id=facts.request_id,
            source_ip=facts.source_ip,
            target=facts.path_parameters,
        )
    )


_OUTCOMES: list[tuple[type[Exception], Outcome]] = [
    (UnauthorizedError, Outcome.DENIED),
    (AppLockedError, Outcome.DENIED),
    (ForbiddenError, Outcome.DENIED),
    (TenantUnavailableError, Outcome.DENIED),
    (NotFoundError, Outcome.NOT_FOUND),
    (ValidationError, Outcome.INVALID),
    (RequestValidationError, Outcome.INVALID),
]


def _outcome_of(error: Exception) -> Outcome:
    return next((o for kind, o in _OUTCOMES if isinstance(error, kind)), Outcome.ERROR)


def _guarded(policy: RoutePolicy) -> Callable[[Any, NextMiddleware], Response[Any]]:
    """Authenticate (claims + live session), authorize (role), run, audit the outcome."""

    def middleware(resolver: Any, next_middleware: NextMiddleware) -> Response[Any]:
        facts = RequestFacts.of(resolver)
        services = runtime(resolver)
        who: Principal | None = None
        try:
            who = principal_from_claims(facts.claims)
            # Reads whose service confirms the session itself overlap the idle-logoff touch.
            overlap = policy.audit in SESSION_CONFIRMED_HERE
            with services.session_guard().session_for(
                who, overlap=overlap, while_locked=policy.while_locked
            ) as who:
                if policy.admin_only:
                    require_admin(who)
                resolver.append_context(**{PRINCIPAL: who})
                response = next_middleware(resolver)
        except Exception as error:
            _audit(services, policy, _outcome_of(error), who, facts)
            raise
        succeeded = response.status_code < 400
        _audit(services, policy, Outcome.SUCCESS if succeeded else Outcome.ERROR, who, facts)
        if policy.audit and succeeded:
            services.read_watch().observe(who, policy.audit)
        return response

    return middleware
