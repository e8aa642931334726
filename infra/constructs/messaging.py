"""Two-way SMS: the sender, retry worker and sweeper, the carrier's inbound path, staff
notifications and the alarms on the pipeline's own metrics.

Carrier "aws" (End User Messaging): inbound texts arrive on an encrypted SNS topic that
only sms-voice may publish to; delivery statuses arrive as EventBridge events.
Carrier "twilio": both arrive as signed webhooks on a REST API (twilio_webhooks.py).
Every function has its own role and is granted exactly the calls its code path makes
(functions/container.py -> functions/dal/*); the environment names come from
functions/core/settings.py, the contract between this app and the code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from functions.core.settings import (
    ENV_CARRIER,
    ENV_OUTBOUND_QUEUE_URL,
    ENV_PUBLIC_BASE_URL,
    ENV_RETRY_QUEUE_URL,
    ENV_SMS_CONFIGURATION_SET,
    ENV_STAFF_TOPIC_ARN,
    ENV_TABLE_NAME,
    ENV_TWILIO_ACCOUNT_SID,
    ENV_TWILIO_AUTH_TOKEN_SECRET,
)
from infra.config import QuietlineConfig
from infra.constructs.alarms import Alarms
from infra.constructs.function import QuietlineFunction
from infra.constructs.keys import PlatformKey, TenantKeys, sms_voice_arn_pattern
from infra.constructs.message_store import MessageStore
from infra.constructs.network import Network
from infra.constructs.queues import MessageQueue, MessageQueues
from infra.constructs.rest_api import ApiGatewayAccount
from infra.constructs.twilio_webhooks import (
    TWILIO_SMS_PATH,
    TWILIO_STATUS_PATH,
    TwilioWebhookApi,
)
from infra.nag import acknowledge

HANDLERS = {
    "sender": "functions.handlers.sender.handler",
    "retry_worker": "functions.handlers.retry_worker.handler",
    "sweeper": "functions.handlers.sweeper.handler",
    "inbound_sns": "functions.handlers.inbound_sns.handler",
    "delivery_events": "functions.handlers.delivery_events.handler",
    "twilio_webhook": "functions.handlers.twilio_webhook.handler",
}

# The event End User Messaging puts on the default bus for every delivery status change.
SMS_VOICE_EVENT_SOURCE = "aws.sms-voice"
DELIVERY_STATUS_DETAIL_TYPE = "Text Message Delivery Status Updated"

SQS_BATCH_SIZE = 10
SWEEP_EVERY = cdk.Duration.minutes(5)
# Lambda's own retries of an asynchronous invocation (SNS, EventBridge) before the DLQ.
ASYNC_RETRY_ATTEMPTS = 2


@dataclass(frozen=True)
class MetricAlarm:
    """An alarm on a count the code emits (Powertools EMF, dimension service=quietline)."""

    metric_name: str
    threshold: int
    description: str


PIPELINE_ALARMS: tuple[MetricAlarm, ...] = (
    MetricAlarm(
        "SweeperExpired", 1, "A queued text expired unsent: the sender has been failing for long"
    ),
    MetricAlarm(
        "StaffNotificationFailed",
        1,
        "A new-message e-mail to staff could not be published (the message itself is stored)",
    ),
    MetricAlarm(
        "OutboundEnqueueFailed",
        1,
        "A text could not be queued for sending; the sweeper will retry it (check SQS/KMS)",
    ),
    MetricAlarm(
        "SendDecryptFailed",
        1,
        "A queued text could not be decrypted and was failed (tenant key disabled or wrong)",
    ),
    MetricAlarm(
        "InboundDeferred",
        1,
        "An inbound text or status was parked on the retry queue: a dependency is failing",
    ),
)
# Twilio only: a burst of bad signatures means someone is forging webhooks (or the
# auth token in Secrets Manager is stale after a rotation in the Twilio console).
WEBHOOK_ALARMS: tuple[MetricAlarm, ...] = (
    MetricAlarm(
        "WebhookSignatureRejected",
        10,
        "Many Twilio webhooks failed signature verification: forged requests or stale token",
    ),
)

_SMS_VOICE_RESOURCE_REASON = (
    "End User Messaging assigns phone-number and pool ids when the practice requests"
    " numbers, outside this stack; the ARN patterns are limited to this account and region"
    " and to origination identities (plus the configured configuration set), the narrowest"
    " form SendTextMessage authorization allows without knowing the ids at deploy time."
)
_TWILIO_ROTATION_REASON = (
    "The Twilio auth token is rotated in the Twilio console (primary/secondary token) and"
    " then put here with put-secret-value; Secrets Manager cannot rotate a third-party"
    " credential without a custom rotation Lambda, which would itself need Twilio API keys."
)


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


class Messaging(Construct):
    """The messaging pipeline for the configured carrier."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: QuietlineConfig,
        platform_key: PlatformKey,
        tenant_keys: TenantKeys,
        alarms: Alarms,
        message_store: MessageStore,
        queues: MessageQueues,
        network: Network | None,
        api_account: ApiGatewayAccount,
    ) -> None:
        super().__init__(scope, id)
        self._config = config
        self._api_account = api_account
        self._platform_key = platform_key
        self._tenant_keys = tenant_keys
        self._alarms = alarms
        self._store = message_store
        self._queues = queues
        self._network = network
        # EventBridge writes undeliverable events to the target functions' DLQs.
        platform_key.allow_event_rule_dead_letters()

        self.staff = StaffNotifications(
            self, "StaffNotifications", config=config, platform_key=platform_key.key
        )
        self.inbound_topic: sns.Topic | None = None
        self.inbound: QuietlineFunction | None = None
        self.delivery_events: QuietlineFunction | None = None
        self.twilio_auth_token: secretsmanager.Secret | None = None
        self.webhook: QuietlineFunction | None = None
        self.webhook_api: TwilioWebhookApi | None = None
        if config.carrier == "twilio":
            # The API first: the sender needs its URL for Twilio's status callbacks.
            self._twilio_webhooks()

        self.sender = self._sender()
        self.retry_worker = self._retry_worker()
        self.sweeper = self._sweeper()
        if config.carrier == "aws":
            self._aws_inbound()
            self._aws_delivery_events()
        self.metric_alarms = self._metric_alarms(
            PIPELINE_ALARMS + (WEBHOOK_ALARMS if config.carrier == "twilio" else ())
        )

    # --- the carrier-independent pipeline --------------------------------------------
    def _sender(self) -> QuietlineFunction:
        outbound = self._queues.outbound
        environment = {
            **self._env_core(),
            ENV_CARRIER: self._config.carrier,
            ENV_OUTBOUND_QUEUE_URL: outbound.queue.queue_url,
            **self._env_carrier_for_sending(),
        }
        sender = self._consumer(
            "Sender",
            HANDLERS["sender"],
            "Sends queued texts through the carrier",
            environment,
            outbound,
        )
        self._store.grant_read_write_data(sender)
        # The sender only reads messages: unwrap, never generate, data keys.
        self._grant_tenant_keys(sender, decrypt=True, generate=False)
        # Backs a transient failure off before SQS redelivers (functions/dal/queue.py).
        outbound.grant_change_visibility(sender)
        if self._config.carrier == "aws":
            self._grant_send_text_message(sender)
        else:
            self._grant_read_twilio_auth_token(sender)
        return sender

    def _retry_worker(self) -> QuietlineFunction:
        environment = {
            **self._env_core(),
            ENV_CARRIER: self._config.carrier,
            ENV_OUTBOUND_QUEUE_URL: self._queues.outbound.queue.queue_url,
            ENV_STAFF_TOPIC_ARN: self.staff.topic.topic_arn,
        }
        worker = self._consumer(
            "RetryWorker",
            HANDLERS["retry_worker"],
            "Retries inbound texts and delivery statuses whose first attempt failed",
            environment,
            self._queues.retry,
        )
        self._grant_receiving(worker, retry_queue=False)
        return worker

    def _sweeper(self) -> QuietlineFunction:
        sweeper = self._function(
            "Sweeper",
            HANDLERS["sweeper"],
            "Re-queues texts nobody picked up and expires stale ones",
            {
                **self._env_core(),
                ENV_CARRIER: self._config.carrier,
                ENV_OUTBOUND_QUEUE_URL: self._queues.outbound.queue.queue_url,
            },
            timeout=cdk.Duration.seconds(60),
        )
        # Reads the pending index and updates message status; no message content, so
        # no tenant key at all.
        self._store.grant_read_write_data(sweeper)
        self._queues.outbound.grant_send(sweeper)
        self._on_event(
            "SweepSchedule",
            sweeper,
            schedule=events.Schedule.rate(SWEEP_EVERY),
            description="Quietline sweeper: re-drive or expire queued texts",
            # A sweep that cannot start within one interval is replaced by the next one.
            max_event_age=SWEEP_EVERY,
        )
        return sweeper

    # --- carrier "aws": End User Messaging ----------------------------------------------
    def _aws_inbound(self) -> None:
        stack = cdk.Stack.of(self)
        self._platform_key.allow_end_user_messaging()
        self.inbound_topic = topic = sns.Topic(
            self,
            "InboundSmsTopic",
            display_name="Quietline inbound SMS",
            # SNSEncryptedKMS: inbound texts are PHI; the key admits sms-voice only for
            # this account's resources (keys.py).
            master_key=self._platform_key.key,
            # AwsSolutions-SNS3 / 164.312(e)(1): no plain-HTTP publishing.
            enforce_ssl=True,
        )
        # Only End User Messaging, on behalf of this account's numbers, may publish.
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowEndUserMessagingOfThisAccount",
                principals=[iam.ServicePrincipal("sms-voice.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": sms_voice_arn_pattern(stack)},
                },
            )
        )
        self.inbound = inbound = self._function(
            "Inbound",
            HANDLERS["inbound_sns"],
            "Stores inbound texts published by End User Messaging",
            {
                **self._env_core(),
                ENV_CARRIER: self._config.carrier,
                ENV_OUTBOUND_QUEUE_URL: self._queues.outbound.queue.queue_url,
                ENV_RETRY_QUEUE_URL: self._queues.retry.queue.queue_url,
                ENV_STAFF_TOPIC_ARN: self.staff.topic.topic_arn,
            },
            timeout=cdk.Duration.seconds(30),
        )
        self._grant_receiving(inbound, retry_queue=True)
        # Failed invocations: two retries, then the function's DLQ (alarmed; replay with
        # `quietline replay inbound`).
        inbound.function.configure_async_invoke(retry_attempts=ASYNC_RETRY_ATTEMPTS)
        # No public URL: SNS invokes the function, permitted for this topic only.
        topic.add_subscription(subscriptions.LambdaSubscription(inbound.function))

    def _aws_delivery_events(self) -> None:
        self.delivery_events = fn = self._function(
            "DeliveryEvents",
            HANDLERS["delivery_events"],
            "Applies End User Messaging delivery status events",
            {**self._env_core(), ENV_RETRY_QUEUE_URL: self._queues.retry.queue.queue_url},
        )
        self._store.grant_read_write_data(fn)
        self._queues.retry.grant_send(fn)
        self._on_event(
            "DeliveryStatusRule",
            fn,
            event_pattern=events.EventPattern(
                source=[SMS_VOICE_EVENT_SOURCE], detail_type=[DELIVERY_STATUS_DETAIL_TYPE]
            ),
            description="Quietline: End User Messaging delivery status to the delivery function",
            max_event_age=cdk.Duration.hours(6),
        )

    def _grant_send_text_message(self, fn: QuietlineFunction) -> None:
        stack = cdk.Stack.of(self)
        resources = [
            stack.format_arn(service="sms-voice", resource="phone-number", resource_name="*"),
            stack.format_arn(service="sms-voice", resource="pool", resource_name="*"),
        ]
        if self._config.sms_configuration_set:
            resources.append(
                stack.format_arn(
                    service="sms-voice",
                    resource="configuration-set",
                    resource_name=self._config.sms_configuration_set,
                )
            )
        iam.Grant.add_to_principal(
            grantee=fn, actions=["sms-voice:SendTextMessage"], resource_arns=resources
        )
        for arn in resources[:2]:
            acknowledge(
                fn.role.policy,
                f"AwsSolutions-IAM5[Resource::{_nag_arn(stack, arn)}]",
                _SMS_VOICE_RESOURCE_REASON,
            )

    # --- carrier "twilio" ----------------------------------------------------------------
    def _twilio_webhooks(self) -> None:
        self.twilio_auth_token = secret = secretsmanager.Secret(
            self,
            "TwilioAuthToken",
            description=(
                "Quietline: the Twilio account's auth token (a random placeholder until the"
                " admin puts the real one; webhooks are refused until then)"
            ),
            # SecretsManagerUsingKMSKey: our key, not the AWS-managed one.
            encryption_key=self._platform_key.key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=32, exclude_punctuation=True
            ),
        )
        acknowledge(secret, "HIPAA.Security-SecretsManagerRotationEnabled", _TWILIO_ROTATION_REASON)
        acknowledge(secret, "AwsSolutions-SMG4", _TWILIO_ROTATION_REASON)
        environment = {
            **self._env_core(),
            ENV_CARRIER: self._config.carrier,
            ENV_OUTBOUND_QUEUE_URL: self._queues.outbound.queue.queue_url,
            ENV_RETRY_QUEUE_URL: self._queues.retry.queue.queue_url,
            ENV_STAFF_TOPIC_ARN: self.staff.topic.topic_arn,
            **self._env_twilio(),
        }
        if self._twilio_public_base_url:
            # A custom domain: the URL Twilio signs is not the one API Gateway sees.
            environment[ENV_PUBLIC_BASE_URL] = self._twilio_public_base_url
        self.webhook = webhook = self._function(
            "TwilioWebhook",
            HANDLERS["twilio_webhook"],
            "Verifies and stores Twilio inbound texts and status callbacks",
            environment,
            # Twilio gives a webhook 15 seconds before it counts as failed.
            timeout=cdk.Duration.seconds(10),
        )
        self._grant_read_twilio_auth_token(webhook)
        self._grant_receiving(webhook, retry_queue=True)
        self.webhook_api = TwilioWebhookApi(
            self,
            "TwilioWebhooks",
            config=self._config,
            platform_key=self._platform_key.key,
            function=webhook,
            api_account=self._api_account,
        )

    @property
    def _twilio_public_base_url(self) -> str | None:
        twilio = self._config.twilio
        return twilio.public_base_url if twilio else None

    @property
    def twilio_base_url(self) -> str:
        """The base URL Twilio calls: the configured custom domain, else the stage URL."""
        assert self.webhook_api is not None
        return self._twilio_public_base_url or self.webhook_api.base_url

    @property
    def twilio_sms_webhook_url(self) -> str:
        return self.twilio_base_url + TWILIO_SMS_PATH

    @property
    def twilio_status_webhook_url(self) -> str:
        return self.twilio_base_url + TWILIO_STATUS_PATH

    def _grant_read_twilio_auth_token(self, grantee: iam.IGrantable) -> None:
        """GetSecretValue on exactly the auth-token secret; the key only through it."""
        assert self.twilio_auth_token is not None
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["secretsmanager:GetSecretValue"],
            resource_arns=[self.twilio_auth_token.secret_arn],
        )
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["kms:Decrypt"],
            resource_arns=[self._platform_key.key.key_arn],
            conditions={
                "StringEquals": {
                    "kms:ViaService": f"secretsmanager.{cdk.Stack.of(self).region}.amazonaws.com"
                }
            },
        )

    # --- environment ---------------------------------------------------------------------
    def _env_core(self) -> dict[str, str]:
        return {ENV_TABLE_NAME: self._store.table.table_name}

    def _env_twilio(self) -> dict[str, str]:
        assert self._config.twilio is not None and self.twilio_auth_token is not None
        return {
            ENV_TWILIO_ACCOUNT_SID: self._config.twilio.account_sid,
            ENV_TWILIO_AUTH_TOKEN_SECRET: self.twilio_auth_token.secret_arn,
        }

    def _env_carrier_for_sending(self) -> dict[str, str]:
        if self._config.carrier == "aws":
            name = self._config.sms_configuration_set
            return {ENV_SMS_CONFIGURATION_SET: name} if name else {}
        # The sender cannot derive the webhook URL from a request: it always gets the
        # base URL, so Twilio is asked for status callbacks on every message.
        return {**self._env_twilio(), ENV_PUBLIC_BASE_URL: self.twilio_base_url}

    # --- shared grants ---------------------------------------------------------------------
    def _grant_receiving(self, grantee: QuietlineFunction, *, retry_queue: bool) -> None:
        """What storing an inbound text needs (functions/logic/inbound.py): the table,
        new data keys and old ones, queueing auto-replies, telling staff, and (first
        attempts only) parking the text on the retry queue."""
        self._store.grant_read_write_data(grantee)
        self._grant_tenant_keys(grantee, decrypt=True, generate=True)
        self._queues.outbound.grant_send(grantee)
        if retry_queue:
            self._queues.retry.grant_send(grantee)
        self.staff.grant_publish(grantee)

    def _grant_tenant_keys(self, grantee: iam.IGrantable, *, decrypt: bool, generate: bool) -> None:
        for tenant_id in self._tenant_keys.keys:
            self._tenant_keys.grant_envelope(grantee, tenant_id, decrypt=decrypt, generate=generate)

    # --- building blocks --------------------------------------------------------------------
    def _function(
        self,
        id: str,
        handler: str,
        description: str,
        environment: Mapping[str, str],
        *,
        timeout: cdk.Duration | None = None,
        reserved_concurrency: int | None = None,
    ) -> QuietlineFunction:
        return QuietlineFunction(
            self,
            id,
            config=self._config,
            platform_key=self._platform_key.key,
            alarms=self._alarms,
            handler=handler,
            description=description,
            environment=environment,
            network=self._network,
            timeout=timeout,
            reserved_concurrency=reserved_concurrency,
        )

    def _consumer(
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
        concurrency = max(2, self._config.lambda_reserved_concurrency)
        fn = self._function(
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
            self,
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

    def _on_event(
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
            self,
            id,
            description=description,
            schedule=schedule,
            event_pattern=event_pattern,
            targets=[
                targets.LambdaFunction(
                    fn.function,
                    # Events EventBridge cannot deliver land in the function's own DLQ
                    # (already encrypted and alarmed), next to its failed invocations.
                    dead_letter_queue=fn.dead_letter_queue,
                    retry_attempts=3,
                    max_event_age=max_event_age,
                )
            ],
        )

    def _metric_alarms(self, specs: tuple[MetricAlarm, ...]) -> dict[str, cloudwatch.Alarm]:
        return {
            spec.metric_name: self._alarms.on_code_metric(
                self, spec.metric_name, threshold=spec.threshold, description=spec.description
            )
            for spec in specs
        }


def _nag_arn(stack: cdk.Stack, arn: str) -> str:
    """The ARN as cdk-nag prints it in a finding id (literal here: the env is explicit)."""
    resolved = stack.resolve(arn)
    if not isinstance(resolved, str):
        raise ValueError("the stack needs an explicit account and region (see app_factory)")
    return resolved
