"""Staff accounts (admins only): list, invite, disable, enable, sign out everywhere."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from functions.handlers.api.models import Invitation
from functions.handlers.api.policy import json_response, principal, route, runtime
from functions.handlers.api.views import page_of

router = Router()


@route(router, "GET", "/users", audit="user.list", admin_only=True)
def list_users() -> dict[str, Any]:
    return page_of(runtime(router).staff_admin_service().list_users(principal(router)), None)


@route(router, "POST", "/users", audit="user.invite", admin_only=True, status=201)
def invite_user(payload: Invitation) -> Response[Any]:
    user = (
        runtime(router).staff_admin_service().invite(principal(router), payload.email, payload.role)
    )
    return json_response(201, asdict(user))


@route(
    router, "POST", "/users/{user_id}/disable", audit="user.disable", admin_only=True, status=204
)
def disable_user(user_id: str) -> Response[Any]:
    runtime(router).staff_admin_service().disable(principal(router), user_id)
    return Response(status_code=204)


@route(router, "POST", "/users/{user_id}/enable", audit="user.enable", admin_only=True, status=204)
def enable_user(user_id: str) -> Response[Any]:
    runtime(router).staff_admin_service().enable(principal(router), user_id)
    return Response(status_code=204)


@route(
    router, "POST", "/users/{user_id}/sign-out", audit="user.sign_out", admin_only=True, status=204
)
def sign_out_user(user_id: str) -> Response[Any]:
    runtime(router).staff_admin_service().sign_out(principal(router), user_id)
    return Response(status_code=204)
