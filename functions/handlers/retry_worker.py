"""SQS consumer of the retry queue: inbound texts and status events whose first attempt hit
a dependency fault. Failures stay on the queue (backoff by visibility) and end in its DLQ."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from functions import wiring
from functions.carriers.models import DeliveryEvent, InboundSms
from functions.core.errors import ValidationError
from functions.core.models import MessageStatus
from functions.handlers._entry import lambda_entry
from functions.logic.delivery import RETRY_STATUS, apply_delivery_event
from functions.logic.inbound import RETRY_INBOUND

# Every failed record, even a whole failed batch, goes back as batchItemFailures: SQS
# redelivers exactly those, and the DLQ takes them after maxReceiveCount.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> str:
    try:
        envelope = json.loads(record.body)
        kind, payload = envelope["kind"], envelope["payload"]
        if kind == RETRY_INBOUND:
            return wiring.inbound_service().receive(InboundSms(**payload)).outcome.value
        if kind == RETRY_STATUS:
            status = MessageStatus(payload.pop("status")) if payload.get("status") else None
            event = DeliveryEvent(**payload, status=status)
            return apply_delivery_event(event, wiring.store(), wiring.metrics()).value
    except (ValueError, KeyError, TypeError):
        pass
    raise ValidationError("retry_message", "is not a retry envelope this worker knows")


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> Any:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
