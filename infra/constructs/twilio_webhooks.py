"""The public REST API Twilio calls: POST /webhooks/twilio/sms and /webhooks/twilio/status.

Authentication is Twilio's X-Twilio-Signature (HMAC-SHA1 over the URL and form fields
with the account's auth token), verified by the Lambda before any field is used; API
Gateway refuses requests without the header. Logs name requests, never their content.
Being public, the stage has its own 4xx-burst and 5xx alarms (PublicStageAlarms), apart
from the staff API's.
"""

from __future__ import annotations

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_kms as kms
from constructs import Construct

from functions.carriers.twilio import SIGNATURE_HEADER
from functions.carriers.twilio_voice import VOICE_WEBHOOK_PATHS
from infra.config import QuietlineConfig
from infra.constructs.alarms import Alarms
from infra.constructs.function import QuietlineFunction
from infra.constructs.public_stage import PublicStageAlarms
from infra.constructs.rest_api import (
    STAGE_NAME,
    ApiGatewayAccount,
    acknowledge_stage,
    regional_api,
    stage_url,
)
from infra.nag import acknowledge

# The paths local mode serves too (local/routes.py); the handler dispatches on the suffix.
TWILIO_SMS_PATH = "/webhooks/twilio/sms"
TWILIO_STATUS_PATH = "/webhooks/twilio/status"
__all__ = [
    "STAGE_NAME",
    "TWILIO_SMS_PATH",
    "TWILIO_STATUS_PATH",
    "VOICE_WEBHOOK_PATHS",
    "TwilioWebhookApi",
]

# Twilio sends one request per message or status change; a small practice sends a few
# per minute. The stage throttles far above that and far below a flood.
_THROTTLE_RATE_PER_SECOND = 50
_THROTTLE_BURST = 100

# Twilio itself sends no 4xx-worthy request once the auth token in Secrets Manager is
# right: ten refusals in five minutes is a stale token after a rotation (every inbound
# text refused, so texts are being lost) or someone posting forgeries.
CLIENT_ERROR_BURST = 10

_SIGNATURE_AUTH_REASON = (
    "Twilio cannot present IAM, Cognito or API-key credentials; every request is"
    " authenticated by Twilio's HMAC-SHA1 X-Twilio-Signature with the account's auth token,"
    " which API Gateway requires to be present and the Lambda verifies (constant-time)"
    " before any field is used, answering 403 and storing nothing otherwise."
)


class TwilioWebhookApi(Construct):
    """Regional REST API, stage "prod", Lambda proxy to the webhook function."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: QuietlineConfig,
        platform_key: kms.IKey,
        function: QuietlineFunction,
        api_account: ApiGatewayAccount,
        alarms: Alarms,
        voice_function: QuietlineFunction | None = None,
    ) -> None:
        super().__init__(scope, id)
        rest = regional_api(
            self,
            config=config,
            platform_key=platform_key,
            api_account=api_account,
            name="twilio-webhooks",
            description="Quietline: Twilio webhooks, authenticated by X-Twilio-Signature",
            rate_per_second=_THROTTLE_RATE_PER_SECOND,
            burst=_THROTTLE_BURST,
        )
        self.api, self.stage, self.firewall = rest.api, rest.stage, rest.firewall
        self.access_logs, self.execution_logs = rest.access_logs, rest.execution_logs
        self._routes(function, voice_function)
        self.watch = PublicStageAlarms(
            self,
            "Watch",
            config=config,
            alarms=alarms,
            rest=rest,
            name="twilio-webhooks",
            client_error_burst=CLIENT_ERROR_BURST,
            client_errors_mean=(
                "Many refused Twilio webhook requests (bad or missing X-Twilio-Signature,"
                " malformed forms, throttling): the auth token in Secrets Manager is stale"
                " after a rotation (inbound texts are being refused) or someone is forging"
                " webhooks."
            ),
            server_errors_mean=(
                "The Twilio webhook API answered 5xx: its Lambda failed or a dependency is"
                " unavailable; Twilio retries a while, then texts and statuses are lost."
            ),
        )
        self._acknowledge(config)

    @property
    def base_url(self) -> str:
        """https://<api>.execute-api.<region>.<suffix>/prod, without a trailing slash."""
        return stage_url(self.api)

    def _routes(
        self, function: QuietlineFunction, voice_function: QuietlineFunction | None
    ) -> None:
        # A request without the signature header never reaches the Lambda; the signature
        # itself is verified there (it needs the auth token). Body validation stays off:
        # API Gateway models are JSON Schema and Twilio posts form-encoded bodies (with
        # no matching model it would validate nothing), see the APIG2 acknowledgement.
        validator = self.api.add_request_validator(
            "SignatureHeader",
            request_validator_name="twilio-signature-header-present",
            validate_request_parameters=True,
        )
        routes = [(path, function) for path in (TWILIO_SMS_PATH, TWILIO_STATUS_PATH)]
        if voice_function is not None:
            # The voice paths are listed once, in functions/carriers/twilio_voice.py (local
            # mode serves the same list); one function answers them all with TwiML.
            routes += [(path, voice_function) for path in VOICE_WEBHOOK_PATHS]
        integrations: dict[str, apigw.LambdaIntegration] = {}
        for path, target in routes:
            integration = integrations.setdefault(
                target.node.path,
                apigw.LambdaIntegration(
                    target.function,
                    proxy=True,
                    # No extra permission for console test invocations: only the stage may invoke.
                    allow_test_invoke=False,
                ),
            )
            self.api.root.resource_for_path(path).add_method(
                "POST",
                integration,
                authorization_type=apigw.AuthorizationType.NONE,
                request_validator=validator,
                request_parameters={f"method.request.header.{SIGNATURE_HEADER}": True},
            )

    def _acknowledge(self, config: QuietlineConfig) -> None:
        acknowledge(self.api, "AwsSolutions-APIG4", _SIGNATURE_AUTH_REASON)
        acknowledge(self.api, "AwsSolutions-COG4", _SIGNATURE_AUTH_REASON)
        acknowledge(
            self.api,
            "AwsSolutions-APIG2",
            "Parameter validation is on (X-Twilio-Signature must be present). Body validation"
            " would check nothing: API Gateway models are JSON Schema and Twilio posts"
            " form-encoded bodies, which the Lambda parses and validates (400) only after"
            " verifying the signature.",
        )
        acknowledge_stage(
            self.stage,
            config,
            cache_reason=(
                "Caching is off on purpose: webhook requests and responses concern clients'"
                " texts and PHI must not sit in a cache; POST webhooks are never answered"
                " from a cache."
            ),
        )
