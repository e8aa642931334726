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

from functions.carriers.models import DeliveryEvent, InboundSms
from functions.container import Container
from functions.core.errors import ValidationError
from functions.core.models import MessageStatus
from functions.handlers._entry import EntryPoint
from functions.logic.delivery import RETRY_STATUS, apply_delivery_event
from functions.logic.inbound import RETRY_INBOUND

# Every failed record, even a whole failed batch, goes back as batchItemFailures: SQS
# redelivers exactly those, and the DLQ takes them after maxReceiveCount.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord, runtime: Container) -> str:
    try:
        envelope = json.loads(record.body)
        kind, payload = envelope["kind"], envelope["payload"]
        if kind == RETRY_INBOUND:
            return runtime.inbound_service().receive(InboundSms(**payload)).outcome.value
        if kind == RETRY_STATUS:
            status = MessageStatus(payload.pop("status")) if payload.get("status") else None
            event = DeliveryEvent(**payload, status=status)
            return apply_delivery_event(event, runtime.store(), runtime.metrics()).value
    except (ValueError, KeyError, TypeError):
        pass
    raise ValidationError("retry_message", "is not a retry envelope this worker knows")


def handle(event: dict[str, Any], context: Any, runtime: Container) -> Any:
    return process_partial_response(
        event=event,
        record_handler=lambda record: record_handler(record, runtime),
        processor=processor,
        context=context,
    )


handler = EntryPoint(handle, required=("table_name", "outbound_queue_url"))
