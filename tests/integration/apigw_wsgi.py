"""A WSGI front for an API Gateway (REST, proxy) handler, so HTTP tools can drive it in-process.

Each request becomes the event local mode builds (local/apigw.py). On authorized routes the
Authorization header is mapped to claims, as API Gateway's Cognito authorizer maps a valid
ID token; any other token gets API Gateway's own 401, and the handler never runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from local.apigw import LambdaContext, Route, build_event, response_parts

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
StartResponse = Callable[[str, list[tuple[str, str]]], Any]

_NOT_FOUND = b'{"error":"no such route"}'
_UNAUTHORIZED = b'{"message":"Unauthorized"}'


class ApiGatewayWsgi:
    def __init__(
        self,
        handler: Handler,
        routes: Iterable[Route],
        id_tokens: Mapping[str, dict[str, str]],
    ) -> None:
        """`id_tokens`: the Authorization values the authorizer accepts, each with its claims."""
        self.handler = handler
        self.routes = tuple(routes)
        self.id_tokens = dict(id_tokens)
        self.calls = 0  # how often the handler ran (the authorizer may answer alone)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterator[bytes]:
        method = str(environ["REQUEST_METHOD"])
        raw_path = self._raw_path(environ)
        path = raw_path.split("?", 1)[0]
        route, params = self._find(method, path)
        if route is None:
            return self._answer(start_response, 404, {}, _NOT_FOUND)
        headers = self._headers(environ)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        event = build_event(
            route=route,
            path_parameters=params,
            method=method,
            raw_path=raw_path,
            headers=headers,
            body=body,
            source_ip=str(environ.get("REMOTE_ADDR") or "198.51.100.7"),
            host=headers.get("Host", "localhost"),
        )
        if route.authorized:
            authorization = next(
                (v for k, v in headers.items() if k.lower() == "authorization"), None
            )
            claims = self.id_tokens.get(authorization or "")
            if claims is None:
                return self._answer(start_response, 401, {}, _UNAUTHORIZED)
            event["requestContext"]["authorizer"] = {"claims": claims}
        self.calls += 1
        status, response_headers, raw = response_parts(self.handler(event, LambdaContext("api")))
        return self._answer(start_response, status, response_headers, raw)

    def _find(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        for route in self.routes:
            params = route.match(method, path)
            if params is not None:
                return route, params
        return None, {}

    @staticmethod
    def _raw_path(environ: Mapping[str, Any]) -> str:
        """The request target as sent (still percent-encoded), as API Gateway matches it."""
        raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
        if raw:
            path = str(raw).split("?", 1)[0]
        else:
            # PEP 3333: PATH_INFO is the decoded path, its bytes carried as latin-1.
            path = quote(str(environ.get("PATH_INFO", "")).encode("latin-1"), safe="/")
        # A test client may leave the query out of REQUEST_URI; QUERY_STRING always has it.
        query = environ.get("QUERY_STRING")
        return f"{path}?{query}" if query else path

    @staticmethod
    def _headers(environ: Mapping[str, Any]) -> dict[str, str]:
        headers = {
            key[5:].replace("_", "-").title(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length")):
            if environ.get(key):
                headers[name] = str(environ[key])
        return headers

    @staticmethod
    def _answer(
        start_response: StartResponse, status: int, headers: Mapping[str, str], body: bytes
    ) -> Iterator[bytes]:
        listed = [(k, v) for k, v in headers.items() if k.lower() != "content-length"]
        if not any(k.lower() == "content-type" for k, _ in listed) and body:
            listed.append(("Content-Type", "application/json"))
        listed.append(("Content-Length", str(len(body))))
        start_response(f"{status} {HTTPStatus(status).phrase}", listed)
        return iter([body])
