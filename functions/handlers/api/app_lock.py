"""The app lock: the practice's lock delay, the caller's PIN, and unlocking with it."""

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
    lock_after_seconds: int = Field(ge=MIN_LOCK_AFTER_SECONDS, le=MAX_LOCK_AFTER_SECONDS)


@route(router, "GET", "/me/lock", audit=None)
def lock_state() -> dict[str, Any]:
    state = runtime(router).app_lock().state(principal(router))
    return {"lock_after_seconds": state.lock_after_seconds, "pin_set": state.pin_set}


@route(router, "PUT", "/me/pin", audit="pin.set", status=204)
def set_pin(payload: PinBody) -> Response[Any]:
    runtime(router).app_lock().set_pin(principal(router), payload.pin)
    return Response(status_code=204)


# Audited by the service: success, failure and lockout are different events.
@route(router, "POST", "/me/unlock", audit=None, status=204)
def unlock(payload: PinBody) -> Response[Any]:
    facts = RequestFacts.of(router)
    runtime(router).app_lock().unlock(
        principal(router), payload.pin, request_id=facts.request_id, source_ip=facts.source_ip
    )
    return Response(status_code=204)


@route(router, "PUT", "/lock-settings", audit="lock_settings.update", admin_only=True)
def set_lock_settings(payload: LockSettings) -> dict[str, Any]:
    seconds = (
        runtime(router).app_lock().set_lock_after(principal(router), payload.lock_after_seconds)
    )
    return {"lock_after_seconds": seconds}
