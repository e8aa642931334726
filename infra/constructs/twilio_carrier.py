"""Carrier "twilio": the auth-token secret, the webhook function and the REST API Twilio
calls (twilio_webhooks.py), and the grants and environment that use the token. With voice
on, the TwilioVoice function answers the API's voice routes with TwiML (docs/voice.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
import jsii
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager

from functions.core.settings import (
    ENV_AUDIT_TABLE_NAME,
    ENV_CARRIER,
    ENV_OUTBOUND_QUEUE_URL,
    ENV_PUBLIC_BASE_URL,
    ENV_RETRY_QUEUE_URL,
    ENV_STAFF_TOPIC_ARN,
    ENV_TWILIO_ACCOUNT_SID,
    ENV_TWILIO_AUTH_TOKEN_SECRET,
    ENV_TWILIO_WEBHOOK_URLS,
    ENV_USER_POOL_ID,
)
from infra.constructs.audit import AuditLog
from infra.constructs.function import QuietlineFunction
from infra.constructs.identity import StaffIdentity
from infra.constructs.keys import grant_secret_value
from infra.constructs.pipeline import HANDLERS, PipelineParts
from infra.constructs.rest_api import ApiGatewayAccount
from infra.constructs.twilio_webhooks import TwilioWebhookApi
from infra.constructs.voicemail import VoicemailStorage
from infra.nag import acknowledge

_TWILIO_ROTATION_REASON = (
    "The Twilio auth token is rotated in the Twilio console (primary/secondary token) and"
    " then put here with put-secret-value; Secrets Manager cannot rotate a third-party"
    " credential without a custom rotation Lambda, which would itself need Twilio API keys."
)


@dataclass(frozen=True)
class TwilioVoiceParts:
    """What the voice function needs beyond the pipeline's parts (voice.enabled)."""

    storage: VoicemailStorage
    audit_log: AuditLog
    identity: StaffIdentity  # rings only enabled staff (ListUsers)


@jsii.implements(cdk.IStableStringProducer)
class _BaseUrl:
    """The base URL Twilio calls, for a function built before the API that serves it."""

    def __init__(self, carrier: TwilioCarrier) -> None:
        self._carrier = carrier

    def produce(self) -> str:
        return self._carrier.base_url


