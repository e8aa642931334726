"""What AWS runs around the handlers, played locally: SQS event sources, the sweeper's
schedule, and the carrier's delivery reports."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from functions.carriers.models import DeliveryEvent
from functions.container import Container
from functions.core.clock import iso
from functions.core.models import MessageStatus
from functions.logic.delivery import apply_delivery_event
from local.apigw import LambdaContext
from local.sim_carrier import SentText

logger = logging.getLogger("quietline.local")
Handler = Callable[[dict[str, Any], Any], Any]


def sqs_event(messages: Sequence[Mapping[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


def poll_queue(sqs: Any, queue_url: str, handler: Handler, stop: threading.Event) -> None:
    """Lambda's SQS event source: batches in, failed records left for redelivery."""
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    while not stop.is_set():
        try:
            messages = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=1,
                AttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                continue
            event = sqs_event(messages, arn)
            result = handler(event, LambdaContext("local-queue-consumer"))
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            for record in event["Records"]:
                if record["messageId"] not in failed:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=record["receiptHandle"])
        except Exception:  # keep polling, as the event source would
            logger.exception("queue consumer failed")
            stop.wait(1)


def run_every(seconds: float, handler: Handler, stop: threading.Event) -> None:
    """An EventBridge schedule."""
    while not stop.wait(seconds):
        try:
            handler({}, LambdaContext("local-schedule"))
        except Exception:
            logger.exception("scheduled handler failed")


def delivery_reports(runtime: Container) -> Callable[[SentText], None]:
    """The simulated carrier confirms delivery a moment after sending, as a real one does."""
    return lambda sent: _report_delivery(runtime, sent)


def _report_delivery(runtime: Container, sent: SentText) -> None:
    def deliver() -> None:
        event = DeliveryEvent(
            carrier="simulated",
            carrier_message_id=sent.carrier_message_id,
            status=MessageStatus.DELIVERED,
            message_id=sent.message_ref,
            reason=None,
            occurred_at=iso(datetime.now(UTC)),
        )
        apply_delivery_event(event, runtime.store(), runtime.metrics())

    timer = threading.Timer(0.5, deliver)
    timer.daemon = True
    timer.start()
