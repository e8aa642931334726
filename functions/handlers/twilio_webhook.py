"""Twilio webhooks behind API Gateway: POST /webhooks/twilio/sms and /webhooks/twilio/status.

Every request's X-Twilio-Signature is checked against the URL Twilio signed before any
field or query parameter is acted on: forged or unsigned -> 403, nothing stored;
malformed -> 400 naming the field; too large -> 413. A 200 means the message is stored,
durably parked for retry, or (a status for a message that isn't ours to update) counted.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from functions.carriers.twilio import (
    SIGNATURE_HEADER,
    matches_request,
    parse_form,
    parse_inbound,
    parse_status,
    rebuild_query,
    validate_signature,
)
from functions.container import Container
from functions.core.errors import RequestBodyError, SignatureError, ValidationError
from functions.core.observability import logger
from functions.core.settings import Settings
from functions.dal import secrets  # noqa: F401 - see below
from functions.handlers import _boundary
from functions.handlers._entry import EntryPoint
from functions.logic.delivery import apply_or_defer

# Every request's signature check needs the auth token, which the container reads on demand: its
# adapter is imported here, at init. The inbound service and the number parser, which only
# the /sms webhook uses, load on first use.

MAX_FORM_BYTES = 64 * 1024  # a 1,600-character body plus every Twilio field fits easily
STATUS_REF_PARAM = "ref"  # our message reference, carried in the StatusCallback URL
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _response(status: int, body: str, content_type: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_type, "Cache-Control": "no-store"},
        "body": body,
    }


def _error(status: int, message: str) -> dict[str, Any]:
    return _response(status, json.dumps({"error": message}), "application/json")


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None


def signed_urls(event: dict[str, Any], settings: Settings) -> list[str]:
    """Every URL Twilio may have signed for this request; the signature must match one.

    Twilio signs the exact URL it was given. API Gateway hands us the query decoded and
    unordered, so a configured webhook URL (twilio.webhook_urls) whose path and decoded
    query match this request is taken verbatim. Otherwise the URL is rebuilt: the
    configured public base (custom domain, local mode) or the stage URL, the route, and
    the query encoded minimally in the order received, which is exact for the URLs the
    stack hands out (no query) and for simple queries.
    """
    resource = str(event.get("resource", ""))
    query = event.get("multiValueQueryStringParameters") or {}
    context = event.get("requestContext") or {}
    if settings.public_base_url:
        # The resource path, not the request path: behind a custom domain the latter
        # carries the base-path mapping, which the configured base URL already holds.
        url = settings.public_base_url.rstrip("/") + resource
    else:
        url = f"https://{context.get('domainName', '')}{context.get('path', '')}"
    configured = [u for u in settings.twilio_webhook_urls if matches_request(u, resource, query)]
    return [*configured, f"{url}?{rebuild_query(query)}" if query else url]


def handle(event: dict[str, Any], context: Any, runtime: Container) -> dict[str, Any]:
    resource = str(event.get("resource", ""))
    try:  # size, base64, UTF-8 and Content-Type, before the form is parsed
        body = _boundary.form_body(event, max_bytes=MAX_FORM_BYTES)
    except RequestBodyError as refused:
        runtime.metrics().count("WebhookMalformed")
        return _error(_boundary.status_of(refused), f"{refused.field} {refused.problem}")
    try:
        params = parse_form(body)
        validate_signature(
            runtime.twilio_auth_token(),
            signed_urls(event, runtime.settings),
            params,
            _header(event, SIGNATURE_HEADER),
        )
        expected_account = runtime.settings.twilio_account_sid
        if expected_account and params.get("AccountSid") != [expected_account]:
            # Signed, but for another Twilio account: not ours to act on.
            raise SignatureError("webhook is for another account")
        if resource.endswith("/sms"):
            result = runtime.inbound_service().receive_or_defer(
                parse_inbound(params), runtime.retry_queue()
            )
            outcome = result.outcome.value
        elif resource.endswith("/status"):
            status_event = parse_status(params)
            ref = (event.get("queryStringParameters") or {}).get(STATUS_REF_PARAM)
            if ref:
                status_event = replace(status_event, message_id=ref)
            outcome = apply_or_defer(
                status_event, runtime.store(), runtime.metrics(), runtime.retry_queue()
            ).value
        else:
            return _error(404, "no such webhook")
    except SignatureError:
        runtime.metrics().count("WebhookSignatureRejected")
        logger.warning("webhook signature rejected", extra={"route": resource})
        return _error(403, "signature verification failed")
    except ValidationError as error:
        runtime.metrics().count("WebhookMalformed")
        # Field names only: a ValidationError never carries the offending value.
        return _error(400, f"malformed webhook: {error.field}")
    logger.info("webhook processed", extra={"route": resource, "outcome": outcome})
    return _response(200, EMPTY_TWIML, "text/xml")


handler = EntryPoint(handle, required=("table_name", "retry_queue_url", "outbound_queue_url"))
