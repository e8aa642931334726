"""Live updates: a single-use ticket for the inbox's WebSocket (functions/logic/live.py)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from functions.core.errors import NotFoundError
from functions.handlers.api.policy import principal, route, runtime

router = Router()


@route(router, "POST", "/live/tickets", audit=None)
def live_ticket() -> dict[str, Any]:
    """A ticket the socket sends as its first frame (never in its URL), and where to
    connect. No PHI is read: the socket only ever carries conversation ids."""
    container = runtime(router)
    url = container.settings.live_socket_url
    if not url:
        raise NotFoundError("live updates are not configured")
    return {"ticket": container.live_service().ticket(principal(router)), "url": url}
