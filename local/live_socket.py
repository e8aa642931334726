"""Local mode's WebSocket API: the inbox's live-update socket on the local server.

The same protocol the deployed API Gateway WebSocket API speaks (functions/handlers/
live_socket.py handles every frame, with the events API Gateway would send), over a
hand-rolled minimum of RFC 6455: text frames, ping/pong, close; no extensions, no
fragmentation, frames of at most `MAX_FRAME_BYTES`. `LocalSockets` is the publisher the
stream consumer posts through (API Gateway's PostToConnection, locally).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import socket
import struct
import threading
import uuid
from collections.abc import Callable
from typing import Any, BinaryIO

from local.apigw import LambdaContext

logger = logging.getLogger("quietline.local")

LIVE_PATH = "/live"
_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
MAX_FRAME_BYTES = 4096
IDLE_SECONDS = 600  # API Gateway closes a socket idle for 10 minutes
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class ProtocolError(Exception):
    """The peer broke the subset of RFC 6455 served here; the socket is closed."""


def accept_key(client_key: str) -> str:
    digest = hashlib.sha1((client_key + _GUID).encode(), usedforsecurity=False).digest()
    return base64.b64encode(digest).decode()


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """A server frame: final, unmasked (RFC 6455 section 5.1: servers never mask)."""
    head = bytes([0x80 | opcode])
    size = len(payload)
    if size < 126:
        return head + bytes([size]) + payload
    if size < 1 << 16:
        return head + bytes([126]) + struct.pack("!H", size) + payload
    return head + bytes([127]) + struct.pack("!Q", size) + payload


def _exactly(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError
    return data


def read_frame(stream: BinaryIO) -> tuple[int, bytes]:
    """One client frame (opcode, unmasked payload)."""
    first, second = _exactly(stream, 2)
    if not first & 0x80 or first & 0x70:
        raise ProtocolError("fragmented frames and extensions are not served")
    if not second & 0x80:
        raise ProtocolError("a client frame must be masked")
    size = second & 0x7F
    if size == 126:
        size = struct.unpack("!H", _exactly(stream, 2))[0]
    elif size == 127:
        size = struct.unpack("!Q", _exactly(stream, 8))[0]
    if size > MAX_FRAME_BYTES:
        raise ProtocolError("frame too large")
    mask = _exactly(stream, 4)
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(_exactly(stream, size)))
    return first & 0x0F, payload


class LocalSockets:
    """Open sockets by connection id; the `LivePublisher` of local mode."""

    def __init__(self) -> None:
        self._open: dict[str, tuple[socket.socket, threading.Lock]] = {}
        self._guard = threading.Lock()

    def add(self, connection_id: str, conn: socket.socket) -> None:
        with self._guard:
            self._open[connection_id] = (conn, threading.Lock())

    def drop(self, connection_id: str) -> None:
        with self._guard:
            self._open.pop(connection_id, None)

    def send(self, connection_id: str, opcode: int, payload: bytes) -> bool:
        with self._guard:
            found = self._open.get(connection_id)
        if found is None:
            return False
        conn, lock = found
        try:
            with lock:
                conn.sendall(encode_frame(opcode, payload))
        except OSError:
            self.drop(connection_id)
            return False
        return True

    def post(self, connection_id: str, payload: bytes) -> bool:
        return self.send(connection_id, TEXT, payload)

    def close(self, connection_id: str) -> None:
        self.send(connection_id, CLOSE, struct.pack("!H", 1008))  # policy violation
        with self._guard:
            found = self._open.pop(connection_id, None)
        if found is not None:
            with contextlib.suppress(OSError):
                found[0].shutdown(socket.SHUT_RDWR)


def _event(route: str, connection_id: str, body: str | None = None) -> dict[str, Any]:
    return {
        "requestContext": {
            "routeKey": route,
            "connectionId": connection_id,
            "eventType": {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE"),
        },
        "body": body,
        "isBase64Encoded": False,
    }


def _route_of(body: str) -> str:
    """API Gateway's route selection `$request.body.action`, with $default otherwise."""
    try:
        action = json.loads(body).get("action")
    except (ValueError, AttributeError):
        return "$default"
    return action if action in {"auth", "ping"} else "$default"


def serve(request: Any, sockets: LocalSockets, handler: Handler) -> None:
    """Take over an HTTP request that asked to upgrade, and serve the socket until it ends.

    `request` is the server's BaseHTTPRequestHandler (headers read, nothing answered)."""
    key = request.headers.get("Sec-WebSocket-Key", "")
    if request.headers.get("Sec-WebSocket-Version") != "13" or len(key) != 24:
        request.send_response(400)
        request.send_header("Content-Length", "0")
        request.end_headers()
        request.close_connection = True
        return
    request.close_connection = True
    connection_id = uuid.uuid4().hex
    context = LambdaContext("local-live-socket")
    request.send_response(101)
    request.send_header("Upgrade", "websocket")
    request.send_header("Connection", "Upgrade")
    request.send_header("Sec-WebSocket-Accept", accept_key(key))
    request.end_headers()
    request.wfile.flush()
    conn: socket.socket = request.connection
    conn.settimeout(IDLE_SECONDS)
    sockets.add(connection_id, conn)
    handler(_event("$connect", connection_id), context)
    try:
        while True:
            opcode, payload = read_frame(request.rfile)
            if opcode == CLOSE:
                sockets.send(connection_id, CLOSE, payload[:2])
                break
            if opcode == PING:
                sockets.send(connection_id, PONG, payload)
            elif opcode == TEXT:
                body = payload.decode("utf-8", errors="replace")
                answer = handler(_event(_route_of(body), connection_id, body), context)
                if isinstance(answer.get("body"), str):  # a two-way route's response
                    sockets.send(connection_id, TEXT, answer["body"].encode())
    except (EOFError, OSError, ProtocolError):
        pass  # the peer left, idled out or broke the protocol: the socket ends either way
    finally:
        sockets.drop(connection_id)
        handler(_event("$disconnect", connection_id), context)


def server_for(runtime: Any) -> Callable[[Any], None]:
    """The upgrade handler for local mode's server, on `runtime`'s container."""
    from functions.handlers import live_socket  # noqa: PLC0415 - local mode only

    sockets = runtime.ports.live_publisher
    if not isinstance(sockets, LocalSockets):
        raise TypeError("local mode's container must publish through LocalSockets")
    handler = live_socket.handler.bound(runtime)
    return lambda request: serve(request, sockets, handler)
