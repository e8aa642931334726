"""The audit sealer: a Lambda consumer of the audit table's stream that links each new event
into its tenant's hash chain (functions/handlers/audit_sealer.py), off the request path.

One consumer per shard, in stream order; a failing batch is bisected, retried a bounded
number of times, then sent to the function's DLQ (platform key, alarmed); an alarm on the
iterator age says when events wait too long to be sealed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.core.settings import ENV_AUDIT_RETENTION_DAYS, ENV_AUDIT_TABLE_NAME
from functions.dal import schema
from infra.config import QuietlineConfig
from infra.constructs.alarms import Alarms
from infra.constructs.function import QuietlineFunction
from infra.constructs.network import Network

if TYPE_CHECKING:
    from infra.constructs.audit import AuditLog

# Read its tenant's newest link (Query); create a link with its event's marker (the Puts of
# one TransactWriteItems, authorized as PutItem, and allowed only inside a transaction).
SEALER_TABLE_ACTIONS = ("dynamodb:PutItem", "dynamodb:Query")
# What the event source mapping reads the stream with, on the stream only (the DynamoDB
# developer guide's policy for a Lambda stream consumer).
SEALER_STREAM_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)
SEALER_BATCH_SIZE = 100
SEALER_RETRY_ATTEMPTS = 10
SEALER_TIMEOUT = cdk.Duration.seconds(60)
# Stream records live 24 hours: events waiting this long to be sealed page someone first.
SEALER_MAX_ITERATOR_AGE = cdk.Duration.minutes(15)


@jsii.implements(lambda_.IEventSourceDlq)
class _DeadLetters:
    """The sealer's own DLQ (QuietlineFunction's: platform key, alarmed) as the on-failure
    destination. Its role may already send there; lambda's SqsDlq would add queue reads and
    the platform key's encrypt/decrypt without the kms:ViaService condition."""

    def __init__(self, queue: sqs.IQueue) -> None:
        self._queue = queue

    def bind(
        self, target: lambda_.IEventSourceMapping, target_handler: lambda_.IFunction
    ) -> lambda_.DlqDestinationConfig:
        return lambda_.DlqDestinationConfig(destination=self._queue.queue_arn)


class AuditSealer(Construct):
    """The sealer function, its stream event source and its lag alarm."""

    def __init__(
        self,
        scope: Construct,
        id: str = "Sealer",
        *,
        config: QuietlineConfig,
        alarms: Alarms,
        network: Network | None,
        audit_log: AuditLog,
    ) -> None:
        super().__init__(scope, id)
        table = audit_log.table
        self.handler = QuietlineFunction(
            self,
            "Handler",
            config=config,
            platform_key=audit_log.platform_key,
            alarms=alarms,
            handler="functions.handlers.audit_sealer.handler",
            description="Seals new audit events into each tenant's hash chain (stream consumer)",
            environment={
                ENV_AUDIT_TABLE_NAME: table.table_name,
                ENV_AUDIT_RETENTION_DAYS: str(config.audit_retention_days),
            },
            network=network,
            timeout=SEALER_TIMEOUT,
        )
        self._grant(audit_log)
        self.source = self._source(audit_log.stream_arn)
        self.lag_alarm = self._lag_alarm(alarms)

    def _grant(self, audit_log: AuditLog) -> None:
        table_arn = audit_log.table.table_arn
        iam.Grant.add_to_principal(
            grantee=self.handler,
            actions=list(SEALER_STREAM_ACTIONS),
            resource_arns=[audit_log.stream_arn],
        )
        iam.Grant.add_to_principal(
            grantee=self.handler, actions=["dynamodb:Query"], resource_arns=[table_arn]
        )
        # Its writes only ever go in pairs, a link and its event's marker.
        iam.Grant.add_to_principal(
            grantee=self.handler,
            actions=["dynamodb:PutItem"],
            resource_arns=[table_arn],
            conditions={
                "ForAnyValue:StringEquals": {"dynamodb:EnclosingOperation": ["TransactWriteItems"]}
            },
        )
        audit_log.grant_table_key(self.handler, streams=True)

    def _source(self, stream_arn: str) -> lambda_.EventSourceMapping:
        mapping = lambda_.EventSourceMapping(
            self,
            "Source",
            target=self.handler.function,
            event_source_arn=stream_arn,
            # From the oldest record kept: nothing appended before the mapping existed (or
            # during an outage shorter than the stream's 24 hours) goes unsealed.
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=SEALER_BATCH_SIZE,
            # One consumer per shard: a tenant's records are sealed one batch at a time.
            parallelization_factor=1,
            bisect_batch_on_error=True,
            retry_attempts=SEALER_RETRY_ATTEMPTS,
            on_failure=_DeadLetters(self.handler.dead_letters),
            # New events only: not the sealer's own links and markers, nor TTL deletions.
            filters=[lambda_.FilterCriteria.filter(schema.AUDIT_SEALER_FILTER)],
        )
        # Lambda checks at creation that the role may read the stream.
        mapping.node.add_dependency(self.handler.role.policy)
        return mapping

    def _lag_alarm(self, alarms: Alarms) -> cloudwatch.Alarm:
        alarm = self.handler.function.metric(
            "IteratorAge", statistic=cloudwatch.Stats.MAXIMUM, period=cdk.Duration.minutes(5)
        ).create_alarm(
            self,
            "LagAlarm",
            alarm_description=(
                "Audit events wait more than 15 minutes to be sealed: the sealer is failing or"
                " throttled (stream records are kept 24 hours; see its DLQ and logs)"
            ),
            threshold=SEALER_MAX_ITERATOR_AGE.to_milliseconds(),
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarms.add_alarm_action(alarm)
        return alarm
