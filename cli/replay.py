"""Re-drive dead-lettered work: SQS DLQs back to their queue, Lambda DLQs back to Lambda.

Safe to repeat: every consumer is idempotent (carrier-id guards, status ranks, send
leases), so a message replayed twice is stored or sent once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

BATCH = 10


def _drain(
    sqs: Any, dlq_url: str, limit: int, forward: Callable[[list[dict[str, Any]]], None]
) -> int:
    moved = 0
    while moved < limit:
        messages = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=min(BATCH, limit - moved),
            WaitTimeSeconds=1,
            VisibilityTimeout=60,
        ).get("Messages", [])
        if not messages:
            break
        forward(messages)  # raises before anything is deleted if it fails
        sqs.delete_message_batch(
            QueueUrl=dlq_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ],
        )
        moved += len(messages)
    return moved


def redrive_queue(sqs: Any, dlq_url: str, queue_url: str, *, limit: int = 1000) -> int:
    """Move up to `limit` messages from a DLQ back to its source queue."""

    def forward(messages: list[dict[str, Any]]) -> None:
        response = sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(messages)],
        )
        if response.get("Failed"):
            raise RuntimeError(f"{len(response['Failed'])} message(s) could not be re-queued")

    return _drain(sqs, dlq_url, limit, forward)


def reinvoke_function(
    sqs: Any, lambda_client: Any, dlq_url: str, function_name: str, *, limit: int = 1000
) -> int:
    """A Lambda async DLQ holds the original events: invoke the function with each again."""

    def forward(messages: list[dict[str, Any]]) -> None:
        for message in messages:
            lambda_client.invoke(
                FunctionName=function_name, InvocationType="Event", Payload=message["Body"].encode()
            )

    return _drain(sqs, dlq_url, limit, forward)
