"""Message templates the practice reuses (admins edit; everyone reads)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from functions.handlers.api.models import Template
from functions.handlers.api.policy import json_response, principal, route, runtime
from functions.handlers.api.views import page_of

router = Router()


@route(router, "GET", "/templates", audit=None)
def list_templates() -> dict[str, Any]:
    return page_of(runtime(router).inbox_service().list_templates(principal(router)), None)


@route(router, "POST", "/templates", audit="template.create", admin_only=True, status=201)
def create_template(payload: Template) -> Response[Any]:
    saved = (
        runtime(router)
        .inbox_service()
        .save_template(principal(router), name=payload.name, body=payload.body)
    )
    return json_response(201, asdict(saved))


@route(router, "GET", "/templates/{template_id}", audit=None)
def get_template(template_id: str) -> dict[str, Any]:
    return asdict(runtime(router).inbox_service().get_template(principal(router), template_id))


@route(router, "PUT", "/templates/{template_id}", audit="template.update", admin_only=True)
def update_template(template_id: str, payload: Template) -> dict[str, Any]:
    saved = (
        runtime(router)
        .inbox_service()
        .save_template(
            principal(router), name=payload.name, body=payload.body, template_id=template_id
        )
    )
    return asdict(saved)


@route(
    router,
    "DELETE",
    "/templates/{template_id}",
    audit="template.delete",
    admin_only=True,
    status=204,
)
def delete_template(template_id: str) -> Response[Any]:
    runtime(router).inbox_service().delete_template(principal(router), template_id)
    return Response(status_code=204)
