"""SNS adapter telling staff a voicemail arrived: the text names the practice, nothing else."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.dal import aws

SUBJECT = "New voicemail in Quietline"


def voicemail_notification_text(practice_name: str) -> str:
    return (
        f"A client left a voicemail for {practice_name}. "
        "Sign in to Quietline to play it. (For privacy, this e-mail never includes "
        "the client's name, number or message.)"
    )


class SnsVoiceNotifier:
    def __init__(self, topic_arn: str, sns_client: Any) -> None:
        self._topic_arn = topic_arn
        self._sns = sns_client

    def new_voicemail(self, tenant_id: str, practice_name: str) -> None:
        try:
            self._sns.publish(
                TopicArn=self._topic_arn,
                Subject=SUBJECT,
                Message=voicemail_notification_text(practice_name),
                MessageAttributes={"tenant_id": {"DataType": "String", "StringValue": tenant_id}},
            )
        except (ClientError, BotoCoreError) as error:
            raise aws.translate(error, "sns:Publish") from None
