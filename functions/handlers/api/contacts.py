"""Contacts (clients): create with recorded consent, read, rename, delete."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from functions.handlers.api.models import ContactChange, NewContact
from functions.handlers.api.policy import json_response, principal, route, runtime

router = Router()


@route(router, "POST", "/contacts", audit="contact.create", status=201)
def create_contact(payload: NewContact) -> Response[Any]:
    contact = (
        runtime(router)
        .inbox_service()
        .create_contact(
            principal(router),
            phone_number=payload.phone_number,
            display_name=payload.display_name,
            consent_mode=payload.consent.mode,
            wording_version=payload.consent.wording_version,
        )
    )
    return json_response(201, asdict(contact))


@route(router, "GET", "/contacts/{contact_id}", audit="contact.read")
def get_contact(contact_id: str) -> dict[str, Any]:
    return asdict(runtime(router).inbox_service().get_contact(principal(router), contact_id))


@route(router, "PATCH", "/contacts/{contact_id}", audit="contact.update")
def update_contact(contact_id: str, payload: ContactChange) -> dict[str, Any]:
    contact = (
        runtime(router)
        .inbox_service()
        .update_contact(
            principal(router),
            contact_id,
            display_name=payload.display_name,
            consent_mode=payload.consent.mode if payload.consent else None,
            wording_version=payload.consent.wording_version if payload.consent else None,
        )
    )
    return asdict(contact)


@route(router, "DELETE", "/contacts/{contact_id}", audit="contact.delete", admin_only=True)
def delete_contact(contact_id: str) -> dict[str, Any]:
    return {
        "messages_deleted": runtime(router)
        .inbox_service()
        .delete_contact(principal(router), contact_id)
    }
