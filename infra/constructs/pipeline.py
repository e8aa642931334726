"""The building blocks every messaging function is made of, shared by the carrier paths.

A function gets its own role, log group and DLQ (QuietlineFunction); a queue or stream
consumer its event source mapping; a scheduled or event-driven function its EventBridge rule.
Everything is created in `scope` (the Messaging construct), so construct paths, and
with them the template's logical ids, do not depend on which module builds a part.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.core.settings import ENV_TABLE_NAME
from infra.config import QuietlineConfig
from infra.constructs.alarms import Alarms
from infra.constructs.function import QuietlineFunction
from infra.constructs.keys import PlatformKey, TenantKeys
from infra.constructs.message_store import MessageStore
from infra.constructs.network import Network
from infra.constructs.queues import MessageQueue, MessageQueues
from infra.constructs.staff_notifications import StaffNotifications

HANDLERS = {
    "sender": "functions.handlers.sender.handler",
    "retry_worker": "functions.handlers.retry_worker.handler",
    "sweeper": "functions.handlers.sweeper.handler",
    "inbound_sns": "functions.handlers.inbound_sns.handler",
    "delivery_events": "functions.handlers.delivery_events.handler",
    "twilio_webhook": "functions.handlers.twilio_webhook.handler",
    "twilio_voice": "functions.handlers.twilio_voice.handler",
    "staff_notifier": "functions.handlers.staff_notifier.handler",
    "care_pager": "functions.handlers.care_pager.handler",
}

SQS_BATCH_SIZE = 10
# A stream consumer: a small batch (each record is one e-mail), and a bounded number of
# retries after a failed batch (the handler reports where it failed; a batch that raises
# is bisected), then the batch's coordinates go to the function's DLQ (alarmed). A record
# older than an hour is not worth an e-mail any more: it goes to the DLQ too.
STREAM_BATCH_SIZE = 10
STREAM_RETRY_ATTEMPTS = 3
STREAM_MAX_RECORD_AGE = cdk.Duration.hours(1)
# Lambda's own retries of an asynchronous invocation (SNS, EventBridge) before the DLQ.
ASYNC_RETRY_ATTEMPTS = 2


@dataclass(frozen=True)
class PipelineParts:
    """What the messaging functions are built from, and the grants they share."""

    scope: Construct
    config: QuietlineConfig
    platform_key: PlatformKey
    tenant_keys: TenantKeys
    alarms: Alarms
    store: MessageStore
    queues: MessageQueues
    network: Network | None
    staff: StaffNotifications

    # --- environment ---------------------------------------------------------------------
    def env_core(self) -> dict[str, str]:
        return {ENV_TABLE_NAME: self.store.table.table_name}

    # --- shared grants -------------------------------------------------------------------
    def grant_receiving(self, grantee: QuietlineFunction, *, retry_queue: bool) -> None:
        """What storing an inbound text needs (functions/logic/inbound.py): the table,
        new data keys and old ones, queueing auto-replies, and (first attempts only)
        parking the text on the retry queue. Staff are told from the table's stream."""
        self.store.grant_read_write_data(grantee)
        self.grant_tenant_keys(grantee, decrypt=True, generate=True)
        self.queues.outbound.grant_send(grantee)
        if retry_queue:
            self.queues.retry.grant_send(grantee)

    def grant_tenant_keys(self, grantee: iam.IGrantable, *, decrypt: bool, generate: bool) -> None:
        for tenant_id in self.tenant_keys.keys:
            self.tenant_keys.grant_envelope(grantee, tenant_id, decrypt=decrypt, generate=generate)

    # --- building blocks -----------------------------------------------------------------
    def function(
        self,
        id: str,
        handler: str,
        description: str,
        environment: Mapping[str, str],
        *,
        timeout: cdk.Duration | None = None,
        reserved_concurrency: int | None = None,
        memory_size: int | None = None,
        synchronous: bool = False,
    ) -> QuietlineFunction:
        sized: dict[str, Any] = {} if memory_size is None else {"memory_size": memory_size}
        return QuietlineFunction(
            self.scope,
            id,
            config=self.config,
            platform_key=self.platform_key.key,
            alarms=self.alarms,
            handler=handler,
            description=description,
            environment=environment,
            network=self.network,
            timeout=timeout,
            reserved_concurrency=reserved_concurrency,
            synchronous=synchronous,
            **sized,
        )

    def consumer(
        self,
        id: str,
        handler: str,
        description: str,
        environment: Mapping[str, str],
        source: MessageQueue,
    ) -> QuietlineFunction:
        """A function fed by an SQS queue in batches, reporting failures per message."""
        # Lambda polls with up to this many concurrent batches; at least 2 (the SQS event
        # source minimum), and never above the reserved concurrency, so polling is not
        # throttled (a throttled receive would count towards maxReceiveCount).
        concurrency = max(2, self.config.lambda_reserved_concurrency)
        fn = self.function(
            id,
            handler,
            description,
            environment,
            # AWS: the queue's visibility timeout should be at least 6x the function's.
            timeout=cdk.Duration.seconds(source.spec.visibility_seconds // 6),
            reserved_concurrency=concurrency,
        )
        source.grant_consume(fn)
        lambda_.EventSourceMapping(
            self.scope,
            f"{id}Source",
            target=fn.function,
            event_source_arn=source.queue.queue_arn,
            batch_size=SQS_BATCH_SIZE,
            max_batching_window=cdk.Duration.seconds(0),
            # The handlers return batchItemFailures: only failed messages are redelivered.
            report_batch_item_failures=True,
            max_concurrency=concurrency,
        )
        return fn

    def stream_consumer(
        self,
        id: str,
        handler: str,
        description: str,
        environment: Mapping[str, str],
        *,
        filter_pattern: Mapping[str, Any],
    ) -> QuietlineFunction:
        """A function fed by the message table's stream, only the records `filter_pattern`
        matches (Lambda event filtering), reporting failures per record."""
        fn = self.function(id, handler, description, environment)
        self.store.grant_stream_read(fn)
        mapping = lambda_.EventSourceMapping(
            self.scope,
            f"{id}Source",
            target=fn.function,
            event_source_arn=self.store.stream_arn,
            # The stream is new with the function: nothing before it is left unread.
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=STREAM_BATCH_SIZE,
            max_batching_window=cdk.Duration.seconds(0),
            filters=[lambda_.FilterCriteria.filter(dict(filter_pattern))],
            # The handler returns batchItemFailures: a retry resumes at the failed record.
            report_batch_item_failures=True,
            bisect_batch_on_error=True,
            retry_attempts=STREAM_RETRY_ATTEMPTS,
            max_record_age=STREAM_MAX_RECORD_AGE,
            on_failure=_DeadLetters(fn.dead_letters),
        )
        # Lambda checks the role's stream permissions when it creates the mapping.
        mapping.node.add_dependency(fn.role.policy)
        return fn

    def on_event(
        self,
        id: str,
        fn: QuietlineFunction,
        *,
        description: str,
        max_event_age: cdk.Duration,
        schedule: events.Schedule | None = None,
        event_pattern: events.EventPattern | None = None,
    ) -> events.Rule:
        """An EventBridge rule on the default bus invoking `fn` asynchronously."""
        fn.function.configure_async_invoke(retry_attempts=ASYNC_RETRY_ATTEMPTS)
        return events.Rule(
            self.scope,
            id,
            description=description,
            schedule=schedule,
            event_pattern=event_pattern,
            targets=[
                targets.LambdaFunction(
                    fn.function,
                    # Events EventBridge cannot deliver land in the function's own DLQ
                    # (already encrypted and alarmed), next to its failed invocations.
                    dead_letter_queue=fn.dead_letters,
                    retry_attempts=3,
                    max_event_age=max_event_age,
                )
            ],
        )


@jsii.implements(lambda_.IEventSourceDlq)
class _DeadLetters:
    """A stream mapping's on-failure destination: the function's own DLQ (encrypted with the
    platform key, alarmed), which its role may already send to. Lambda writes a failed
    batch's stream coordinates there, never the records themselves.

    Not aws_lambda_event_sources.SqsDlq: its grant adds wildcard KMS actions
    (kms:GenerateDataKey*) the role does not need."""

    def __init__(self, queue: sqs.IQueue) -> None:
        self._queue = queue

    def bind(
        self, target: lambda_.IEventSourceMapping, target_handler: lambda_.IFunction
    ) -> lambda_.DlqDestinationConfig:
        return lambda_.DlqDestinationConfig(destination=self._queue.queue_arn)
