"""Calls the staff API handler as API Gateway would, after its Cognito authorizer."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from functions.handlers._entry import Handler
from local.apigw import LambdaContext


@dataclass(frozen=True)
class Caller:
    """Who is calling: the claims API Gateway's authorizer would pass on (None: no token)."""

    name: str
    claims: dict[str, str] | None
    user_id: str = ""
    tenant_id: str = ""
    api: Handler | None = None  # the staff API bound to the test's container


def claims_for(
    user_id: str, tenant_id: str, role: str, *, auth_time: int, session: str
) -> dict[str, str]:
    return {
        "sub": user_id,
        "token_use": "id",
        "custom:tenant_id": tenant_id,
        "custom:role": role,
        "auth_time": str(auth_time),
        "origin_jti": session,
        "aud": "client",
    }


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    text: str
    json: Any = field(default=None)


def call(
    caller: Caller,
    method: str,
    path: str,
    *,
    path_params: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: Any = None,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
) -> ApiResponse:
    concrete = path
    for name, value in (path_params or {}).items():
        concrete = concrete.replace("{" + name + "}", value)
    request_context: dict[str, Any] = {
        "resourcePath": path,
        "httpMethod": method,
        "path": f"/prod{concrete}",
        "stage": "prod",
        "requestId": str(uuid.uuid4()),
        "identity": {"sourceIp": "198.51.100.7"},
    }
    if caller.claims is not None:
        request_context["authorizer"] = {"claims": caller.claims}
    text_body = (
        raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    )
    event = {
        "resource": path,
        "path": concrete,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "multiValueHeaders": {
            name: [value]
            for name, value in {"Content-Type": "application/json", **(headers or {})}.items()
        },
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_params or None,
        "requestContext": request_context,
        "body": text_body,
        "isBase64Encoded": False,
    }
    assert caller.api is not None, "a Caller needs the API handler it calls"
    result = caller.api(event, LambdaContext("api"))
    text = result.get("body") or ""
    headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name] = ", ".join(values)
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    return ApiResponse(int(result["statusCode"]), headers, text, parsed)
