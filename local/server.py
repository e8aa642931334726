"""A thin HTTP adapter: each request becomes an API Gateway event for an in-process handler."""

from __future__ import annotations

import json
import logging
import select
import socket
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

from functions.core.errors import QuietlineError
from local.apigw import LambdaContext, Route, build_event, build_sns_event, response_parts

logger = logging.getLogger("quietline.local")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
MAX_BODY_BYTES = 1_048_576  # API Gateway's payload limit is 10 MB; ours is far smaller.
# Answering without reading all the client sent, we read (and drop) what it still sends,
# this much for this long at most: closing on unread bytes would reset the connection, and
# the client could lose our answer.
LINGER_BYTES = 4 * MAX_BODY_BYTES
LINGER_SECONDS = 2.0
LOCAL_TOPIC_ARN = "arn:aws:sns:us-east-1:000000000000:quietline-inbound-sms"


# One lock per handler: Lambda runs one request at a time per instance. Handlers built on
# a Powertools resolver share one lock more: Powertools keeps the current event on a class
# attribute common to every resolver in a process, which in AWS holds one function only.
_INSTANCE_LOCKS: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
_LOCKS_GUARD = threading.Lock()
_RESOLVER_LOCK = threading.Lock()


def _instance_lock(route: Route) -> threading.Lock:
    if route.resolver:
        return _RESOLVER_LOCK
    with _LOCKS_GUARD:
        return _INSTANCE_LOCKS[route.handler]


def _json_error(status: int, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"error": message}),
    }


class Authorizer(Protocol):
    def claims(self, authorization: str | None) -> dict[str, str] | None: ...