class TwilioCarrier:
    """The Twilio side of the pipeline; its resources live in `parts.scope`."""

    def __init__(
        self,
        parts: PipelineParts,
        *,
        api_account: ApiGatewayAccount,
        voice: TwilioVoiceParts | None = None,
    ) -> None:
        assert parts.config.twilio is not None
        self._parts = parts
        self._twilio = parts.config.twilio
        self.auth_token = secret = secretsmanager.Secret(
            parts.scope,
            "TwilioAuthToken",
            description=(
                "Quietline: the Twilio account's auth token (a random placeholder until the"
                " admin puts the real one; webhooks are refused until then)"
            ),
            # SecretsManagerUsingKMSKey: our key, not the AWS-managed one.
            encryption_key=parts.platform_key.key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=32, exclude_punctuation=True
            ),
        )
        acknowledge(secret, "HIPAA.Security-SecretsManagerRotationEnabled", _TWILIO_ROTATION_REASON)
        acknowledge(secret, "AwsSolutions-SMG4", _TWILIO_ROTATION_REASON)
        environment = {
            **parts.env_core(),
            ENV_CARRIER: parts.config.carrier,
            ENV_OUTBOUND_QUEUE_URL: parts.queues.outbound.queue.queue_url,
            ENV_RETRY_QUEUE_URL: parts.queues.retry.queue.queue_url,
            **self.env(),
        }
        if self._twilio.public_base_url:
            # A custom domain: the URL Twilio signs is not the one API Gateway sees.
            environment[ENV_PUBLIC_BASE_URL] = self._twilio.public_base_url
        if self._twilio.webhook_urls:
            # Queries as the console has them: the text Twilio signs (docs/carriers.md).
            environment[ENV_TWILIO_WEBHOOK_URLS] = " ".join(self._twilio.webhook_urls)
        self.webhook = webhook = parts.function(
            "TwilioWebhook",
            HANDLERS["twilio_webhook"],
            "Verifies and stores Twilio inbound texts and status callbacks",
            environment,
            # Twilio gives a webhook 15 seconds before it counts as failed.
            timeout=cdk.Duration.seconds(10),
            synchronous=True,  # API Gateway waits for it; Twilio retries a failure
        )
        self.grant_read_auth_token(webhook)
        parts.grant_receiving(webhook, retry_queue=True)
        self.voice = self._voice_function(voice) if voice is not None else None
        self.webhook_api = TwilioWebhookApi(
            parts.scope,
            "TwilioWebhooks",
            config=parts.config,
            platform_key=parts.platform_key.key,
            function=webhook,
            api_account=api_account,
            alarms=parts.alarms,
            voice_function=self.voice,
        )

    @property
    def base_url(self) -> str:
        """The base URL Twilio calls: the configured custom domain, else the stage URL."""
        return self._twilio.public_base_url or self.webhook_api.base_url

    def env(self) -> dict[str, str]:
        """What a function needs to call Twilio or verify its signatures."""
        return {
            ENV_TWILIO_ACCOUNT_SID: self._twilio.account_sid,
            ENV_TWILIO_AUTH_TOKEN_SECRET: self.auth_token.secret_arn,
        }

    def grant_read_auth_token(self, grantee: iam.IGrantable) -> None:
        """GetSecretValue on exactly the auth-token secret; the key only through it."""
        grant_secret_value(grantee, self.auth_token.secret_arn, self._parts.platform_key.key)

    def _voice_function(self, voice: TwilioVoiceParts) -> QuietlineFunction:
        """Programmable Voice webhooks: ring, screen, voicemail; the recording fetched from
        Twilio, sealed under the tenant's key, stored, then deleted at Twilio."""
        parts = self._parts
        environment = {
            **parts.env_core(),
            ENV_CARRIER: parts.config.carrier,
            ENV_OUTBOUND_QUEUE_URL: parts.queues.outbound.queue.queue_url,
            ENV_AUDIT_TABLE_NAME: voice.audit_log.table.table_name,
            ENV_STAFF_TOPIC_ARN: parts.staff.topic.topic_arn,
            **voice.storage.environment(),
            **self.env(),
            # The URLs in our TwiML and the URL Twilio signs: the API built just after.
            ENV_PUBLIC_BASE_URL: cdk.Lazy.string(_BaseUrl(self)),
            ENV_USER_POOL_ID: voice.identity.user_pool.user_pool_id,
        }
        if self._twilio.webhook_urls:
            environment[ENV_TWILIO_WEBHOOK_URLS] = " ".join(self._twilio.webhook_urls)
        fn = parts.function(
            "TwilioVoice",
            HANDLERS["twilio_voice"],
            "Answers Twilio voice webhooks with TwiML; seals voicemail under the tenant key",
            environment,
            # Twilio waits 15 seconds for an answer; the recording callback (a fetch of up
            # to 10 s, sealing, storing) is the slowest route, and a retry is idempotent.
            timeout=cdk.Duration.seconds(15),
            memory_size=1024,
        )
        # Calls in the message table, a first caller's conversation, the routed cells
        # (decrypt) and new sealed numbers and audio (generate), the missed-call text,
        # the audit chain, the "new voicemail" notice (no PHI), sealed audio in.
        parts.store.grant_read_write_data(fn)
        parts.grant_tenant_keys(fn, decrypt=True, generate=True)
        parts.queues.outbound.grant_send(fn)
        voice.audit_log.grant_append_and_read(fn)
        parts.staff.grant_publish(fn)
        voice.storage.grant_voicemail_write(fn)
        voice.storage.grant_greeting_read(fn)  # presigned <Play> URLs of the greeting
        self.grant_read_auth_token(fn)
        voice.identity.grant_staff_lookup(fn)
        self._sweep_schedule(fn)
        return fn

    def _sweep_schedule(self, fn: QuietlineFunction) -> None:
        """Every 5 minutes: delete the Twilio recordings whose delete failed after their
        voicemail was sealed (the service keeps a marker for each)."""
        rule = events.Rule(
            fn,
            "RecordingSweep",
            description="Quietline voice: delete Twilio recordings already sealed",
            schedule=events.Schedule.rate(cdk.Duration.minutes(5)),
        )
        rule.add_target(
            targets.LambdaFunction(
                fn.function,
                max_event_age=cdk.Duration.minutes(5),
                retry_attempts=0,
                dead_letter_queue=fn.dead_letters,
            )
        )
