"""Carrier "twilio": the auth-token secret, the webhook function and the REST API Twilio
calls (twilio_webhooks.py), and the grants and environment that use the token.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager

from functions.core.settings import (
    ENV_CARRIER,
    ENV_OUTBOUND_QUEUE_URL,
    ENV_PUBLIC_BASE_URL,
    ENV_RETRY_QUEUE_URL,
    ENV_TWILIO_ACCOUNT_SID,
    ENV_TWILIO_AUTH_TOKEN_SECRET,
    ENV_TWILIO_WEBHOOK_URLS,
)
from infra.constructs.pipeline import HANDLERS, PipelineParts
from infra.constructs.rest_api import ApiGatewayAccount
from infra.constructs.twilio_webhooks import TwilioWebhookApi
from infra.nag import acknowledge

_TWILIO_ROTATION_REASON = (
    "The Twilio auth token is rotated in the Twilio console (primary/secondary token) and"
    " then put here with put-secret-value; Secrets Manager cannot rotate a third-party"
    " credential without a custom rotation Lambda, which would itself need Twilio API keys."
)


class TwilioCarrier:
    """The Twilio side of the pipeline; its resources live in `parts.scope`."""

    def __init__(self, parts: PipelineParts, *, api_account: ApiGatewayAccount) -> None:
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
        )
        self.grant_read_auth_token(webhook)
        parts.grant_receiving(webhook, retry_queue=True)
        self.webhook_api = TwilioWebhookApi(
            parts.scope,
            "TwilioWebhooks",
            config=parts.config,
            platform_key=parts.platform_key.key,
            function=webhook,
            api_account=api_account,
            alarms=parts.alarms,
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
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["secretsmanager:GetSecretValue"],
            resource_arns=[self.auth_token.secret_arn],
        )
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["kms:Decrypt"],
            resource_arns=[self._parts.platform_key.key.key_arn],
            conditions={
                "StringEquals": {
                    "kms:ViaService": (
                        f"secretsmanager.{cdk.Stack.of(self._parts.scope).region}.amazonaws.com"
                    )
                }
            },
        )
