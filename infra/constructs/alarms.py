"""Where alarms go: one encrypted SNS topic, emailed to the practice's security contact."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from functions.core.observability import METRICS_NAMESPACE, SERVICE
from infra.config import QuietlineConfig

_STAGE_PERIOD = cdk.Duration.minutes(5)


class Alarms(Construct):
    """The alarm topic. Alarm texts name resources and metrics only, never PHI."""

    def __init__(
        self, scope: Construct, id: str, *, config: QuietlineConfig, platform_key: kms.IKey
    ) -> None:
        super().__init__(scope, id)
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name=f"Quietline {config.stack_name} alarms",
            # SNSEncryptedKMS: notifications are encrypted at rest with our key.
            master_key=platform_key,
            # AwsSolutions-SNS3 / 164.312(e)(1): publishing over plain HTTP is denied.
            enforce_ssl=True,
        )
        # CloudWatch alarms publish to the encrypted topic through this grant (topic
        # policy + key policy); without it alarm notifications are silently dropped.
        self.topic.grant_publish(iam.ServicePrincipal("cloudwatch.amazonaws.com"))
        # The recipient must confirm the subscription email once after the first deploy.
        self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))

    def add_alarm_action(self, alarm: cloudwatch.Alarm) -> None:
        """Notify on ALARM and on recovery (HIPAA.Security-CloudWatchAlarmAction)."""
        action = cloudwatch_actions.SnsAction(self.topic)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)

    def on_code_metric(
        self, scope: Construct, metric_name: str, *, threshold: int, description: str
    ) -> cloudwatch.Alarm:
        """An alarm (notifying this topic) on a count the Lambda code emits: Powertools EMF
        writes it to the Quietline namespace with the one dimension service=quietline."""
        metric = cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"service": SERVICE},
            statistic=cloudwatch.Stats.SUM,
            period=cdk.Duration.minutes(5),
        )
        alarm = metric.create_alarm(
            scope,
            f"{metric_name}Alarm",
            alarm_description=description,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            # No datapoint means nothing happened.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.add_alarm_action(alarm)
        return alarm

    def on_stage_server_errors(
        self, scope: Construct, stage: apigw.Stage, *, description: str
    ) -> cloudwatch.Alarm:
        """Any 5xx of this one stage in five minutes: a 5xx always means our fault."""
        return self._on_stage(
            scope,
            "ServerErrorAlarm",
            stage.metric_server_error(period=_STAGE_PERIOD, statistic=cloudwatch.Stats.SUM),
            threshold=1,
            description=description,
        )

    def on_stage_client_error_burst(
        self, scope: Construct, stage: apigw.Stage, *, threshold: int, description: str
    ) -> cloudwatch.Alarm:
        """`threshold` or more 4xx of this one stage in five minutes (the dimensions name
        the API and the stage, so no other API's clients count)."""
        return self._on_stage(
            scope,
            "ClientErrorBurstAlarm",
            stage.metric_client_error(period=_STAGE_PERIOD, statistic=cloudwatch.Stats.SUM),
            threshold=threshold,
            description=description,
        )

    def _on_stage(
        self,
        scope: Construct,
        id: str,
        metric: cloudwatch.Metric,
        *,
        threshold: int,
        description: str,
    ) -> cloudwatch.Alarm:
        alarm = metric.create_alarm(
            scope,
            id,
            alarm_description=description,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            # No requests means no errors.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.add_alarm_action(alarm)
        return alarm
