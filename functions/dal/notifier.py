"""SNS adapter telling staff a message arrived: the text names the practice, nothing else."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.dal import aws

SUBJECT = "New message in Quietline"


def notification_text(practice_name: str) -> str:
    return (
        f"A client sent a new message to {practice_name}. "
        "Sign in to Quietline to read it. (For privacy, this e-mail never includes "
        "the client's name, number or message.)"
    )


class SnsStaffNotifier:
    def __init__(self, topic_arn: str, sns_client: Any) -> None:
        self._topic_arn = topic_arn
        self._sns = sns_client

    def new_inbound_message(self, tenant_id: str, practice_name: str) -> None:
        sns = self._sns
        try:
            sns.publish(
                TopicArn=self._topic_arn,
                Subject=SUBJECT,
                Message=notification_text(practice_name),
                MessageAttributes={"tenant_id": {"DataType": "String", "StringValue": tenant_id}},
            )
        except (ClientError, BotoCoreError) as error:
            raise aws.translate(error, "sns:Publish") from None
