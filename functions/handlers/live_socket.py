"""The inbox's WebSocket (API Gateway WebSocket API): $connect, the ticket frame, $disconnect.

$connect admits anyone (a browser cannot send an Authorization header on a WebSocket, and
a token in the URL would land in access logs); an unauthenticated socket is told nothing.
Its first frame, `{"action": "auth", "ticket": ...}`, binds it to the ticket's user or
closes it. `{"action": "ping"}` only keeps an idle socket open (API Gateway closes one
after 10 minutes without a frame). Frames are never logged: a ticket is a credential.
"""

from __future__ import annotations

import json
from typing import Any

from functions.container import Container
from functions.dal import live  # noqa: F401 - every frame uses it: loaded at init
from functions.handlers._entry import EntryPoint

READY = json.dumps({"type": "ready"})
MAX_FRAME_BYTES = 1024  # an auth frame is ~80 bytes; anything larger is not ours


def handle(event: dict[str, Any], context: Any, runtime: Container) -> dict[str, Any]:
    request = event.get("requestContext") or {}
    route, connection_id = request.get("routeKey"), str(request.get("connectionId") or "")
    service = runtime.live_service()
    if route == "$connect":
        return {"statusCode": 200}
    if route == "$disconnect":
        service.disconnect(connection_id)
        return {"statusCode": 200}
    frame = _frame(event.get("body"))
    if frame.get("action") == "auth":
        ticket = frame.get("ticket")
        if service.authenticate(connection_id, ticket if isinstance(ticket, str) else ""):
            # The auth route's response (a two-way route): the app knows it is live.
            return {"statusCode": 200, "body": READY}
        return {"statusCode": 401}
    return {"statusCode": 200}  # ping, or anything else: ignored


def _frame(body: object) -> dict[str, Any]:
    if not isinstance(body, str) or len(body) > MAX_FRAME_BYTES:
        return {}
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


handler = EntryPoint(handle, required=("table_name", "live_management_url"))
