"""Twilio webhooks behind API Gateway: POST /webhooks/twilio/sms and /webhooks/twilio/status.

Every request's X-Twilio-Signature is checked against the URL Twilio signed before any
field or query parameter is acted on: forged or unsigned -> 403, nothing stored;
malformed -> 400 naming the field; too large -> 413. A 200 means the message is stored,
durably parked for retry, or (a status for a message that isn't ours to update) counted.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from functions.carriers.twilio import parse_inbound, parse_status
from functions.container import Container
from functions.core.errors import RequestBodyError, SignatureError, ValidationError
from functions.core.observability import logger
from functions.dal import secrets  # noqa: F401 - see below
from functions.handlers import _boundary
from functions.handlers._entry import EntryPoint
from functions.handlers._twilio import error, response, verified_form
from functions.logic.delivery import apply_or_defer

# Every request's signature check needs the auth token, which the container reads on demand: its
# adapter is imported here, at init. The inbound service and the number parser, which only
# the /sms webhook uses, load on first use.

STATUS_REF_PARAM = "ref"  # our message reference, carried in the StatusCallback URL
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def handle(event: dict[str, Any], context: Any, runtime: Container) -> dict[str, Any]:
    resource = str(event.get("resource", ""))
    try:
        params = verified_form(event, runtime).params
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
            return error(404, "no such webhook")
    except RequestBodyError as refused:  # size, base64, UTF-8, Content-Type: before parsing
        runtime.metrics().count("WebhookMalformed")
        return error(_boundary.status_of(refused), f"{refused.field} {refused.problem}")
    except SignatureError:
        runtime.metrics().count("WebhookSignatureRejected")
        logger.warning("webhook signature rejected", extra={"route": resource})
        return error(403, "signature verification failed")
    except ValidationError as invalid:
        runtime.metrics().count("WebhookMalformed")
        # Field names only: a ValidationError never carries the offending value.
        return error(400, f"malformed webhook: {invalid.field}")
    logger.info("webhook processed", extra={"route": resource, "outcome": outcome})
    return response(200, EMPTY_TWIML, "text/xml")


handler = EntryPoint(handle, required=("table_name", "retry_queue_url", "outbound_queue_url"))
