"""What every Quietline REST API stage shares: logging, tracing, throttling, no cache.

The staff API, the clients' secure-link API and the Twilio webhook API are regional REST
APIs with one stage, "prod" each. Their stage settings, log groups, the browser-facing
CORS and gateway responses, and the reasons behind the stage-level acknowledgements live
here once, so the three cannot drift apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import QuietlineConfig
from infra.constructs.waf import StageFirewall
from infra.nag import acknowledge
from infra.retention import audit_log_retention

STAGE_NAME = "prod"

# One JSON line per request: who, when, which route, the outcome. Never the body, the
# query string or headers (a body is a client's text and number: PHI).
ACCESS_LOG_FIELDS = {
    "requestId": apigw.AccessLogField.context_request_id(),
    "ip": apigw.AccessLogField.context_identity_source_ip(),
    "requestTime": apigw.AccessLogField.context_request_time(),
    "httpMethod": apigw.AccessLogField.context_http_method(),
    "resourcePath": apigw.AccessLogField.context_resource_path(),
    "status": apigw.AccessLogField.context_status(),
    "responseLength": apigw.AccessLogField.context_response_length(),
}

# Gateway-generated errors (no token, bad token, no such route, throttled) answer like
# the Lambda does: JSON {"error": ...}, never cached by a browser or a proxy.
_GATEWAY_RESPONSES: tuple[tuple[str, apigw.ResponseType, str], ...] = (
    ("Unauthorized", apigw.ResponseType.UNAUTHORIZED, '{"error":"unauthorized"}'),
    ("AccessDenied", apigw.ResponseType.ACCESS_DENIED, '{"error":"forbidden"}'),
    ("Default4xx", apigw.ResponseType.DEFAULT_4_XX, '{"error":$context.error.messageString}'),
    ("Default5xx", apigw.ResponseType.DEFAULT_5_XX, '{"error":"internal error"}'),
)

_PUSH_TO_CLOUDWATCH_POLICY = "service-role/AmazonAPIGatewayPushToCloudWatchLogs"


class ApiGatewayAccount(Construct):
    """API Gateway's account-wide CloudWatch Logs role (one per account and region).

    Execution logging of any REST API needs it. Built once per stack and shared by every
    API here, rather than once per RestApi (`cloud_watch_role=True`), which would put two
    competing AWS::ApiGateway::Account resources in one template.
    """

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.role = iam.Role(
            self,
            "CloudWatchRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(_PUSH_TO_CLOUDWATCH_POLICY)
            ],
        )
        self.account = apigw.CfnAccount(self, "Account", cloud_watch_role_arn=self.role.role_arn)
        # Other APIs of the account may rely on the setting: it outlives the stack.
        for resource in (self.role, self.account):
            resource.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        acknowledge(
            self.role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "This is API Gateway's account-wide CloudWatch Logs role (one per account and"
            " region, shared by every REST API there), so it keeps the AWS-maintained"
            " AmazonAPIGatewayPushToCloudWatchLogs policy: a role scoped to Quietline's"
            " log groups would break execution logging of the account's other APIs.",
        )

    def logs_before(self, stage: apigw.Stage) -> None:
        """The stage logs only once the account has its CloudWatch role."""
        stage.node.add_dependency(self.account)


def api_origin(api: apigw.RestApi) -> str:
    """https://<api>.execute-api.<region>.<suffix>: refers to the RestApi only, not a stage."""
    stack = cdk.Stack.of(api)
    return f"https://{api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}"


def stage_url(api: apigw.RestApi) -> str:
    """https://<api>.execute-api.<region>.<suffix>/prod, without a trailing slash."""
    return f"{api_origin(api)}/{STAGE_NAME}"


def retained_log_group(
    scope: Construct,
    id: str,
    config: QuietlineConfig,
    platform_key: kms.IKey,
    *,
    log_group_name: str | None = None,
) -> logs.LogGroup:
    return logs.LogGroup(
        scope,
        id,
        log_group_name=log_group_name,
        # CloudWatchLogGroupEncrypted / RetentionPeriod: our key, kept as audit logs.
        encryption_key=platform_key,
        retention=audit_log_retention(config),
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )


def stage_options(
    access_logs: logs.ILogGroup, *, rate_per_second: int, burst: int
) -> apigw.StageOptions:
    return apigw.StageOptions(
        stage_name=STAGE_NAME,
        # AwsSolutions-APIG1 / 164.312(b): one access line per request, no content.
        access_log_destination=apigw.LogGroupLogDestination(access_logs),
        access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
        # APIGWExecutionLoggingEnabled / AwsSolutions-APIG6: errors and request flow are
        # logged; dataTrace stays off, it would log full request and response bodies (PHI).
        logging_level=apigw.MethodLoggingLevel.INFO,
        data_trace_enabled=False,
        metrics_enabled=True,
        # APIGWXrayEnabled / 164.312(b): traced end to end with the Lambda.
        tracing_enabled=True,
        throttling_rate_limit=rate_per_second,
        throttling_burst_limit=burst,
        # No response cache: PHI must not sit in a cache.
        caching_enabled=False,
    )


