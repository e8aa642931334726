"""The staff REST API (API Gateway + Cognito authorizer -> this Lambda).

Each route is declared with `route(...)`, which records its authorization and audit
policy in ROUTES: the OpenAPI document, the authorization-matrix test and the audit test
all walk that one table, so a route without a decision cannot be added unnoticed.
Errors become responses in one place (`_error_response`): no stack trace, no PHI.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, ConfigDict, Field

from functions import wiring
from functions.core.clock import iso
from functions.core.concurrency import run_concurrently
from functions.core.errors import (
    ConflictError,
    ConsentRequiredError,
    DependencyError,
    ForbiddenError,
    InvalidCursorError,
    NotFoundError,
    OptedOutError,
    QuietlineError,
    TenantUnavailableError,
    ThrottledError,
    UnauthorizedError,
    ValidationError,
)
from functions.core.models import AfterHours, ConsentMode, TenantSettings
from functions.core.observability import logger
from functions.dal import audit_log, sessions  # noqa: F401 - see below
from functions.handlers._entry import for_the_browser, lambda_entry
from functions.logic import read_watch  # noqa: F401 - see below
from functions.logic.access import Principal, Role, principal_from_claims, require_admin
from functions.logic.audit import AuditEvent, Outcome
from functions.logic.inbox import SESSION_CONFIRMED_HERE, ConversationFilter

# Every request's guard touches the session, audits and counts reads: wiring builds those
# on demand, so their modules are imported here, at init. Only the user-admin routes'
# Cognito adapter, secure-link sends and contact creation's number parser load on first use.

API_TITLE = "Quietline staff API"
API_VERSION = "1.0.0"

app = APIGatewayRestResolver(enable_validation=True)


# --- route table --------------------------------------------------------------------
@dataclass(frozen=True)
class RoutePolicy:
    method: str
    path: str  # OpenAPI form: /conversations/{conversation_id}
    audit: str | None  # audit action for PHI reads/changes and admin actions
    admin_only: bool = False
    public: bool = False


ROUTES: list[RoutePolicy] = []


def route(
    method: str, path: str, *, audit: str | None, admin_only: bool = False, public: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    policy = RoutePolicy(method, path, audit, admin_only, public)
    ROUTES.append(policy)
    resolver_path = path.replace("{", "<").replace("}", ">")
    middlewares = [] if public else [_guarded(policy)]
    return app.route(resolver_path, method=method, middlewares=middlewares)


def principal() -> Principal:
    found: Principal = app.context["principal"]
    return found


def _claims() -> dict[str, Any]:
    context = app.current_event.request_context
    authorizer = context.authorizer
    claims = authorizer.claims if authorizer else None
    return dict(claims or {})


def _audit(policy: RoutePolicy, outcome: Outcome, who: Principal | None) -> None:
    if policy.audit is None and outcome is not Outcome.DENIED:
        return
    event = app.current_event
    wiring.audit_sink().record(
        AuditEvent(
            action=policy.audit or f"{policy.method} {policy.path}",
            outcome=outcome,
            actor=who.user_id if who else "anonymous",
            tenant_id=who.tenant_id if who else "unknown",
            at=iso(wiring.clock().now()),
            request_id=event.request_context.request_id or "",
            source_ip=event.request_context.identity.source_ip or "",
            target={k: str(v) for k, v in (event.path_parameters or {}).items()},
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


def _guarded(
    policy: RoutePolicy,
) -> Callable[[APIGatewayRestResolver, NextMiddleware], Response[Any]]:
    """Authenticate (claims + live session), authorize (role), run, audit the outcome."""

    def middleware(
        resolver: APIGatewayRestResolver, next_middleware: NextMiddleware
    ) -> Response[Any]:
        who: Principal | None = None
        try:
            who = principal_from_claims(_claims())
            # Reads whose service confirms the session itself overlap the idle-logoff touch.
            overlap = policy.audit in SESSION_CONFIRMED_HERE
            with wiring.session_guard().session_for(who, overlap=overlap) as who:
                if policy.admin_only:
                    require_admin(who)
                resolver.append_context(principal=who)  # type: ignore[no-untyped-call]
                response = next_middleware(resolver)
        except Exception as error:
            _audit(policy, _outcome_of(error), who)
            raise
        outcome = Outcome.SUCCESS if response.status_code < 400 else Outcome.ERROR
        caller, action = who, policy.audit
        if action and response.status_code < 400:
            # Both finish before the response leaves; the counter needs nothing from the audit.
            watch = wiring.read_watch()
            run_concurrently(
                lambda: _audit(policy, outcome, caller), lambda: watch.observe(caller, action)
            )
        else:
            _audit(policy, outcome, caller)
        return response

    return middleware


# --- errors: one place ----------------------------------------------------------------
def _error(status: int, message: str, **extra: Any) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"error": message, **extra},
        headers={"Cache-Control": "no-store"},
    )


@app.exception_handler(UnauthorizedError)
def _unauthorized(error: UnauthorizedError) -> Response[Any]:
    return _error(401, "sign in again" if "session" in str(error) else "unauthorized")


@app.exception_handler(ForbiddenError)
def _forbidden(error: ForbiddenError) -> Response[Any]:
    return _error(403, "forbidden")


@app.exception_handler(TenantUnavailableError)
def _tenant_unavailable(error: TenantUnavailableError) -> Response[Any]:
    return _error(403, "this practice's data is no longer available")


@app.exception_handler(NotFoundError)
def _not_found(error: NotFoundError) -> Response[Any]:
    return _error(404, "not found")


@app.exception_handler(InvalidCursorError)
def _bad_cursor(error: InvalidCursorError) -> Response[Any]:
    return _error(400, "invalid cursor")


@app.exception_handler(ValidationError)
def _invalid(error: ValidationError) -> Response[Any]:
    # Field name and rule only: the offending value (maybe PHI) is never echoed.
    return _error(422, "invalid request", errors=[{"field": error.field, "problem": error.problem}])


@app.exception_handler([OptedOutError, ConsentRequiredError])
def _not_allowed_to_text(error: QuietlineError) -> Response[Any]:
    return _error(409, str(error))


@app.exception_handler(ConflictError)
def _conflict(error: ConflictError) -> Response[Any]:
    return _error(409, "conflict", detail=str(error))


_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}|\d{1,6}")


def _field_path(location: tuple[Any, ...]) -> str:
    # A location part can be a key the caller sent (an unknown field, a form body parsed
    # as a key): anything that is not a plain identifier is masked, never echoed.
    return ".".join(str(p) if _FIELD_NAME.fullmatch(str(p)) else "(unrecognized)" for p in location)


@app.exception_handler(RequestValidationError)
def _request_invalid(error: RequestValidationError) -> Response[Any]:
    # Where and which rule, never the input itself (it may be PHI).
    errors = [{"field": _field_path(tuple(e["loc"])), "problem": e["type"]} for e in error.errors()]
    return _error(422, "invalid request", errors=errors)


@app.exception_handler([ThrottledError, DependencyError])
def _busy(error: QuietlineError) -> Response[Any]:
    return _error(503, "busy; retry shortly")


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response[Any]:
    logger.error("unhandled error", extra={"error": type(error).__name__})
    return _error(500, "internal error")


@app.not_found
def _no_route(error: Exception) -> Response[Any]:
    return _error(404, "no such route")


# --- request bodies -------------------------------------------------------------------
class _Body(BaseModel):
    # A body's validator is built when a request first needs it (one route's), not at import.
    model_config = ConfigDict(extra="forbid", defer_build=True)


class SendMessage(_Body):
    body: str = Field(min_length=1, max_length=1600)
    # plain: the text itself (needs plain_sms consent); secure_link: a link to a page
    # where the client verifies with a one-time code before the message shows.
    mode: Literal["plain", "secure_link"] = "plain"


class Assignment(_Body):
    user_id: str | None = Field(default=None, max_length=64)


class Consent(_Body):
    mode: ConsentMode
    wording_version: str = Field(min_length=1, max_length=32)


class NewContact(_Body):
    phone_number: str = Field(min_length=3, max_length=32)
    display_name: str | None = Field(default=None, max_length=100)
    consent: Consent


class ContactChange(_Body):
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    consent: Consent | None = None


class Template(_Body):
    name: str = Field(min_length=1, max_length=80)
    body: str = Field(min_length=1, max_length=1600)


Weekday = Literal["1", "2", "3", "4", "5", "6", "7"]


def _weekdays_nine_to_five() -> dict[Weekday, tuple[str, str]]:
    return {
        "1": ("09:00", "17:00"),
        "2": ("09:00", "17:00"),
        "3": ("09:00", "17:00"),
        "4": ("09:00", "17:00"),
        "5": ("09:00", "17:00"),
    }


class AfterHoursSettings(_Body):
    enabled: bool = False
    timezone: str = Field(default="America/New_York", max_length=64)
    hours: dict[Weekday, tuple[str, str]] = Field(default_factory=_weekdays_nine_to_five)
    text: str = Field(default="", max_length=320)
    window_minutes: int = Field(default=720, ge=1, le=10_080)


class Settings(_Body):
    help_reply: str = Field(default="", max_length=320)
    stop_reply: str = Field(default="", max_length=320)
    start_reply: str = Field(default="", max_length=320)
    max_body_chars: int = Field(default=1600, ge=1, le=1600)
    after_hours: AfterHoursSettings = AfterHoursSettings()


class Invitation(_Body):
    email: str = Field(min_length=3, max_length=254)
    role: Role


Limit = Annotated[int, Query(ge=1, description="Page size; values above 100 are clamped to 100.")]
Cursor = Annotated[
    str | None, Query(max_length=2048, description="Opaque cursor from the last page.")
]


def _page(items: list[Any], cursor: str | None) -> dict[str, Any]:
    return {"items": [asdict(i) for i in items], "cursor": cursor}


def _settings_view(settings: TenantSettings) -> dict[str, Any]:
    view = asdict(settings)
    view["after_hours"]["hours"] = {str(d): list(s) for d, s in settings.after_hours.hours.items()}
    return view


# --- routes ---------------------------------------------------------------------------
@route("GET", "/openapi.json", audit=None, public=True)
def openapi_document() -> dict[str, Any]:
    return openapi_schema()


@route("GET", "/me", audit=None)
def me() -> dict[str, Any]:
    who = principal()
    return {"user_id": who.user_id, "tenant_id": who.tenant_id, "role": who.role.value}


@route("POST", "/me/sign-out", audit="session.sign_out")
def sign_out_me() -> Response[Any]:
    who = principal()
    wiring.staff_admin_service().sign_out(who, who.user_id)
    return Response(status_code=204)


@route("GET", "/conversations", audit="conversation.list")
def list_conversations(
    limit: Limit = 25,
    cursor: Cursor = None,
    view: Annotated[ConversationFilter, Query()] = "all",
) -> dict[str, Any]:
    page = wiring.inbox_service().list_conversations(
        principal(), limit=limit, cursor=cursor, view=view
    )
    return _page(page.items, page.cursor)


@route("GET", "/conversations/{conversation_id}", audit="conversation.read")
def get_conversation(conversation_id: str) -> dict[str, Any]:
    return asdict(wiring.inbox_service().get_conversation(principal(), conversation_id))


@route("GET", "/conversations/{conversation_id}/messages", audit="message.read")
def read_thread(conversation_id: str, limit: Limit = 50, cursor: Cursor = None) -> dict[str, Any]:
    page = wiring.inbox_service().read_thread(
        principal(), conversation_id, limit=limit, cursor=cursor
    )
    return _page(page.items, page.cursor)


@route("POST", "/conversations/{conversation_id}/messages", audit="message.send")
def send_message(conversation_id: str, payload: SendMessage) -> Response[Any]:
    sent = wiring.inbox_service().send(
        principal(), conversation_id, payload.body, secure_link=payload.mode == "secure_link"
    )
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=asdict(sent))


@route("POST", "/conversations/{conversation_id}/read", audit="conversation.mark_read")
def mark_read(conversation_id: str) -> Response[Any]:
    wiring.inbox_service().mark_read(principal(), conversation_id)
    return Response(status_code=204)


@route("PUT", "/conversations/{conversation_id}/assignment", audit="conversation.assign")
def assign(conversation_id: str, payload: Assignment) -> Response[Any]:
    wiring.inbox_service().assign(principal(), conversation_id, payload.user_id)
    return Response(status_code=204)


@route("POST", "/contacts", audit="contact.create")
def create_contact(payload: NewContact) -> Response[Any]:
    contact = wiring.inbox_service().create_contact(
        principal(),
        phone_number=payload.phone_number,
        display_name=payload.display_name,
        consent_mode=payload.consent.mode,
        wording_version=payload.consent.wording_version,
    )
    return Response(
        status_code=201, content_type=content_types.APPLICATION_JSON, body=asdict(contact)
    )


@route("GET", "/contacts/{contact_id}", audit="contact.read")
def get_contact(contact_id: str) -> dict[str, Any]:
    return asdict(wiring.inbox_service().get_contact(principal(), contact_id))


@route("PATCH", "/contacts/{contact_id}", audit="contact.update")
def update_contact(contact_id: str, payload: ContactChange) -> dict[str, Any]:
    contact = wiring.inbox_service().update_contact(
        principal(),
        contact_id,
        display_name=payload.display_name,
        consent_mode=payload.consent.mode if payload.consent else None,
        wording_version=payload.consent.wording_version if payload.consent else None,
    )
    return asdict(contact)


@route("DELETE", "/contacts/{contact_id}", audit="contact.delete", admin_only=True)
def delete_contact(contact_id: str) -> dict[str, Any]:
    return {"messages_deleted": wiring.inbox_service().delete_contact(principal(), contact_id)}


@route("GET", "/templates", audit=None)
def list_templates() -> dict[str, Any]:
    return _page(wiring.inbox_service().list_templates(principal()), None)


@route("POST", "/templates", audit="template.create", admin_only=True)
def create_template(payload: Template) -> Response[Any]:
    saved = wiring.inbox_service().save_template(principal(), name=payload.name, body=payload.body)
    return Response(
        status_code=201, content_type=content_types.APPLICATION_JSON, body=asdict(saved)
    )


@route("GET", "/templates/{template_id}", audit=None)
def get_template(template_id: str) -> dict[str, Any]:
    return asdict(wiring.inbox_service().get_template(principal(), template_id))


@route("PUT", "/templates/{template_id}", audit="template.update", admin_only=True)
def update_template(template_id: str, payload: Template) -> dict[str, Any]:
    saved = wiring.inbox_service().save_template(
        principal(), name=payload.name, body=payload.body, template_id=template_id
    )
    return asdict(saved)


@route("DELETE", "/templates/{template_id}", audit="template.delete", admin_only=True)
def delete_template(template_id: str) -> Response[Any]:
    wiring.inbox_service().delete_template(principal(), template_id)
    return Response(status_code=204)


@route("GET", "/settings", audit=None)
def get_settings() -> dict[str, Any]:
    return _settings_view(wiring.inbox_service().get_settings(principal()))


@route("PUT", "/settings", audit="settings.update", admin_only=True)
def update_settings(payload: Settings) -> dict[str, Any]:
    after = payload.after_hours
    settings = TenantSettings(
        help_reply=payload.help_reply,
        stop_reply=payload.stop_reply,
        start_reply=payload.start_reply,
        max_body_chars=payload.max_body_chars,
        after_hours=AfterHours(
            enabled=after.enabled,
            timezone=after.timezone,
            hours={int(d): span for d, span in after.hours.items()},
            text=after.text,
            window_minutes=after.window_minutes,
        ),
    )
    return _settings_view(wiring.inbox_service().update_settings(principal(), settings))


@route("GET", "/users", audit="user.list", admin_only=True)
def list_users() -> dict[str, Any]:
    return _page(wiring.staff_admin_service().list_users(principal()), None)


@route("POST", "/users", audit="user.invite", admin_only=True)
def invite_user(payload: Invitation) -> Response[Any]:
    user = wiring.staff_admin_service().invite(principal(), payload.email, payload.role)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=asdict(user))


@route("POST", "/users/{user_id}/disable", audit="user.disable", admin_only=True)
def disable_user(user_id: str) -> Response[Any]:
    wiring.staff_admin_service().disable(principal(), user_id)
    return Response(status_code=204)


@route("POST", "/users/{user_id}/enable", audit="user.enable", admin_only=True)
def enable_user(user_id: str) -> Response[Any]:
    wiring.staff_admin_service().enable(principal(), user_id)
    return Response(status_code=204)


@route("POST", "/users/{user_id}/sign-out", audit="user.sign_out", admin_only=True)
def sign_out_user(user_id: str) -> Response[Any]:
    wiring.staff_admin_service().sign_out(principal(), user_id)
    return Response(status_code=204)


AUDIT_EXPORT_MAX = 1000


@route("GET", "/audit/events", audit="audit.export", admin_only=True)
def export_audit_events(
    start: Annotated[str, Query(min_length=10, max_length=30, description="ISO-8601, inclusive")],
    end: Annotated[str, Query(min_length=10, max_length=30, description="ISO-8601, exclusive")],
) -> dict[str, Any]:
    """This tenant's audit events in a time range, oldest first (ids only, never PHI).

    At most 1,000 per call: `truncated` says when to ask again from the last `at`.
    (`quietline audit export` streams any range to CSV or JSON.)
    """
    who = principal()
    events: list[dict[str, Any]] = []
    for link in wiring.audit_log().between(who.tenant_id, start, end):
        if len(events) == AUDIT_EXPORT_MAX:
            return {"items": events, "truncated": True}
        events.append({"seq": link.seq, "hash": link.hash, **asdict(link.event)})
    return {"items": events, "truncated": False}


def openapi_schema() -> dict[str, Any]:
    """The OpenAPI 3.1 document, generated from the routes and models above."""
    schema: dict[str, Any] = app.get_openapi_schema(
        title=API_TITLE, version=API_VERSION
    ).model_dump(mode="json", by_alias=True, exclude_none=True)
    schema["components"]["securitySchemes"] = {
        "cognito": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A Cognito ID token (MFA-verified sign-in).",
        }
    }
    for policy in ROUTES:
        operation = schema["paths"][policy.path][policy.method.lower()]
        if not policy.public:
            operation["security"] = [{"cognito": []}]
        operation["x-quietline-audit"] = policy.audit
        operation["x-quietline-admin-only"] = policy.admin_only
    return schema


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return for_the_browser(app.resolve(event, context))
