"""AWS End User Messaging two-way SMS: inbound texts published to SNS invoke this directly.

No public URL: only the SNS topic (whose key policy admits sms-voice) can invoke it.
A malformed record raises, so Lambda's async retries end in the function's DLQ (alarmed)
rather than dropping it.
"""

from __future__ import annotations

from typing import Any

from functions.carriers.aws_sms import parse_sns_record
from functions.container import Container
from functions.core import phone
from functions.core.errors import ValidationError
from functions.dal.store import schedules  # noqa: F401 - reminder answers read it
from functions.handlers import _boundary
from functions.handlers._entry import EntryPoint
from functions.logic import (
    inbound,  # noqa: F401 - see below
    reminder_replies,  # noqa: F401 - every text may answer one
)

# Every request parses two numbers and runs the inbound service: loaded at init (the
# container imports it only when asked), so the first request does not pay for them.
phone.preload()

MALFORMED_METRIC = "InboundSnsMalformed"


def handle(event: dict[str, Any], context: Any, runtime: Container) -> dict[str, Any]:
    # Every record's message is checked (shape, size, depth, surrogates, duplicate keys)
    # before any is acted on: a malformed one raises a ValidationError with nothing stored.
    try:
        records = _boundary.sns_records(event)
        messages = [parse_sns_record(record) for record in records]
    except ValidationError:
        # Only sms-voice may publish to the topic: malformed means AWS changed the payload
        # (or a test publish), counted before Lambda retries it into the DLQ.
        runtime.metrics().count(MALFORMED_METRIC)
        raise
    outcomes = []
    service = runtime.inbound_service()
    retry = runtime.retry_queue()
    for message in messages:
        result = service.receive_or_defer(message, retry)
        outcomes.append(result.outcome.value)
    return {"outcomes": outcomes}


handler = EntryPoint(handle, required=("table_name", "outbound_queue_url", "retry_queue_url"))
