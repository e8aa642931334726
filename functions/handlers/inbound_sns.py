"""AWS End User Messaging two-way SMS: inbound texts published to SNS invoke this directly.

No public URL: only the SNS topic (whose key policy admits sms-voice) can invoke it.
A malformed record raises, so Lambda's async retries end in the function's DLQ (alarmed)
rather than dropping it.
"""

from __future__ import annotations

from typing import Any

from functions import wiring
from functions.carriers.aws_sms import parse_sns_record
from functions.core import phone
from functions.dal import notifier  # noqa: F401 - see below
from functions.handlers._entry import lambda_entry
from functions.logic.inbound import InboundService

# Every request parses two numbers, runs the inbound service and notifies staff: loaded at
# init (wiring imports them only when asked), so the first request does not pay for them.
phone.preload()


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    outcomes = []
    service: InboundService = wiring.inbound_service()
    retry = wiring.retry_queue()
    for record in event.get("Records", []):
        result = service.receive_or_defer(parse_sns_record(record), retry)
        outcomes.append(result.outcome.value)
    return {"outcomes": outcomes}
