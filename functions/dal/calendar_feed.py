"""Fetch a practice's iCalendar feed URL: https only, public addresses only, bounded.

The URL is typed by staff, so it is hostile input that makes our function open a
connection (SSRF): only https, no credentials in the URL, the host resolved once and
every address checked public (no loopback, private, link-local — the instance metadata
endpoint — or reserved ranges), the connection made to that checked address (no DNS
rebinding between the check and the connect), no redirects, a size cap and a deadline.
Local mode alone may allow http://127.0.0.1 (its tests serve a feed there).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from urllib.parse import urlsplit

from functions.core.errors import DependencyError, ValidationError

MAX_FEED_BYTES = 1_000_000
TIMEOUT_SECONDS = 5.0


class _PinnedHttps(http.client.HTTPSConnection):
    """HTTPS to a checked address, with the certificate checked for the URL's host name."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


class CalendarFeedFetcher:
    def __init__(self, *, allow_local_http: bool = False) -> None:
        self._allow_local_http = allow_local_http

    def fetch(self, url: str) -> bytes:
        if not isinstance(url, str) or len(url) > 2048:
            raise ValidationError("url", "must be an https URL")
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.username or parts.password:
            raise ValidationError("url", "must not carry credentials")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if self._allow_local_http and parts.scheme == "http" and host == "127.0.0.1":
            connection: http.client.HTTPConnection = http.client.HTTPConnection(
                host, parts.port or 80, timeout=TIMEOUT_SECONDS
            )
        elif parts.scheme == "https" and host:
            port = parts.port or 443
            try:
                infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
            except (socket.gaierror, UnicodeError):
                raise ValidationError("url", "host does not resolve") from None
            addresses = sorted({str(info[4][0]) for info in infos})
            if not addresses or not all(_public(a) for a in addresses):
                raise ValidationError("url", "must resolve to public addresses only")
            connection = _PinnedHttps(host, addresses[0], port, TIMEOUT_SECONDS)
        else:
            raise ValidationError("url", "must be an https URL")
        return _read_bounded(connection, path)


def _read_bounded(connection: http.client.HTTPConnection, path: str) -> bytes:
    deadline = time.monotonic() + TIMEOUT_SECONDS * 2
    try:
        connection.request("GET", path, headers={"User-Agent": "quietline-calendar"})
        response = connection.getresponse()
        if response.status != 200:  # redirects are not followed
            raise ValidationError("url", f"answered HTTP {response.status}")
        chunks: list[bytes] = []
        size = 0
        while chunk := response.read(65536):
            size += len(chunk)
            if size > MAX_FEED_BYTES:
                raise ValidationError("url", "feed is larger than 1 MB")
            if time.monotonic() > deadline:
                raise ValidationError("url", "feed took too long")
            chunks.append(chunk)
        return b"".join(chunks)
    except (OSError, http.client.HTTPException) as error:
        raise DependencyError(f"calendar feed: {type(error).__name__}") from None
    finally:
        connection.close()
