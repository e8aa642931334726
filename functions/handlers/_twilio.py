"""What every Twilio webhook (SMS and voice) does before it acts on a request.

Size, encoding and Content-Type first (413/415/400: functions/handlers/_boundary.py), then
X-Twilio-Signature against the URL Twilio signed (SignatureError: 403, nothing stored),
then the account the request is for. A handler acts only on what `verified_form` returns.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from functions.carriers.twilio import (
    SIGNATURE_HEADER,
    matches_request,
    parse_form,
    rebuild_query,
    validate_signature,
)
from functions.container import Container
from functions.core.errors import SignatureError
from functions.core.settings import Settings
from functions.handlers import _boundary

MAX_FORM_BYTES = 64 * 1024  # a 1,600-character body plus every Twilio field fits easily

Query = Mapping[str, Sequence[str]]


def public_base(event: Mapping[str, Any], public_base_url: str | None) -> str:
    """Where Twilio reaches us: the configured base (custom domain, local mode), else the
    stage URL this request came through (its path minus the route)."""
    if public_base_url:
        # The resource path, not the request path: behind a custom domain the latter
        # carries the base-path mapping, which the configured base URL already holds.
        return public_base_url.rstrip("/")
    context = event.get("requestContext") or {}
    resource = str(event.get("resource", ""))
    path = str(context.get("path", ""))
    prefix = path[: -len(resource)] if resource and path.endswith(resource) else ""
    return f"https://{context.get('domainName', '')}{prefix}"


def signed_urls(
    event: Mapping[str, Any], settings: Settings, *, fragments: Sequence[str] = ()
) -> list[str]:
    """Every URL Twilio may have signed for this request; the signature must match one.

    Twilio signs the exact URL it was given. API Gateway hands us the query decoded and
    unordered, so a configured webhook URL (twilio.webhook_urls) whose path and decoded
    query match this request is taken verbatim. Otherwise the URL is rebuilt: the public
    base, the route, and the query encoded minimally in the order received and in sorted
    order (how functions/carriers/twilio_voice.py writes every URL it hands out). Each
    `fragments` entry adds every URL again with that fragment (a connection override
    Twilio may sign too).
    """
    resource = str(event.get("resource", ""))
    query: Query = event.get("multiValueQueryStringParameters") or {}
    url = public_base(event, settings.public_base_url) + resource
    urls = [u for u in settings.twilio_webhook_urls if matches_request(u, resource, query)]
    if query:
        urls.append(f"{url}?{rebuild_query(query)}")
        urls.append(f"{url}?{rebuild_query({k: query[k] for k in sorted(query)})}")
    else:
        urls.append(url)
    return urls + [f"{u}#{fragment}" for fragment in fragments for u in urls]


@dataclass(frozen=True)
class VerifiedForm:
    """A webhook whose signature held: its form fields, our query parameters, and the
    public base URL it came through (callback URLs are built on it)."""

    params: dict[str, list[str]]
    query: Query
    base_url: str


def verified_form(
    event: Mapping[str, Any], runtime: Container, *, fragments: Sequence[str] = ()
) -> VerifiedForm:
    """RequestBodyError at the boundary, SignatureError unless Twilio signed this request
    for our account; otherwise the form, unparsed fields still unchecked."""
    body = _boundary.form_body(event, max_bytes=MAX_FORM_BYTES)
    params = parse_form(body)
    settings = runtime.settings
    validate_signature(
        runtime.twilio_auth_token(),
        signed_urls(event, settings, fragments=fragments),
        params,
        _boundary.header(event, SIGNATURE_HEADER),
    )
    expected_account = settings.twilio_account_sid
    if expected_account and params.get("AccountSid") != [expected_account]:
        raise SignatureError("webhook is for another account")  # signed, not ours to act on
    return VerifiedForm(
        params,
        event.get("multiValueQueryStringParameters") or {},
        public_base(event, settings.public_base_url),
    )


def response(status: int, body: str, content_type: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_type, "Cache-Control": "no-store"},
        "body": body,
    }


def error(status: int, message: str) -> dict[str, Any]:
    return response(status, json.dumps({"error": message}), "application/json")
