"""The app lock: the practice's lock settings, the caller's PIN, locking and unlocking.

Only the routes marked `while_locked` answer a locked session (no PHI in any of them);
every other guarded route answers it 423 (functions/logic/access.py).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, ConfigDict, Field

from functions.handlers.api.policy import RequestFacts, principal, route, runtime
from functions.logic.app_lock import MAX_LOCK_AFTER_SECONDS, MIN_LOCK_AFTER_SECONDS

router = Router()


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class PinBody(_Body):
    # Six ASCII digits; the service also refuses the trivially guessable ones (422 on pin).
    pin: str = Field(pattern=r"^[0-9]{6}$")


class LockSettings(_Body):
    # Either or both; what is left out stays as it is.
    lock_after_seconds: int | None = Field(
        default=None, ge=MIN_LOCK_AFTER_SECONDS, le=MAX_LOCK_AFTER_SECONDS
    )
    # Every user must set a PIN or a passkey (strict: 0 and "false" are not booleans).
    require_unlock_method: bool | None = Field(default=None, strict=True)


@route(router, "GET", "/me/lock", audit=None, while_locked=True)
def lock_state() -> dict[str, Any]:
    state = runtime(router).app_lock().state(principal(router))
    return {
        "lock_after_seconds": state.lock_after_seconds,
        "pin_set": state.pin_set,
        "require_unlock_method": state.require_unlock_method,
    }


# The page calls it as it locks: from then on the session's ID token reads no PHI.
@route(router, "POST", "/me/lock", audit="session.lock", status=204, while_locked=True)
def lock_now() -> Response[Any]:
    runtime(router).app_lock().lock(principal(router))
    return Response(status_code=204)


@route(router, "PUT", "/me/pin", audit="pin.set", status=204)
def set_pin(payload: PinBody) -> Response[Any]:
    runtime(router).app_lock().set_pin(principal(router), payload.pin)
    return Response(status_code=204)


# Audited by the service: success, failure and lockout are different events.
@route(router, "POST", "/me/unlock", audit=None, status=204, while_locked=True)
def unlock(payload: PinBody) -> Response[Any]:
    facts = RequestFacts.of(router)
    runtime(router).app_lock().unlock(
        principal(router), payload.pin, request_id=facts.request_id, source_ip=facts.source_ip
    )
    return Response(status_code=204)


@route(router, "PUT", "/lock-settings", audit="lock_settings.update", admin_only=True)
def set_lock_settings(payload: LockSettings) -> dict[str, Any]:
    service, who = runtime(router).app_lock(), principal(router)
    if payload.lock_after_seconds is not None:
        service.set_lock_after(who, payload.lock_after_seconds)
    if payload.require_unlock_method is not None:
        service.set_require_unlock_method(who, payload.require_unlock_method)
    settings = service.settings(who.tenant_id)
    return {
        "lock_after_seconds": settings.lock_after_seconds,
        "require_unlock_method": settings.require_unlock_method,
    }
