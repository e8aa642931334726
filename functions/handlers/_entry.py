"""The decorators every Lambda entry point wears, with PHI-safe settings in one place."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from functions.core.observability import logger, metrics, tracer

Handler = Callable[[Any, Any], Any]


def lambda_entry(handler: Handler) -> Handler:
    """Request context in logs (never the event), metrics flushed, a trace without payloads.

    capture_response=False: a response can hold PHI and X-Ray metadata is not redacted.
    """

    @wraps(handler)
    @logger.inject_lambda_context(log_event=False, clear_state=True)
    @metrics.log_metrics
    @tracer.capture_lambda_handler(capture_response=False)
    def wrapped(event: Any, context: Any) -> Any:
        return handler(event, context)

    return wrapped
