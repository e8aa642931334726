"""Web Push: a device opts in to (or out of) "New message in Quietline" notifications."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, ConfigDict, Field

from functions.core.errors import NotFoundError
from functions.core.settings import SettingsError
from functions.handlers.api.policy import principal, route, runtime

router = Router()


class PushKeys(BaseModel):
    model_config = ConfigDict(extra="forbid")
    p256dh: str = Field(min_length=1, max_length=200)
    auth: str = Field(min_length=1, max_length=100)


class PushSubscription(BaseModel):
    """The browser's PushSubscription.toJSON() (expirationTime is ignored)."""

    model_config = ConfigDict(extra="ignore")
    endpoint: str = Field(min_length=9, max_length=1000, pattern="^https://")
    keys: PushKeys


class PushEndpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoint: str = Field(min_length=9, max_length=1000, pattern="^https://")


@route(router, "GET", "/push/key", audit=None)
def push_key() -> dict[str, Any]:
    """The VAPID public key a device subscribes with."""
    try:
        key = runtime(router).vapid_public_key()
    except SettingsError:  # this deployment has no VAPID secret (VPC mode)
        key = None
    if not key:  # the secret exists but `quietline push init` has not run yet
        raise NotFoundError("web push is not set up (the admin runs `quietline push init`)")
    return {"key": key}


@route(router, "POST", "/push/subscriptions", audit="push.subscribe", status=204)
def subscribe(payload: PushSubscription) -> Response[Any]:
    runtime(router).web_push_service().subscribe(principal(router), payload.model_dump())
    return Response(status_code=204)


@route(router, "POST", "/push/subscriptions/remove", audit="push.unsubscribe", status=204)
def unsubscribe(payload: PushEndpoint) -> Response[Any]:
    runtime(router).web_push_service().unsubscribe(principal(router), payload.endpoint)
    return Response(status_code=204)
