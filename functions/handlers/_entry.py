"""The decorators every Lambda entry point wears, with PHI-safe settings in one place."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from functions.core.observability import logger, metrics
from functions.core.settings import inbox_origin

Handler = Callable[[Any, Any], Any]


def lambda_entry(handler: Handler) -> Handler:
    """Request context in logs (never the event) and metrics flushed.

    Tracing is Lambda's own (active tracing): a segment per invocation, no payloads in it.
    """

    @wraps(handler)
    @logger.inject_lambda_context(log_event=False, clear_state=True)
    @metrics.log_metrics
    def wrapped(event: Any, context: Any) -> Any:
        return handler(event, context)

    return wrapped


def for_the_browser(response: dict[str, Any]) -> dict[str, Any]:
    """Headers every staff-API and secure-page answer needs, errors included.

    PHI must not be kept by browsers or intermediaries (no-store), and only the practice's
    inbox origin may read an answer cross-origin (never "*"): without that header on a
    401, 404 or 422 too, the page could not tell an ended session from a network failure.
    Applied to the resolver's final answer, which exception handlers also produce.
    """
    headers = {"Cache-Control": "no-store"}
    origin = inbox_origin()
    if origin:
        headers |= {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    multi = response.get("multiValueHeaders")
    if isinstance(multi, dict):
        multi.update({name: [value] for name, value in headers.items()})
    else:
        response["headers"] = {**(response.get("headers") or {}), **headers}
    return response
