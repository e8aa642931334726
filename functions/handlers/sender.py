"""SQS consumer: send each queued message through the carrier, with partial batch failures.

A transient failure (throttling, 5xx) leaves the record for SQS to redeliver, with an
exponential visibility backoff; after maxReceiveCount it lands in the DLQ (alarmed).
"""

from __future__ import annotations

import contextlib
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from functions.container import Container
from functions.core import phone
from functions.core.errors import QuietlineError, ThrottledError, TransientCarrierError
from functions.core.observability import logger
from functions.dal.queue import decode_ref
from functions.handlers._entry import EntryPoint
from functions.logic.outbound import SendInProgressError

# Every send parses the destination number: the parser loads at init, not on the first send.
phone.preload()

_BACKOFF_BASE_SECONDS = 15
_BACKOFF_MAX_SECONDS = 900

# Every failed record, even a whole failed batch, goes back as batchItemFailures: SQS
# redelivers exactly those, and the DLQ takes them after maxReceiveCount.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def backoff_seconds(receive_count: int) -> int:
    return int(min(_BACKOFF_MAX_SECONDS, _BACKOFF_BASE_SECONDS * 2 ** max(0, receive_count - 1)))


def record_handler(record: SQSRecord, runtime: Container) -> str:
    try:
        return runtime.sender_service().send(decode_ref(record.body)).value
    except (TransientCarrierError, ThrottledError, SendInProgressError) as error:
        receives = int(record.attributes.approximate_receive_count or 1)
        # If this fails, the queue's own visibility timeout still retries the message.
        with contextlib.suppress(QuietlineError):
            runtime.outbound_queue().delay_retry(record.receipt_handle, backoff_seconds(receives))
        logger.warning("send will be retried", extra={"error": type(error).__name__})
        raise


def handle(event: dict[str, Any], context: Any, runtime: Container) -> Any:
    return process_partial_response(
        event=event,
        record_handler=lambda record: record_handler(record, runtime),
        processor=processor,
        context=context,
    )


handler = EntryPoint(handle, required=("table_name", "outbound_queue_url"))
