"""AWS End User Messaging two-way SMS: inbound texts published to SNS invoke this directly.

No public URL: only the SNS topic (whose key policy admits sms-voice) can invoke it.
A malformed record raises, so Lambda's async retries end in the function's DLQ (alarmed)
rather than dropping it.
"""

from __future__ import annotations

from typing import Any

from functions import wiring
from functions.carriers.aws_sms import parse_sns_record
from functions.handlers._entry import lambda_entry


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    outcomes = []
    service, retry = wiring.inbound_service(), wiring.retry_queue()
    for record in event.get("Records", []):
        result = service.receive_or_defer(parse_sns_record(record), retry)
        outcomes.append(result.outcome.value)
    return {"outcomes": outcomes}
