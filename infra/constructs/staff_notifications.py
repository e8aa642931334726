"""The "New message in Quietline" topic staff subscribe to: names the practice, never the client."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import QuietlineConfig


class StaffNotifications(Construct):
    """The "New message in Quietline" topic: names the practice, never the client."""

    def __init__(
        self, scope: Construct, id: str, *, config: QuietlineConfig, platform_key: kms.IKey
    ) -> None:
        super().__init__(scope, id)
        self._platform_key = platform_key
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="Quietline",
            # SNSEncryptedKMS: encrypted at rest with our key.
            master_key=platform_key,
            # AwsSolutions-SNS3 / 164.312(e)(1): publishing over plain HTTP is denied.
            enforce_ssl=True,
        )
        for address in config.staff_notification_emails:
            # Each recipient confirms the subscription e-mail once after deploy.
            self.topic.add_subscription(subscriptions.EmailSubscription(address))

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        """sns:Publish to this topic; the key only through SNS, without wildcards."""
        iam.Grant.add_to_principal(
            grantee=grantee, actions=["sns:Publish"], resource_arns=[self.topic.topic_arn]
        )
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["kms:GenerateDataKey", "kms:Decrypt"],
            resource_arns=[self._platform_key.key_arn],
            conditions={
                "StringEquals": {"kms:ViaService": f"sns.{cdk.Stack.of(self).region}.amazonaws.com"}
            },
        )