def execution_log_group(
    scope: Construct,
    api: apigw.RestApi,
    config: QuietlineConfig,
    platform_key: kms.IKey,
) -> logs.LogGroup:
    """API Gateway would create this group itself, unencrypted and kept forever; created
    first under the name it writes to, it is encrypted and retained."""
    group = retained_log_group(
        scope,
        "ExecutionLogs",
        config,
        platform_key,
        log_group_name=f"API-Gateway-Execution-Logs_{api.rest_api_id}/{STAGE_NAME}",
    )
    api.deployment_stage.node.add_dependency(group)
    return group


def acknowledge_stage(stage: apigw.Stage, config: QuietlineConfig, *, cache_reason: str) -> None:
    """The stage-level findings every Quietline REST stage shares, with their reasons."""
    acknowledge(stage, "HIPAA.Security-APIGWCacheEnabledAndEncrypted", cache_reason)
    acknowledge(
        stage,
        "HIPAA.Security-APIGWSSLEnabled",
        "A stage client certificate authenticates API Gateway to an HTTP backend; this"
        " API's only integration is Lambda proxy (invoked inside AWS with SigV4), so"
        " there is no backend TLS to authenticate. Clients reach it over HTTPS only.",
    )
    if not config.waf.enabled:
        acknowledge(
            stage,
            "AwsSolutions-APIG3",
            "AWS WAF is optional (waf.enabled, off by default: about $5/month plus"
            " per-rule and per-request fees); without it the stage still throttles every"
            " request and the API authenticates each one before any data is touched. Set"
            " waf.enabled to add a per-IP rate limit and the AWS common rule set.",
        )


def browser_cors(
    inbox_origin: str | None, *, methods: list[str], headers: list[str]
) -> apigw.CorsOptions | None:
    """Cross-origin requests from the inbox's origin only (never "*"); none without one."""
    if inbox_origin is None:
        return None
    return apigw.CorsOptions(
        allow_origins=[inbox_origin],
        allow_methods=sorted(set(methods)),
        allow_headers=headers,
        # Tokens and sessions travel in headers, never in cookies.
        allow_credentials=False,
        max_age=cdk.Duration.minutes(10),
    )


def browser_gateway_responses(api: apigw.RestApi, inbox_origin: str | None) -> None:
    """Errors API Gateway answers itself are JSON, no-store, and readable by the inbox's
    origin (a page can tell "sign in again" or "throttled" from a network failure)."""
    headers = {"Cache-Control": "'no-store'"}
    if inbox_origin is not None:
        headers["Access-Control-Allow-Origin"] = f"'{inbox_origin}'"
        headers["Vary"] = "'Origin'"
    for id, response_type, body in _GATEWAY_RESPONSES:
        api.add_gateway_response(
            id,
            type=response_type,
            response_headers=headers,
            templates={"application/json": body},
        )


@dataclass(frozen=True)
class RegionalApi:
    """A regional REST API with its one stage, both log groups and the optional WAF."""

    api: apigw.RestApi
    stage: apigw.Stage
    access_logs: logs.LogGroup
    execution_logs: logs.LogGroup
    firewall: StageFirewall | None


def regional_api(
    scope: Construct,
    *,
    config: QuietlineConfig,
    platform_key: kms.IKey,
    api_account: ApiGatewayAccount,
    name: str,
    description: str,
    rate_per_second: int,
    burst: int,
    cors: apigw.CorsOptions | None = None,
) -> RegionalApi:
    """Build the API in `scope` the way every Quietline API is built; routes are the caller's."""
    access_logs = retained_log_group(scope, "AccessLogs", config, platform_key)
    api = apigw.RestApi(
        scope,
        "Api",
        rest_api_name=f"{config.stack_name}-{name}",
        description=description,
        endpoint_types=[apigw.EndpointType.REGIONAL],
        # The account-level CloudWatch role is the stack's one ApiGatewayAccount.
        cloud_watch_role=False,
        deploy_options=stage_options(access_logs, rate_per_second=rate_per_second, burst=burst),
        default_cors_preflight_options=cors,
    )
    stage = api.deployment_stage
    api_account.logs_before(stage)
    # The stack exports the URLs it needs itself (ApiUrl, the Twilio webhook URLs); CDK's
    # generic "<api>Endpoint" output would only duplicate them.
    api.node.try_remove_child("Endpoint")
    return RegionalApi(
        api=api,
        stage=stage,
        access_logs=access_logs,
        execution_logs=execution_log_group(scope, api, config, platform_key),
        firewall=(
            StageFirewall(
                scope, "Firewall", config=config, platform_key=platform_key, stage=stage, name=name
            )
            if config.waf.enabled
            else None
        ),
    )
