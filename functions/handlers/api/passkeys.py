"""Passkeys: enrol and remove one's own, unlock the app with one; admins revoke a user's."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, ConfigDict, Field

from functions.core.errors import ForbiddenError, NotFoundError
from functions.handlers.api.policy import RequestFacts, json_response, principal, route, runtime
from functions.logic.access import require_admin
from functions.logic.passkey_models import RelyingParty, StoredPasskey

router = Router()


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Enrolment(_Body):
    credential: dict[str, Any]  # navigator.credentials.create()'s answer, as JSON
    name: str = Field(default="Passkey", max_length=60)


class Assertion(_Body):
    credential: dict[str, Any]  # navigator.credentials.get()'s answer, as JSON


def _relying_party() -> RelyingParty:
    """The inbox's origin and host: configured when deployed; locally, this server's own
    (the page and the API share it), taken only when the browser's Origin says so."""
    headers = {k.lower(): v for k, v in (router.current_event.headers or {}).items()}
    origin = runtime(router).settings.inbox_origin
    if not origin:
        origin = str(headers.get("origin", ""))
        if not origin or urlsplit(origin).netloc != headers.get("host"):
            raise ForbiddenError("passkeys are used from the inbox's own pages only")
    return RelyingParty(id=urlsplit(origin).hostname or "", origin=origin)


def _view(passkey: StoredPasskey) -> dict[str, Any]:
    return {
        "credential_id": passkey.credential_id,
        "name": passkey.name,
        "created_at": passkey.created_at,
        "last_used_at": passkey.last_used_at,
    }


@route(router, "POST", "/me/passkeys/options", audit=None)
def registration_options() -> dict[str, Any]:
    return runtime(router).passkeys().registration_options(principal(router), _relying_party())


# Enrolment, removal and unlock are audited by the service (accepted and refused apart).
@route(router, "POST", "/me/passkeys", audit=None, status=201)
def enrol(payload: Enrolment) -> Response[Any]:
    facts = RequestFacts.of(router)
    passkey = (
        runtime(router)
        .passkeys()
        .register(
            principal(router),
            _relying_party(),
            payload.credential,
            payload.name,
            request_id=facts.request_id,
            source_ip=facts.source_ip,
        )
    )
    return json_response(201, _view(passkey))


# Passes the app lock: the lock screen of a reloaded, locked page offers the passkeys.
@route(router, "GET", "/me/passkeys", audit=None, while_locked=True)
def list_passkeys() -> dict[str, Any]:
    return {"items": [_view(p) for p in runtime(router).passkeys().list(principal(router))]}


@route(router, "DELETE", "/me/passkeys/{credential_id}", audit=None, status=204)
def remove(credential_id: str) -> Response[Any]:
    facts = RequestFacts.of(router)
    runtime(router).passkeys().remove(
        principal(router), credential_id, request_id=facts.request_id, source_ip=facts.source_ip
    )
    return Response(status_code=204)


@route(router, "POST", "/me/unlock/options", audit=None, while_locked=True)
def unlock_options() -> dict[str, Any]:
    return runtime(router).passkeys().authentication_options(principal(router), _relying_party())


@route(router, "POST", "/me/unlock/passkey", audit=None, status=204, while_locked=True)
def unlock(payload: Assertion) -> Response[Any]:
    facts = RequestFacts.of(router)
    runtime(router).passkeys().unlock(
        principal(router),
        _relying_party(),
        payload.credential,
        request_id=facts.request_id,
        source_ip=facts.source_ip,
    )
    return Response(status_code=204)


@route(router, "DELETE", "/users/{user_id}/passkeys", audit="passkey.revoke", admin_only=True)
def revoke(user_id: str) -> dict[str, Any]:
    """A lost phone: every passkey of one of this practice's staff (others' ids are 404)."""
    services, who = runtime(router), principal(router)
    require_admin(who)  # (the route's policy already did; before any lookup, as a rule)
    if not services.staff_directory().is_member(who.tenant_id, user_id):
        raise NotFoundError("no such user")
    return {"revoked": services.passkeys().revoke_all(who, user_id)}
