"""Turn a local HTTP request into an API Gateway (REST, proxy) event, and back.

The same handler code then runs under `make run` as behind API Gateway in AWS.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

LOCAL_STAGE = "local"


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # API Gateway resource path, e.g. /conversations/{conversation_id}
    handler: str  # dotted path, e.g. "functions.handlers.sender.handler"
    # "apigw": an API Gateway proxy event; "sns": the body is an SNS message, as End User
    # Messaging publishes it, and the handler gets the SNS Lambda event.
    kind: str = "apigw"
    # API Gateway's Cognito authorizer runs first (staff API routes).
    authorized: bool = False
    # Built on a Powertools resolver, whose current event is process-wide (local/server.py).
    resolver: bool = False
    pattern: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template)
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self.pattern.match(path)
        return found.groupdict() if found else None


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = ""
    _deadline: float = field(default_factory=lambda: time.monotonic() + 30)

    def __post_init__(self) -> None:
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"
        )

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def query_parameters(
    raw_query: str,
) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """queryStringParameters and multiValueQueryStringParameters, as API Gateway (REST)
    fills them: decoded ('+' read as a space), the last value of a repeated name in the
    first. The raw query text itself is not in the event, as in AWS: code that needs the
    exact text (Twilio's signature) cannot count on it there either.
    """
    pairs = parse_qs(raw_query, keep_blank_values=True)
    if not pairs:
        return None, None
    return {k: v[-1] for k, v in pairs.items()}, pairs


def build_event(
    *,
    route: Route,
    path_parameters: dict[str, str],
    method: str,
    raw_path: str,
    headers: dict[str, str],
    body: bytes,
    source_ip: str,
    host: str,
) -> dict[str, Any]:
    parts = urlsplit(raw_path)
    query, multi_query = query_parameters(parts.query)
    text: str | None
    try:
        text, is_base64 = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, is_base64 = base64.b64encode(body).decode(), True
    request_id = str(uuid.uuid4())
    return {
        "resource": route.template,
        "path": parts.path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route.template,
            "httpMethod": method,
            "path": parts.path,
            "stage": LOCAL_STAGE,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "domainName": host,
            "protocol": "HTTP/1.1",
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
        },
        "body": text if body else None,
        "isBase64Encoded": is_base64,
    }


def response_parts(result: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body bytes from a Lambda proxy response."""
    status = int(result.get("statusCode", 200))
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[str(name)] = ", ".join(str(v) for v in values)
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    return status, headers, raw


def build_sns_event(message: str, topic_arn: str) -> dict[str, Any]:
    """The Lambda event SNS delivers for one published message."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:{uuid.uuid4()}",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": str(uuid.uuid4()),
                    "TopicArn": topic_arn,
                    "Subject": None,
                    "Message": message,
                    "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                    "MessageAttributes": {},
                },
            }
        ]
    }
