"""Two-way SMS: the sender, retry worker and sweeper, the carrier's inbound path, staff
notifications (from the message table's stream) and the alarms on the pipeline's own metrics.

Carrier "aws" (End User Messaging): inbound texts arrive on an encrypted SNS topic that
only sms-voice may publish to; delivery statuses arrive as EventBridge events
(end_user_messaging.py). Carrier "twilio": both arrive as signed webhooks on a REST API
(twilio_carrier.py, twilio_webhooks.py). Every function has its own role and is granted
exactly the calls its code path makes (functions/container.py -> functions/dal/*); the
environment names come from functions/core/settings.py, the contract between this app
and the code. Every part is created in this construct (pipeline.py), so the template's
logical ids do not depend on which module builds it.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct

from functions.carriers.twilio_voice import INCOMING_PATH as TWILIO_VOICE_PATH
from functions.core.settings import (
    ENV_CARRIER,
    ENV_OUTBOUND_QUEUE_URL,
    ENV_PUBLIC_BASE_URL,
    ENV_SMS_CONFIGURATION_SET,
    ENV_STAFF_TOPIC_ARN,
)
from functions.dal.schema import NEW_INBOUND_MESSAGE_FILTER
from infra.config import QuietlineConfig
from infra.constructs import end_user_messaging
from infra.constructs.alarms import Alarms
from infra.constructs.function import QuietlineFunction
from infra.constructs.keys import PlatformKey, TenantKeys
from infra.constructs.message_store import MessageStore
from infra.constructs.network import Network
from infra.constructs.pipeline import HANDLERS, PipelineParts
from infra.constructs.queues import MessageQueues
from infra.constructs.rest_api import ApiGatewayAccount
from infra.constructs.staff_notifications import StaffNotifications
from infra.constructs.twilio_carrier import TwilioCarrier, TwilioVoiceParts
from infra.constructs.twilio_webhooks import (
    TWILIO_SMS_PATH,
    TWILIO_STATUS_PATH,
    TwilioWebhookApi,
)

SWEEP_EVERY = cdk.Duration.minutes(5)


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
        "A new-message e-mail to staff could not be published (the message itself is stored;"
        " the stream delivers it again, then leaves it in the staff notifier's DLQ)",
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
# Twilio with voice on: the same signal from the voice routes (calls refused meanwhile).
VOICE_WEBHOOK_ALARMS: tuple[MetricAlarm, ...] = (
    MetricAlarm(
        "VoiceWebhookSignatureRejected",
        10,
        "Many Twilio voice webhooks failed signature verification: forged requests or stale"
        " token (calls to the practice are refused meanwhile)",
    ),
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
        twilio_voice: TwilioVoiceParts | None = None,
    ) -> None:
        """`twilio_voice`: carrier "twilio" with voice on (Chime voice is ChimeVoice's)."""
        super().__init__(scope, id)
        self._config = config
        self._alarms = alarms
        # EventBridge writes undeliverable events to the target functions' DLQs.
        platform_key.allow_event_rule_dead_letters()

        self.staff = StaffNotifications(
            self, "StaffNotifications", config=config, platform_key=platform_key.key
        )
        self._parts = PipelineParts(
            scope=self,
            config=config,
            platform_key=platform_key,
            tenant_keys=tenant_keys,
            alarms=alarms,
            store=message_store,
            queues=queues,
            network=network,
            staff=self.staff,
        )
        self.inbound_topic: sns.Topic | None = None
        self.inbound: QuietlineFunction | None = None
        self.delivery_events: QuietlineFunction | None = None
        self._twilio: TwilioCarrier | None = None
        if config.carrier == "twilio":
            # The API first: the sender needs its URL for Twilio's status callbacks.
            self._twilio = TwilioCarrier(self._parts, api_account=api_account, voice=twilio_voice)

        self.sender = self._sender()
        self.retry_worker = self._retry_worker()
        self.sweeper = self._sweeper()
        self.staff_notifier = self._staff_notifier()
        if config.carrier == "aws":
            self.inbound_topic, self.inbound = end_user_messaging.inbound_path(self._parts)
            self.delivery_events = end_user_messaging.delivery_events(self._parts)
        specs = PIPELINE_ALARMS + (WEBHOOK_ALARMS if config.carrier == "twilio" else ())
        if self.twilio_voice is not None:
            specs += VOICE_WEBHOOK_ALARMS
        self.metric_alarms = self._metric_alarms(specs)

    @property
    def parts(self) -> PipelineParts:
        """What the pipeline's functions are built from; other capabilities (live updates)
        build theirs from the same parts in their own scope."""
        return self._parts

    # --- the carrier-independent pipeline --------------------------------------------
    def _sender(self) -> QuietlineFunction:
        parts = self._parts
        outbound = parts.queues.outbound
        environment = {
            **parts.env_core(),
            ENV_CARRIER: self._config.carrier,
            ENV_OUTBOUND_QUEUE_URL: outbound.queue.queue_url,
            **self._env_carrier_for_sending(),
        }
        sender = parts.consumer(
            "Sender",
            HANDLERS["sender"],
            "Sends queued texts through the carrier",
            environment,
            outbound,
        )
        parts.store.grant_read_write_data(sender)
        # The sender only reads messages: unwrap, never generate, data keys.
        parts.grant_tenant_keys(sender, decrypt=True, generate=False)
        # Backs a transient failure off before SQS redelivers (functions/dal/queue.py).
        outbound.grant_change_visibility(sender)
        if self._twilio is None:
            end_user_messaging.grant_send_text_message(parts, sender)
        else:
            self._twilio.grant_read_auth_token(sender)
        return sender

    def _retry_worker(self) -> QuietlineFunction:
        parts = self._parts
        environment = {
            **parts.env_core(),
            ENV_CARRIER: self._config.carrier,
            ENV_OUTBOUND_QUEUE_URL: parts.queues.outbound.queue.queue_url,
        }
        worker = parts.consumer(
            "RetryWorker",
            HANDLERS["retry_worker"],
            "Retries inbound texts and delivery statuses whose first attempt failed",
            environment,
            parts.queues.retry,
        )
        parts.grant_receiving(worker, retry_queue=False)
        return worker

    def _sweeper(self) -> QuietlineFunction:
        parts = self._parts
        sweeper = parts.function(
            "Sweeper",
            HANDLERS["sweeper"],
            "Re-queues texts nobody picked up and expires stale ones",
            {
                **parts.env_core(),
                ENV_CARRIER: self._config.carrier,
                ENV_OUTBOUND_QUEUE_URL: parts.queues.outbound.queue.queue_url,
            },
            timeout=cdk.Duration.seconds(60),
        )
        # Reads the pending index and updates message status; no message content, so
        # no tenant key at all.
        parts.store.grant_read_write_data(sweeper)
        parts.queues.outbound.grant_send(sweeper)
        parts.on_event(
            "SweepSchedule",
            sweeper,
            schedule=events.Schedule.rate(SWEEP_EVERY),
            description="Quietline sweeper: re-drive or expire queued texts",
            # A sweep that cannot start within one interval is replaced by the next one.
            max_event_age=SWEEP_EVERY,
        )
        return sweeper

    def _staff_notifier(self) -> QuietlineFunction:
        """One no-PHI e-mail per new inbound text, from the message table's stream: off
        every request path, so a text never waits for SNS (functions/logic/staff_alerts.py)."""
        parts = self._parts
        notifier = parts.stream_consumer(
            "StaffNotifier",
            HANDLERS["staff_notifier"],
            "Tells staff a client texted (no PHI), from the message table's stream",
            {**parts.env_core(), ENV_STAFF_TOPIC_ARN: self.staff.topic.topic_arn},
            filter_pattern=NEW_INBOUND_MESSAGE_FILTER,
        )
        # The practice's name for the e-mail; no message content, so no tenant key at all.
        parts.store.grant_read_tenant_profiles(notifier)
        self.staff.grant_publish(notifier)
        return notifier

    def _env_carrier_for_sending(self) -> dict[str, str]:
        if self._twilio is None:
            name = self._config.sms_configuration_set
            return {ENV_SMS_CONFIGURATION_SET: name} if name else {}
        # The sender cannot derive the webhook URL from a request: it always gets the
        # base URL, so Twilio is asked for status callbacks on every message.
        return {**self._twilio.env(), ENV_PUBLIC_BASE_URL: self._twilio.base_url}

    def _metric_alarms(self, specs: tuple[MetricAlarm, ...]) -> dict[str, cloudwatch.Alarm]:
        return {
            spec.metric_name: self._alarms.on_code_metric(
                self, spec.metric_name, threshold=spec.threshold, description=spec.description
            )
            for spec in specs
        }

    # --- carrier "twilio" (None with carrier "aws") ---------------------------------------
    @property
    def twilio_auth_token(self) -> secretsmanager.Secret | None:
        return self._twilio.auth_token if self._twilio else None

    @property
    def webhook(self) -> QuietlineFunction | None:
        return self._twilio.webhook if self._twilio else None

    @property
    def twilio(self) -> TwilioCarrier | None:
        """The Twilio carrier (its secret, grants and base URL), or None on "aws"."""
        return self._twilio

    @property
    def twilio_voice(self) -> QuietlineFunction | None:
        """The Twilio voice webhook function (carrier "twilio" with voice on)."""
        return self._twilio.voice if self._twilio else None

    @property
    def webhook_api(self) -> TwilioWebhookApi | None:
        return self._twilio.webhook_api if self._twilio else None

    @property
    def twilio_base_url(self) -> str:
        """The base URL Twilio calls: the configured custom domain, else the stage URL."""
        assert self._twilio is not None
        return self._twilio.base_url

    @property
    def twilio_sms_webhook_url(self) -> str:
        return self.twilio_base_url + TWILIO_SMS_PATH

    @property
    def twilio_status_webhook_url(self) -> str:
        return self.twilio_base_url + TWILIO_STATUS_PATH

    @property
    def twilio_voice_webhook_url(self) -> str:
        """The number's "A call comes in" URL; the other voice routes are in our TwiML."""
        return self.twilio_base_url + TWILIO_VOICE_PATH
