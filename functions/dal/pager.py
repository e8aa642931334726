"""E-mail pages through the staff SNS topic: the same path as new-message e-mails, no PHI."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.dal import aws
from functions.logic.pager import PAGE_TEXT, PageKind, PageRequest

SUBJECTS = {
    PageKind.URGENT: "Urgent message in Quietline",
    PageKind.AFTER_HOURS: "After-hours message in Quietline",
}


class SnsEmailPager:
    """The topic reaches every subscribed staff address: it cannot single out the on-call
    clinician, so their SMS page (logic/pager.py CellPager) is the one addressed to them."""

    name = "email"

    def __init__(self, topic_arn: str, sns_client: Any) -> None:
        self._topic_arn = topic_arn
        self._sns = sns_client

    def page(self, request: PageRequest) -> int:
        if not self._topic_arn:
            return 0
        try:
            self._sns.publish(
                TopicArn=self._topic_arn,
                Subject=SUBJECTS[request.kind],
                Message=PAGE_TEXT[request.kind]
                + ". (For privacy, pages never include the client's name, number or message.)",
                MessageAttributes={
                    "tenant_id": {"DataType": "String", "StringValue": request.tenant_id},
                    "page": {"DataType": "String", "StringValue": request.kind.value},
                },
            )
        except (ClientError, BotoCoreError) as error:
            raise aws.translate(error, "sns:Publish") from None
        return 1
