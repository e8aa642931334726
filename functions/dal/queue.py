"""SQS adapters: the outbound queue and the retry queue (both KMS-encrypted, with DLQs)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.core.errors import ValidationError
from functions.core.models import MessageRef
from functions.dal import aws


def encode_ref(ref: MessageRef) -> str:
    return json.dumps({"ref": ref.token()})


def decode_ref(body: str) -> MessageRef:
    try:
        return MessageRef.from_token(json.loads(body)["ref"])
    except (ValueError, KeyError, TypeError):
        raise ValidationError("queue_message", "is not an outbound message reference") from None


class SqsQueue:
    def __init__(self, queue_url: str, sqs_client: Any) -> None:
        self._url = queue_url
        self._sqs = sqs_client

    def send(self, body: str) -> None:
        sqs = self._sqs
        try:
            sqs.send_message(QueueUrl=self._url, MessageBody=body)
        except (ClientError, BotoCoreError) as error:
            raise aws.translate(error, "sqs:SendMessage") from None

    def delay_retry(self, receipt_handle: str, seconds: int) -> None:
        """Back off before SQS redelivers a message that failed transiently."""
        sqs = self._sqs
        try:
            sqs.change_message_visibility(
                QueueUrl=self._url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
            )
        except (ClientError, BotoCoreError) as error:
            raise aws.translate(error, "sqs:ChangeMessageVisibility") from None

    # OutboundQueue port
    def enqueue(self, ref: MessageRef) -> None:
        self.send(encode_ref(ref))

    # RetryQueue port
    def defer(self, kind: str, payload: dict[str, Any]) -> None:
        self.send(json.dumps({"kind": kind, "payload": payload}))
