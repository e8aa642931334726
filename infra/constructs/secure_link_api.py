"""The clients' secure-link API: its own regional REST API, function and alarms.

A client opens <inbox>/s#<token> from a text; the page calls POST /secure/{token}/challenge,
POST .../verify, GET .../message and POST .../reply here. These routes answer anyone on the
internet, so they live on a REST API of their own, not on the staff API's stage: junk,
guessed tokens and wrong codes are counted against this stage (PublicStageAlarms) and can
never trip the staff API's alarms. A second REST API costs nothing while idle.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from constructs import Construct

from functions.core.settings import (
    ENV_AUDIT_RETENTION_DAYS,
    ENV_AUDIT_TABLE_NAME,
    ENV_CARRIER,
    ENV_INBOX_ORIGIN,
    ENV_OUTBOUND_QUEUE_URL,
    ENV_SECURE_LINK_BASE_URL,
    ENV_TABLE_NAME,
)
from infra.config import QuietlineConfig
from infra.constructs.alarms import Alarms
from infra.constructs.audit import AuditLog
from infra.constructs.function import QuietlineFunction
from infra.constructs.keys import PlatformKey, TenantKeys
from infra.constructs.message_store import MessageStore
from infra.constructs.network import Network
from infra.constructs.public_stage import PublicStageAlarms
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

SECURE_LINK_HANDLER = "functions.handlers.secure_link.handler"
# The secure page's session with the API, after the client's one-time code.
SECURE_SESSION_HEADER = "X-Secure-Session"
SECURE_LINK_STEPS = (
    ("POST", "challenge"),
    ("POST", "verify"),
    ("GET", "message"),
    ("POST", "reply"),
)

# A client's visit is about four requests; a practice sends a handful of secure links at a
# time. Far above that, far below a flood (and below the staff API's 50/s: nobody here
# needs bulk access).
_THROTTLE_RATE_PER_SECOND = 10
_THROTTLE_BURST = 20

# One honest visit ends in at most about seven 4xx (five wrong codes, the 423 of the lock,
# a 410 on reopening a spent link); a few clients fumbling at once stay well under 25 in
# five minutes, while scanning tokens or replaying junk crosses it within seconds.
CLIENT_ERROR_BURST = 25

_PUBLIC_REASON = (
    "Clients have no staff account: a secure-message route is reached with a 192-bit"
    " single-use link token and opened only with a one-time code texted to the client's"
    " number; five wrong codes lock the link, every step is audited, and this API is"
    " apart from the staff API (own stage, throttling and alarms)."
)


class SecureLinkApi(Construct):
    """Regional REST API (stage "prod") of the secure-message page, Lambda proxy."""

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
        api_account: ApiGatewayAccount,
        network: Network | None,
        inbox_origin: str,
    ) -> None:
        """`inbox_origin`: where the secure page is served; the only CORS origin and the
        base of the links the function's replies refer to."""
        super().__init__(scope, id)
        key = platform_key.key
        self.function = QuietlineFunction(
            self,
            "Function",
            config=config,
            platform_key=key,
            alarms=alarms,
            handler=SECURE_LINK_HANDLER,
            description="Secure messages for clients: one-time code, read, reply",
            environment={
                ENV_TABLE_NAME: message_store.table.table_name,
                ENV_CARRIER: config.carrier,
                ENV_OUTBOUND_QUEUE_URL: queues.outbound.queue.queue_url,
                ENV_AUDIT_TABLE_NAME: audit_log.table.table_name,
                ENV_AUDIT_RETENTION_DAYS: str(config.audit_retention_days),
                ENV_INBOX_ORIGIN: inbox_origin,
                ENV_SECURE_LINK_BASE_URL: inbox_origin,
            },
            network=network,
            # A person is waiting: fail fast rather than hold the request open.
            timeout=cdk.Duration.seconds(10),
            synchronous=True,  # API Gateway waits for it: no DLQ would ever fill
        )
        # Codes and replies are texts and messages: the table, new and old data keys, the
        # outbound queue and the audit chain (staff hear of a reply from the table's stream).
        message_store.grant_read_write_data(self.function)
        for tenant_id in tenant_keys.keys:
            tenant_keys.grant_envelope(self.function, tenant_id, decrypt=True, generate=True)
        queues.outbound.grant_send(self.function)
        audit_log.grant_append_and_read(self.function)

        rest = regional_api(
            self,
            config=config,
            platform_key=key,
            api_account=api_account,
            name="secure-links",
            description="Quietline secure messages for clients: link token + one-time code",
            rate_per_second=_THROTTLE_RATE_PER_SECOND,
            burst=_THROTTLE_BURST,
            cors=browser_cors(
                inbox_origin,
                methods=[method for method, _ in SECURE_LINK_STEPS],
                headers=[SECURE_SESSION_HEADER, "Content-Type"],
            ),
        )
        self.api, self.stage, self.firewall = rest.api, rest.stage, rest.firewall
        self.access_logs, self.execution_logs = rest.access_logs, rest.execution_logs
        self.methods = self._routes()
        browser_gateway_responses(self.api, inbox_origin)
        self.watch = PublicStageAlarms(
            self,
            "Watch",
            config=config,
            alarms=alarms,
            rest=rest,
            name="secure-links",
            client_error_burst=CLIENT_ERROR_BURST,
            client_errors_mean=(
                "Many refused requests on the clients' secure-link API (unknown or expired"
                " links, wrong codes, locked links, malformed bodies, throttling): someone"
                " is probing tokens or codes, or a page is misbehaving."
            ),
            server_errors_mean=(
                "The secure-link API answered 5xx: its Lambda failed or a dependency"
                " (DynamoDB, KMS, SQS) is unavailable; clients cannot open secure messages."
            ),
        )
        self._acknowledge(config)

    @property
    def url(self) -> str:
        """The API's base URL (the stage), without a trailing slash."""
        return stage_url(self.api)

    def _routes(self) -> dict[tuple[str, str], apigw.Method]:
        integration = apigw.LambdaIntegration(
            self.function.function,
            proxy=True,
            # No extra permission for console test invocations: only the stage may invoke.
            allow_test_invoke=False,
        )
        methods: dict[tuple[str, str], apigw.Method] = {}
        for method_name, step in SECURE_LINK_STEPS:
            path = f"/secure/{{token}}/{step}"
            method = self.api.root.resource_for_path(path).add_method(
                method_name,
                integration,
                # Guessing codes is bounded: the link locks after five wrong codes, and
                # the stage throttles every method.
                authorization_type=apigw.AuthorizationType.NONE,
            )
            methods[(method_name, path)] = method
        return methods

    def _acknowledge(self, config: QuietlineConfig) -> None:
        acknowledge(self.api, "AwsSolutions-APIG4", _PUBLIC_REASON)
        acknowledge(self.api, "AwsSolutions-COG4", _PUBLIC_REASON)
        acknowledge(
            self.api,
            "AwsSolutions-APIG2",
            "The two request bodies (a code, a reply) are one string field each, checked in"
            " the Lambda before anything else (size, encoding, Content-Type, then 422 naming"
            " the field, never echoing the value); a draft-4 JSON Schema model here would be"
            " a second definition that can drift from the code.",
        )
        acknowledge_stage(
            self.stage,
            config,
            cache_reason=(
                "Caching is off on purpose: a secure message's body is PHI and must not sit"
                " in a cache; every response is also sent with Cache-Control: no-store."
            ),
        )
