"""The signed-in user: who am I, and sign out of every session."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from functions.handlers.api.policy import principal, route, runtime

router = Router()


# Both pass the app lock: who am I names no client (the page asks it on a reload, and
# "Stay signed in" keeps a locked session from idling out), and sign-out must always work.
@route(router, "GET", "/me", audit=None, while_locked=True)
def me() -> dict[str, Any]:
    who = principal(router)
    return {"user_id": who.user_id, "tenant_id": who.tenant_id, "role": who.role.value}


@route(router, "POST", "/me/sign-out", audit="session.sign_out", status=204, while_locked=True)
def sign_out_me() -> Response[Any]:
    who = principal(router)
    runtime(router).staff_admin_service().sign_out(who, who.user_id)
    return Response(status_code=204)
