"""Conversations: the inbox list, one thread, sending, read marks and assignment."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from functions.handlers.api.models import After, Assignment, Cursor, Limit, SendMessage, Since
from functions.handlers.api.policy import json_response, principal, route, runtime
from functions.handlers.api.views import page_of
from functions.logic.inbox import ConversationFilter

router = Router()


@route(router, "GET", "/conversations", audit="conversation.list")
def list_conversations(
    limit: Limit = 25,
    cursor: Cursor = None,
    view: Annotated[ConversationFilter, Query()] = "all",
    since: Since = None,
) -> dict[str, Any]:
    page = (
        runtime(router)
        .inbox_service()
        .list_conversations(principal(router), limit=limit, cursor=cursor, view=view, since=since)
    )
    return page_of(page.items, page.cursor) | {"since": page.since}


@route(router, "GET", "/conversations/{conversation_id}", audit="conversation.read")
def get_conversation(conversation_id: str) -> dict[str, Any]:
    return asdict(
        runtime(router).inbox_service().get_conversation(principal(router), conversation_id)
    )


@route(router, "GET", "/conversations/{conversation_id}/messages", audit="message.read")
def read_thread(
    conversation_id: str, limit: Limit = 50, cursor: Cursor = None, after: After = None
) -> dict[str, Any]:
    page = (
        runtime(router)
        .inbox_service()
        .read_thread(principal(router), conversation_id, limit=limit, cursor=cursor, after=after)
    )
    return page_of(page.items, page.cursor)


@route(
    router, "POST", "/conversations/{conversation_id}/messages", audit="message.send", status=202
)
def send_message(conversation_id: str, payload: SendMessage) -> Response[Any]:
    sent = (
        runtime(router)
        .inbox_service()
        .send(
            principal(router),
            conversation_id,
            payload.body,
            secure_link=payload.mode == "secure_link",
        )
    )
    return json_response(202, asdict(sent))


@route(
    router,
    "POST",
    "/conversations/{conversation_id}/read",
    audit="conversation.mark_read",
    status=204,
)
def mark_read(conversation_id: str) -> Response[Any]:
    runtime(router).inbox_service().mark_read(principal(router), conversation_id)
    return Response(status_code=204)


@route(
    router,
    "PUT",
    "/conversations/{conversation_id}/assignment",
    audit="conversation.assign",
    status=204,
)
def assign(conversation_id: str, payload: Assignment) -> Response[Any]:
    runtime(router).inbox_service().assign(principal(router), conversation_id, payload.user_id)
    return Response(status_code=204)
