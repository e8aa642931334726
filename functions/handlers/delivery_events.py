"""EventBridge rule target: AWS End User Messaging delivery status events."""

from __future__ import annotations

from typing import Any

from functions import wiring
from functions.carriers.aws_sms import parse_delivery_event
from functions.handlers._entry import lambda_entry
from functions.logic.delivery import apply_or_defer


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    # A malformed event raises: EventBridge retries, then the target's DLQ keeps it.
    outcome = apply_or_defer(
        parse_delivery_event(event), wiring.store(), wiring.metrics(), wiring.retry_queue()
    )
    return {"outcome": outcome.value}
