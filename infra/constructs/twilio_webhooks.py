"""The public REST API Twilio calls: POST /webhooks/twilio/sms and /webhooks/twilio/status.

Authentication is Twilio's X-Twilio-Signature (HMAC-SHA1 over the URL and form fields
with the account's auth token), verified by the Lambda before any field is used; API
Gateway refuses requests without the header. Logs name requests, never their content.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.carriers.twilio import SIGNATURE_HEADER
from infra.config import QuietlineConfig
from infra.constructs.function import QuietlineFunction
from infra.constructs.waf import StageFirewall
from infra.nag import acknowledge
from infra.retention import audit_log_retention

# The paths local mode serves too (local/routes.py); the handler dispatches on the suffix.
TWILIO_SMS_PATH = "/webhooks/twilio/sms"
TWILIO_STATUS_PATH = "/webhooks/twilio/status"
STAGE_NAME = "prod"

# Twilio sends one request per message or status change; a small practice sends a few
# per minute. The stage throttles far above that and far below a flood.
_THROTTLE_RATE_PER_SECOND = 50
_THROTTLE_BURST = 100

# One JSON line per request: who, when, which route, the outcome. Never the body, the
# query string or headers (a body is a client's text and number: PHI).
_ACCESS_LOG_FIELDS = {
    "requestId": apigw.AccessLogField.context_request_id(),
    "ip": apigw.AccessLogField.context_identity_source_ip(),
    "requestTime": apigw.AccessLogField.context_request_time(),
    "httpMethod": apigw.AccessLogField.context_http_method(),
    "resourcePath": apigw.AccessLogField.context_resource_path(),
    "status": apigw.AccessLogField.context_status(),
    "responseLength": apigw.AccessLogField.context_response_length(),
}

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
    ) -> None:
        super().__init__(scope, id)
        self.access_logs = self._log_group("AccessLogs", config, platform_key)
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=f"{config.stack_name}-twilio-webhooks",
            description="Quietline: Twilio webhooks, authenticated by X-Twilio-Signature",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Execution logs need the account-level API Gateway CloudWatch role.
            cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                # AwsSolutions-APIG1 / 164.312(b): one access line per request, no content.
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(_ACCESS_LOG_FIELDS)),
                # APIGWExecutionLoggingEnabled / AwsSolutions-APIG6: errors and request
                # flow are logged; dataTrace stays off, it would log full request and
                # response bodies (PHI).
                logging_level=apigw.MethodLoggingLevel.INFO,
                data_trace_enabled=False,
                metrics_enabled=True,
                # APIGWXrayEnabled / 164.312(b): traced end to end with the Lambda.
                tracing_enabled=True,
                throttling_rate_limit=_THROTTLE_RATE_PER_SECOND,
                throttling_burst_limit=_THROTTLE_BURST,
                # No response cache: PHI must not sit in a cache (and webhooks are POSTs).
                caching_enabled=False,
            ),
        )
        self.stage = self.api.deployment_stage
        # The stack exports the webhook URLs itself (TwilioSmsWebhookUrl, ...); CDK's
        # generic "<api>Endpoint" output would only duplicate them.
        self.api.node.try_remove_child("Endpoint")
        self._execution_logs(config, platform_key)
        self._routes(function)
        self.firewall = (
            StageFirewall(
                self,
                "Firewall",
                config=config,
                platform_key=platform_key,
                stage=self.stage,
                name="twilio-webhooks",
            )
            if config.waf.enabled
            else None
        )
        self._acknowledge(config)

    @property
    def base_url(self) -> str:
        """https://<api>.execute-api.<region>.<suffix>/prod, without a trailing slash."""
        stack = cdk.Stack.of(self)
        return (
            f"https://{self.api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}"
            f"/{STAGE_NAME}"
        )

    def _log_group(self, id: str, config: QuietlineConfig, platform_key: kms.IKey) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            id,
            # CloudWatchLogGroupEncrypted / RetentionPeriod: our key, kept as audit logs.
            encryption_key=platform_key,
            retention=audit_log_retention(config),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _execution_logs(self, config: QuietlineConfig, platform_key: kms.IKey) -> None:
        # API Gateway would create this group itself, unencrypted and kept forever;
        # created first under the name it writes to, it is encrypted and retained.
        group = logs.LogGroup(
            self,
            "ExecutionLogs",
            log_group_name=f"API-Gateway-Execution-Logs_{self.api.rest_api_id}/{STAGE_NAME}",
            encryption_key=platform_key,
            retention=audit_log_retention(config),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.stage.node.add_dependency(group)

    def _routes(self, function: QuietlineFunction) -> None:
        # A request without the signature header never reaches the Lambda; the signature
        # itself is verified there (it needs the auth token). Body validation stays off:
        # API Gateway models are JSON Schema and Twilio posts form-encoded bodies (with
        # no matching model it would validate nothing), see the APIG2 acknowledgement.
        validator = self.api.add_request_validator(
            "SignatureHeader",
            request_validator_name="twilio-signature-header-present",
            validate_request_parameters=True,
        )
        integration = apigw.LambdaIntegration(
            function.function,
            proxy=True,
            # No extra permission for console test invocations: only the stage may invoke.
            allow_test_invoke=False,
        )
        for path in (TWILIO_SMS_PATH, TWILIO_STATUS_PATH):
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
        acknowledge(
            self.stage,
            "HIPAA.Security-APIGWCacheEnabledAndEncrypted",
            "Caching is off on purpose: webhook requests and responses concern clients' texts"
            " and PHI must not sit in a cache; POST webhooks are never answered from a cache.",
        )
        acknowledge(
            self.stage,
            "HIPAA.Security-APIGWSSLEnabled",
            "A stage client certificate authenticates API Gateway to an HTTP backend; this"
            " API's only integration is Lambda proxy (invoked inside AWS with SigV4), so"
            " there is no backend TLS to authenticate. Clients reach it over HTTPS only.",
        )
        if not config.waf.enabled:
            acknowledge(
                self.stage,
                "AwsSolutions-APIG3",
                "AWS WAF is optional (waf.enabled, off by default: about $5/month plus"
                " per-rule and per-request fees); without it the stage still throttles"
                " (50 req/s, burst 100) and unsigned requests are refused. Set waf.enabled"
                " to add a per-IP rate limit and the AWS common rule set.",
            )
        cloud_watch_role = self.api.node.try_find_child("CloudWatchRole")
        if cloud_watch_role is not None:
            acknowledge(
                cloud_watch_role,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]",
                "This is API Gateway's account-wide CloudWatch Logs role (one per account and"
                " region, shared by every REST API there), so it keeps the AWS-maintained"
                " AmazonAPIGatewayPushToCloudWatchLogs policy: a role scoped to Quietline's"
                " log groups would break execution logging of the account's other APIs.",
            )