class _RequestHandler(BaseHTTPRequestHandler):
    routes: tuple[Route, ...] = ()
    handlers: Mapping[str, Handler] = {}
    authorizer: Authorizer | None = None
    # Paths served as WebSockets (local/live_socket.py): the request is handed over whole.
    upgrades: Mapping[str, Callable[[Any], None]] = {}
    server_version = "QuietlineLocal"
    sys_version = ""
    timeout = 30  # seconds a client may take to send its request (http.server closes it then)

    def _content_length(self) -> int | None:
        """The declared body length; None unless it is one non-negative decimal integer."""
        values = {v.strip() for v in self.headers.get_all("Content-Length") or ["0"]}
        if len(values) != 1:
            return None
        (value,) = values
        return int(value) if value.isdecimal() and len(value) <= 18 else None

    def _dispatch(self) -> None:
        path = urlsplit(self.path).path
        upgrade = self.upgrades.get(path) if self.command == "GET" else None
        if upgrade is not None and self.headers.get("Upgrade", "").lower() == "websocket":
            upgrade(self)
            logger.info("GET %s -> socket closed", path)
            return
        route, params = self._find(path)
        length = self._content_length()
        chunked = self.headers.get("Transfer-Encoding") is not None
        unread = length is None or length > MAX_BODY_BYTES or chunked
        if length is None:
            result = _json_error(400, "Content-Length must be a non-negative integer")
        elif chunked:  # API Gateway takes a length; so do we
            result = _json_error(411, "a body needs a Content-Length")
        elif length > MAX_BODY_BYTES:
            result = _json_error(413, "request body too large")
        elif route is None:
            result = _json_error(404, "no such route")
        else:
            body = self.rfile.read(length) if length else b""
            try:
                result = self._invoke(route, params, body)
            except QuietlineError as error:
                # Only the SNS-shaped route gets here (API Gateway handlers answer for
                # themselves): in AWS, SNS would retry into the DLQ; locally we say 400.
                result = _json_error(400, type(error).__name__)
            except Exception:
                # API Gateway answers 502 when a proxy integration raises; so do we.
                logger.exception("handler raised", extra={"route": route.template})
                result = _json_error(502, "internal error")
        status, headers, raw = response_parts(result)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("Connection", "close")  # one request per connection (HTTP/1.0)
        self.close_connection = True
        self.end_headers()
        self.wfile.write(raw)
        if unread or self._input_pending():
            self._linger()
        # Route templates only: a raw path or query string could carry something sensitive.
        logger.info("%s %s -> %s", self.command, route.template if route else "(unknown)", status)

    def _input_pending(self) -> bool:
        """Bytes the client sent beyond what we read (a body without a Content-Length)."""
        try:
            return bool(select.select([self.connection], [], [], 0)[0])
        except (OSError, ValueError):
            return False

    def _linger(self) -> None:
        """Answered without reading all input: stop sending, then drop what still arrives."""
        self.wfile.flush()
        dropped = 0
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(LINGER_SECONDS)
            while dropped < LINGER_BYTES:
                chunk = self.connection.recv(65536)
                if not chunk:
                    break
                dropped += len(chunk)
        except OSError:
            pass  # the client went away or stalled: the connection closes either way

    def _invoke(self, route: Route, params: dict[str, str], body: bytes) -> dict[str, Any]:
        handler = self.handlers[route.handler]
        context = LambdaContext(route.handler)
        if route.kind == "sns":
            try:
                message = body.decode("utf-8")
            except UnicodeDecodeError:
                return _json_error(400, "an SNS message must be UTF-8")
            with _instance_lock(route):
                outcome = handler(build_sns_event(message, LOCAL_TOPIC_ARN), context)
            return {
                "statusCode": 202,
                "headers": {"Content-Type": "application/json"},
                "body": json.dumps(outcome),
            }
        event = build_event(
            route=route,
            path_parameters=params,
            method=self.command,
            raw_path=self.path,
            headers={k: v for k, v in self.headers.items()},
            body=body,
            source_ip=self.client_address[0],
            host=self.headers.get("Host", ""),
        )
        if route.authorized:
            claims = (
                self.authorizer.claims(self.headers.get("Authorization"))
                if self.authorizer
                else None
            )
            if claims is None:
                # API Gateway's own answer when its authorizer refuses a token.
                return _json_error(401, "Unauthorized") | {
                    "body": json.dumps({"message": "Unauthorized"})
                }
            event["requestContext"]["authorizer"] = {"claims": claims}
        with _instance_lock(route):
            return handler(event, context)

    def _find(self, path: str) -> tuple[Route | None, dict[str, str]]:
        for route in self.routes:
            params = route.match(self.command, path)
            if params is not None:
                return route, params
        return None, {}

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default access log: it prints raw paths (see _dispatch)."""


def make_server(
    host: str,
    port: int,
    routes: Iterable[Route],
    handlers: Mapping[str, Handler] | None = None,
    authorizer: Authorizer | None = None,
) -> ThreadingHTTPServer:
    """Serve `routes`; `handlers` maps each route's dotted handler name to its callable."""
    routes = tuple(routes)
    handler_class = type(
        "QuietlineRequestHandler",
        (_RequestHandler,),
        {"routes": routes, "handlers": dict(handlers or {}), "authorizer": authorizer},
    )
    server = ThreadingHTTPServer((host, port), handler_class)
    server.daemon_threads = True
    return server


def use_authorizer(server: ThreadingHTTPServer, authorizer: Authorizer) -> None:
    """Put the authorizer in front of the API routes (the pool exists only after bind)."""
    handler_class: Any = server.RequestHandlerClass
    handler_class.authorizer = authorizer


def use_handlers(server: ThreadingHTTPServer, handlers: Mapping[str, Handler]) -> None:
    """Attach the handlers once their container exists (the port is bound before)."""
    handler_class: Any = server.RequestHandlerClass
    missing = {route.handler for route in handler_class.routes} - set(handlers)
    if missing:
        raise ValueError(f"no handler for {sorted(missing)}")
    handler_class.handlers = dict(handlers)


def use_upgrade(server: ThreadingHTTPServer, path: str, serve: Callable[[Any], None]) -> None:
    """Serve WebSocket upgrades of `path` with `serve` (it takes the request handler)."""
    handler_class: Any = server.RequestHandlerClass
    handler_class.upgrades = {**handler_class.upgrades, path: serve}
