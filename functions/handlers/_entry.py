"""What every Lambda entry point wears: its container, PHI-safe logging and metrics.

A handler module writes `handle(event, context, runtime)` and exposes
`handler = EntryPoint(handle, required=...)`. Lambda calls `handler(event, context)`: the
first call parses the function's settings from its environment (one clear line if one is
missing) and builds its container, kept for the instance's life. Local mode, tests and
the bench call `handler.bound(container)` with a container they built for their target.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from functions.container import Container
from functions.core.observability import logger, metrics
from functions.core.settings import Settings

Handler = Callable[[Any, Any], Any]
Handle = Callable[[Any, Any, Container], Any]

# An EventBridge schedule's events carry this source (a handler's timer, not a request).
SCHEDULE_SOURCE = "aws.events"


class EntryPoint:
    """A Lambda handler over `handle`, with the container it runs on made explicit."""

    def __init__(self, handle: Handle, *, required: Iterable[str] = ()) -> None:
        self.handle = handle
        self.required = tuple(required)
        self._guard = threading.Lock()
        self._deployed: Handler | None = None

    def __call__(self, event: Any, context: Any) -> Any:
        """Lambda's entry: settings from this function's environment, parsed once."""
        with self._guard:
            if self._deployed is None:
                self._deployed = self.from_environment(os.environ)
        return self._deployed(event, context)

    def from_environment(self, environ: Mapping[str, str]) -> Handler:
        """The handler as a deployed function builds it: settings from `environ`."""
        return self.bound(Container(Settings.from_environ(environ, required=self.required)))

    def bound(self, runtime: Container) -> Handler:
        """The same handler, decorated as in Lambda, running on `runtime`."""
        for name in self.required:
            runtime.settings.need(name)  # the same one-line error a deployment would get
        handle = self.handle

        @logger.inject_lambda_context(log_event=False, clear_state=True)
        @metrics.log_metrics
        def bound_handler(event: Any, context: Any) -> Any:
            # Tracing is Lambda's own (active tracing): a segment per call, no payloads.
            return handle(event, context, runtime)

        return bound_handler


def for_the_browser(response: dict[str, Any], inbox_origin: str | None) -> dict[str, Any]:
    """Headers every staff-API and secure-page answer needs, errors included.

    PHI must not be kept by browsers or intermediaries (no-store), and only the practice's
    inbox origin may read an answer cross-origin (never "*"): without that header on a
    401, 404 or 422 too, the page could not tell an ended session from a network failure.
    Applied to the resolver's final answer, which exception handlers also produce.
    """
    headers = {"Cache-Control": "no-store"}
    if inbox_origin:
        headers |= {"Access-Control-Allow-Origin": inbox_origin, "Vary": "Origin"}
    multi = response.get("multiValueHeaders")
    if isinstance(multi, dict):
        multi.update({name: [value] for name, value in headers.items()})
    else:
        response["headers"] = {**(response.get("headers") or {}), **headers}
    return response
