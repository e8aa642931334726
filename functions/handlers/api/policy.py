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
from typing import Any, cast

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter, Router
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from functions.container import Container
from functions.core.clock import iso
from functions.core.errors import (
    ForbiddenError,
    NotFoundError,
    TenantUnavailableError,
    UnauthorizedError,
    ValidationError,
)
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


def route(
    router: Router,
    method: str,
    path: str,
    *,
    audit: str | None,
    admin_only: bool = False,
    public: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    policy = RoutePolicy(method, path, audit, admin_only, public)
    ROUTES.append(policy)
    resolver_path = path.replace("{", "<").replace("}", ">")
    middlewares = [] if public else [_guarded(policy)]
    return router.route(resolver_path, method=method, middlewares=middlewares)


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
    (ForbiddenError, Outcome.DENIED),
    (TenantUnavailableError, Outcome.DENIED),
    (NotFoundError, Outcome.NOT_FOUND),
    (ValidationError, Outcome.INVALID),
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
            with services.session_guard().session_for(who, overlap=overlap) as who:
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
