"""EventBridge rule target: AWS End User Messaging delivery status events."""

from __future__ import annotations

from typing import Any

from functions.carriers.aws_sms import parse_delivery_event
from functions.container import Container
from functions.handlers._entry import EntryPoint
from functions.logic.delivery import apply_or_defer


def handle(event: dict[str, Any], context: Any, runtime: Container) -> dict[str, str]:
    # A malformed event raises: EventBridge retries, then the target's DLQ keeps it.
    outcome = apply_or_defer(
        parse_delivery_event(event), runtime.store(), runtime.metrics(), runtime.retry_queue()
    )
    return {"outcome": outcome.value}


handler = EntryPoint(handle, required=("table_name", "retry_queue_url"))
