"""The staff REST API: API Gateway with a Cognito authorizer in front of one Lambda.

The routes are not listed here: they are generated from functions/handlers/api.py ROUTES,
the same table the OpenAPI document, the authorization-matrix test and the audit test
walk, so a route cannot reach the Lambda without the gateway knowing whether it is
public. Only public routes (the OpenAPI document, and the inbox's session routes, which
authenticate by their HttpOnly refresh cookie) skip the authorizer; every other
request needs a valid Cognito ID token (MFA-verified sign-in) before the Lambda runs,
and the Lambda then checks the tenant, role and live session itself.

The clients' secure-message routes are not here: they live on their own API
(secure_link_api.py), so the stage's 5xx alarm counts staff requests only.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from constructs import Construct

from functions.core.settings import (
    ENV_AUDIT_RETENTION_DAYS,
    ENV_AUDIT_TABLE_NAME,
    ENV_CARRIER,
    ENV_IDLE_TIMEOUT_MINUTES,
    ENV_INBOX_ORIGIN,
    ENV_OUTBOUND_QUEUE_URL,
    ENV_PHONE_REGION,
    ENV_SECURE_LINK_BASE_URL,
    ENV_TABLE_NAME,
    ENV_UNUSUAL_READS_THRESHOLD,
    ENV_USER_POOL_CLIENT_ID,
    ENV_USER_POOL_ID,
)
from functions.handlers.api import ROUTES, RoutePolicy
from functions.handlers.api.browser_session import SESSION_PATH
from infra.config import QuietlineConfig
from infra.constructs.alarms import Alarms
from infra.constructs.audit import AuditLog
from infra.constructs.function import QuietlineFunction
from infra.constructs.identity import StaffIdentity
from infra.constructs.keys import PlatformKey, TenantKeys
from infra.constructs.message_store import MessageStore
from infra.constructs.network import Network
from infra.constructs.queues import MessageQueues
from infra.constructs.rest_api import (
    ApiGatewayAccount,
    acknowledge_stage,
    browser_cors,
    browser_gateway_responses,
    regional_api,
    stage_url,
)
from infra.nag import acknowledge

API_HANDLER = "functions.handlers.api.handler"
AUTHORIZATION_HEADER = "Authorization"

# A practice's staff make a handful of requests per page; the stage throttles far above
# a busy front desk and far below a flood or a scripted bulk read.
_THROTTLE_RATE_PER_SECOND = 50
_THROTTLE_BURST = 100

UNUSUAL_READ_METRIC = "UnusualReadVolume"
_PUBLIC_ROUTE_REASON = (
    "This method is a route that functions/handlers/api.py declares public=True: it serves"
    " only the OpenAPI document (paths, schemas, no data and no PHI), generated from the"
    " code, so a client can learn the API before signing in. Every other method uses the"
    " Cognito user-pool authorizer."
)
_SESSION_ROUTE_REASON = (
    "This method is one of the inbox's session routes (functions/handlers/api/"
    "browser_session.py): a reloaded page has no ID token to show, so the credential is the"
    " Cognito refresh token in an HttpOnly, Secure, SameSite=Strict cookie scoped to"
    " /session, which the Lambda checks with Cognito and against the server-side session"
    " (idle logoff, sign-out everywhere), refusing any Origin but the inbox's. It answers"
    " tokens only, never PHI; every PHI route uses the Cognito user-pool authorizer."
)


class StaffApi(Construct):
    """Regional REST API (stage "prod") with the Cognito authorizer and the API Lambda."""

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
        audit_log: AuditLog,
        identity: StaffIdentity,
        api_account: ApiGatewayAccount,
        network: Network | None,
        inbox_origin: str | None = None,
        routes: tuple[RoutePolicy, ...] = tuple(ROUTES),
    ) -> None:
        """`inbox_origin`: where the web inbox is served (the stack's CloudFront distribution
        or config.inbox_origin); the only CORS origin and the base of the secure links
        staff send."""
        super().__init__(scope, id)
        key = platform_key.key
        self.routes = routes
        self.inbox_origin = inbox_origin
        self.function = QuietlineFunction(
            self,
            "Function",
            config=config,
            platform_key=key,
            alarms=alarms,
            handler=API_HANDLER,
            description="Staff API: inbox, contacts, templates, settings, users, audit export",
            environment={
                ENV_TABLE_NAME: message_store.table.table_name,
                ENV_CARRIER: config.carrier,
                ENV_OUTBOUND_QUEUE_URL: queues.outbound.queue.queue_url,
                ENV_USER_POOL_ID: identity.user_pool.user_pool_id,
                # The session routes renew the inbox's ID tokens (REFRESH_TOKEN_AUTH).
                ENV_USER_POOL_CLIENT_ID: identity.client.user_pool_client_id,
                ENV_IDLE_TIMEOUT_MINUTES: str(config.idle_timeout_minutes),
                ENV_UNUSUAL_READS_THRESHOLD: str(config.unusual_reads_per_15_minutes),
                ENV_AUDIT_TABLE_NAME: audit_log.table.table_name,
                ENV_AUDIT_RETENTION_DAYS: str(config.audit_retention_days),
                # Staff type national numbers (POST /contacts): read in this region.
                ENV_PHONE_REGION: config.phone_region,
                **self._inbox_environment(),
            },
            network=network,
            # A person is waiting: fail fast rather than hold the request open.
            timeout=cdk.Duration.seconds(10),
            memory_size=512,
            synchronous=True,  # API Gateway waits for it: no DLQ would ever fill
        )
        # What the API's code paths call (functions/container.py): the table (sessions and
        # read counters included), a whole thread's batch delete, new and old data keys
        # of every tenant (decrypt names and bodies, encrypt contacts and sent texts),
        # queueing texts, appending to and reading the audit chain, managing staff.
        message_store.grant_read_write_data(self.function)
        message_store.grant_batch_delete(self.function)
        for tenant_id in tenant_keys.keys:
            tenant_keys.grant_envelope(self.function, tenant_id, decrypt=True, generate=True)
        queues.outbound.grant_send(self.function)
        audit_log.grant_append_and_read(self.function)
        identity.grant_staff_admin(self.function)

        rest = regional_api(
            self,
            config=config,
            platform_key=key,
            api_account=api_account,
            name="staff-api",
            description="Quietline staff API: Cognito-authenticated (MFA), per-tenant access",
            rate_per_second=_THROTTLE_RATE_PER_SECOND,
            burst=_THROTTLE_BURST,
            cors=self._cors(),
        )
        self.api, self.stage, self.firewall = rest.api, rest.stage, rest.firewall
        self.access_logs, self.execution_logs = rest.access_logs, rest.execution_logs
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self,
            "Authorizer",
            cognito_user_pools=[identity.user_pool],
            identity_source=apigw.IdentitySource.header(AUTHORIZATION_HEADER),
            # No cached verdicts: a token revoked by "sign out everywhere" or a disabled
            # user is refused at once, not after a cache TTL.
            results_cache_ttl=cdk.Duration.seconds(0),
        )
        self.methods = self._routes()
        browser_gateway_responses(self.api, self.inbox_origin)
        self.unusual_reads_alarm = alarms.on_code_metric(
            self,
            UNUSUAL_READ_METRIC,
            threshold=1,
            description=(
                "Breach early warning: a staff user read an unusual number of PHI records in"
                " 15 minutes (see the audit log: user.unusual_reads); confirm with the user"
            ),
        )
        self.server_error_alarm = self._server_error_alarm(alarms)
        self._acknowledge(config)

    def _inbox_environment(self) -> dict[str, str]:
        if not self.inbox_origin:
            return {}
        return {
            ENV_INBOX_ORIGIN: self.inbox_origin,
            ENV_SECURE_LINK_BASE_URL: self.inbox_origin,
        }

    @property
    def url(self) -> str:
        """The API's base URL (the stage), without a trailing slash."""
        return stage_url(self.api)

    # --- routes ----------------------------------------------------------------------------
    def _routes(self) -> dict[tuple[str, str], apigw.Method]:
        function = self.function.function
        # One invoke permission for the stage, not one per method: every route reaches the
        # same function, which authorizes each request itself, so per-method permissions
        # guarded nothing and cost ~70 of the stack's 500 resources (CloudFormation's
        # limit). Only this API's deployed stage may invoke (no console test-invoke "*").
        function.add_permission(
            "StaffApiStageInvoke",
            principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
            source_arn=self.api.arn_for_execute_api(
                method="*", path="/*", stage=self.stage.stage_name
            ),
        )
        integration = apigw.Integration(
            type=apigw.IntegrationType.AWS_PROXY,
            integration_http_method="POST",
            uri=cdk.Stack.of(self).format_arn(
                service="apigateway",
                account="lambda",
                resource="path/2015-03-31/functions",
                resource_name=f"{function.function_arn}/invocations",
                arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
            ),
        )
        methods: dict[tuple[str, str], apigw.Method] = {}
        for route in self.routes:
            resource = self.api.root.resource_for_path(route.path)
            if route.public:
                method = resource.add_method(
                    route.method, integration, authorization_type=apigw.AuthorizationType.NONE
                )
                reason = (
                    _SESSION_ROUTE_REASON
                    if route.path.startswith(SESSION_PATH)
                    else _PUBLIC_ROUTE_REASON
                )
                acknowledge(method, "AwsSolutions-APIG4", reason)
                acknowledge(method, "AwsSolutions-COG4", reason)
            else:
                method = resource.add_method(
                    route.method,
                    integration,
                    authorization_type=apigw.AuthorizationType.COGNITO,
                    authorizer=self.authorizer,
                )
            methods[(route.method, route.path)] = method
        return methods

    def _cors(self) -> apigw.CorsOptions | None:
        """Cross-origin requests from the inbox's origin only; never "*"."""
        return browser_cors(
            self.inbox_origin,
            methods=[route.method for route in self.routes],
            headers=[AUTHORIZATION_HEADER, "Content-Type"],
        )

    # --- alarms -----------------------------------------------------------------------------
    def _server_error_alarm(self, alarms: Alarms) -> cloudwatch.Alarm:
        # Over this stage only: the clients' and Twilio's requests reach other APIs.
        return alarms.on_stage_server_errors(
            self,
            self.stage,
            description=(
                "The staff API answered 5xx: the Lambda failed or a dependency (DynamoDB, KMS,"
                " Cognito) is unavailable; staff cannot read or send"
            ),
        )

    def _acknowledge(self, config: QuietlineConfig) -> None:
        acknowledge(
            self.api,
            "AwsSolutions-APIG2",
            "Requests are validated in the Lambda against the same pydantic models that"
            " generate the API's OpenAPI document (422 naming the field, never echoing the"
            " value); a copy as API Gateway draft-4 JSON Schema models would be a second"
            " definition of every body and query parameter that can drift from the code.",
        )
        acknowledge_stage(
            self.stage,
            config,
            cache_reason=(
                "Caching is off on purpose: staff API responses carry PHI (client names,"
                " message bodies) and must not sit in a cache; every response is also sent"
                " with Cache-Control: no-store."
            ),
        )
