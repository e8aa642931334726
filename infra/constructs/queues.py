"""The messaging queues, built from functions/dal/schema.py QUEUES (as local mode builds them).

Each QueueSpec becomes a KMS-encrypted, TLS-only SQS queue with an alarmed dead-letter
queue. Queues are transit buffers, not records: the table is the system of record (an
outbound message is `queued` in it before its reference is enqueued, and the sweeper
re-drives anything a queue lost), so the queues are removed with the stack (DESTROY)
rather than retained, which also leaves no orphaned PHI behind in a retained DLQ.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.dal import schema
from infra.constructs.alarms import Alarms

# Dead letters (possibly PHI: a retry envelope holds an inbound text) are kept 14 days,
# the SQS maximum, longer than the source queue's 4 days as AWS advises (the enqueue
# time is kept when a message moves), so an operator has two weeks to replay them.
_DLQ_RETENTION = cdk.Duration.days(14)
_QUEUE_RETENTION = cdk.Duration.days(4)


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_"))


class MessageQueue(Construct):
    """One QueueSpec: the queue, its dead-letter queue and the DLQ alarm."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        spec: schema.QueueSpec,
        platform_key: kms.IKey,
        alarms: Alarms,
    ) -> None:
        super().__init__(scope, id)
        self.spec = spec
        self.dead_letter_queue = self._queue("DeadLetters", platform_key, _DLQ_RETENTION)
        self.queue = self._queue(
            "Queue",
            platform_key,
            _QUEUE_RETENTION,
            visibility_timeout=cdk.Duration.seconds(spec.visibility_seconds),
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=spec.max_receives, queue=self.dead_letter_queue
            ),
        )
        self.dead_letter_alarm = cloudwatch.Alarm(
            self,
            "DeadLettersAlarm",
            alarm_description=(
                f"A {spec.name} message was given up on and waits in its dead-letter queue"
                f" (replay: quietline replay {spec.name})"
            ),
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=cdk.Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            # An empty queue publishes no datapoint at times: that is not an alarm.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarms.add_alarm_action(self.dead_letter_alarm)

    def _queue(
        self,
        id: str,
        platform_key: kms.IKey,
        retention: cdk.Duration,
        *,
        visibility_timeout: cdk.Duration | None = None,
        dead_letter_queue: sqs.DeadLetterQueue | None = None,
    ) -> sqs.Queue:
        return sqs.Queue(
            self,
            id,
            # AwsSolutions-SQS2 / 164.312(a)(2)(iv): message bodies may hold PHI (a retry
            # envelope carries an inbound text); encrypted at rest with our key. Data
            # keys are reused for SQS's default 5 minutes (fewer KMS calls, same key).
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=platform_key,
            # AwsSolutions-SQS4 / 164.312(e)(1): requests over plain HTTP are denied.
            enforce_ssl=True,
            retention_period=retention,
            visibility_timeout=visibility_timeout,
            dead_letter_queue=dead_letter_queue,
            # Transit buffers, not records (see the module docstring).
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )

    # --- grants: exact SQS actions, the platform key only through SQS -----------------
    def grant_send(self, grantee: iam.IGrantable) -> None:
        """sqs:SendMessage; SSE needs the producer to generate and decrypt data keys."""
        self._grant(grantee, ["sqs:SendMessage"], ["kms:GenerateDataKey", "kms:Decrypt"])

    def grant_consume(self, grantee: iam.IGrantable) -> None:
        """What a Lambda event source mapping polls with (the function's role)."""
        self._grant(
            grantee,
            ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            ["kms:Decrypt"],
        )

    def grant_change_visibility(self, grantee: iam.IGrantable) -> None:
        """sqs:ChangeMessageVisibility: a consumer backing off before a redelivery."""
        self._grant(grantee, ["sqs:ChangeMessageVisibility"], [])

    def _grant(
        self, grantee: iam.IGrantable, queue_actions: list[str], key_actions: list[str]
    ) -> None:
        iam.Grant.add_to_principal(
            grantee=grantee, actions=queue_actions, resource_arns=[self.queue.queue_arn]
        )
        key = self.queue.encryption_master_key
        if key_actions and key is not None:
            iam.Grant.add_to_principal(
                grantee=grantee,
                actions=key_actions,
                resource_arns=[key.key_arn],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": f"sqs.{cdk.Stack.of(self).region}.amazonaws.com"
                    }
                },
            )


class MessageQueues(Construct):
    """Every queue of functions/dal/schema.py QUEUES, by spec name."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        platform_key: kms.IKey,
        alarms: Alarms,
        specs: tuple[schema.QueueSpec, ...] = schema.QUEUES,
    ) -> None:
        super().__init__(scope, id)
        self._queues = {
            spec.name: MessageQueue(
                self, _pascal(spec.name), spec=spec, platform_key=platform_key, alarms=alarms
            )
            for spec in specs
        }

    def __getitem__(self, spec: schema.QueueSpec) -> MessageQueue:
        return self._queues[spec.name]

    @property
    def all(self) -> tuple[MessageQueue, ...]:
        return tuple(self._queues.values())

    @property
    def outbound(self) -> MessageQueue:
        return self[schema.OUTBOUND_QUEUE]

    @property
    def retry(self) -> MessageQueue:
        return self[schema.RETRY_QUEUE]
