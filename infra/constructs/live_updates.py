"""Live updates: the inbox's WebSocket (API Gateway WebSocket API, HIPAA-eligible under the
AWS BAA like the REST APIs) and the stream consumer that tells open inboxes which
conversation changed. Ids only, never PHI (functions/logic/live.py, docs/web.md).
"""

from __future__ import annotations

import dataclasses
import json

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from constructs import Construct

from functions.core.settings import ENV_LIVE_MANAGEMENT_URL, ENV_LIVE_SOCKET_URL
from functions.dal.schema import NEW_MESSAGE_FILTER
from infra.constructs.function import QuietlineFunction
from infra.constructs.pipeline import PipelineParts
from infra.constructs.rest_api import ApiGatewayAccount, retained_log_group
from infra.nag import acknowledge

STAGE_NAME = "live"
SOCKET_HANDLER = "functions.handlers.live_socket.handler"
NOTIFIER_HANDLER = "functions.handlers.live_notifier.handler"
# A socket sends a frame on connect, one ticket, and a ping every 5 minutes: a burst of a
# few per staff member. Far below API Gateway's account limits, far above normal use.
RATE_PER_SECOND = 20
BURST = 40
# One line per connect, frame and disconnect; ids, route and status only, never a body
# (the auth frame carries a ticket) and never a URL query (none is used).
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "connectionId": "$context.connectionId",
    "eventType": "$context.eventType",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "integrationError": "$context.integrationErrorMessage",
}
_OPEN_ROUTES_REASON = (
    "A browser cannot send an Authorization header when it opens a WebSocket, and a token"
    " in the URL would be written to access logs. So routes take no IAM/Cognito authorizer:"
    " the socket's first frame carries a single-use ticket (30 s, stored hashed) issued by"
    " the Cognito-authorized staff API, and a socket without a valid ticket is closed and"
    " never told anything. The socket only ever carries conversation ids, never PHI."
)


class LiveUpdates(Construct):
    """The WebSocket API, its socket handler, and the stream consumer that pushes."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        parts: PipelineParts,
        api_account: ApiGatewayAccount,
    ) -> None:
        super().__init__(scope, id)
        parts = dataclasses.replace(parts, scope=self)  # this capability's functions here
        self._parts = parts
        self.socket_handler = parts.function(
            "LiveSocket",
            SOCKET_HANDLER,
            "Inbox live-update sockets: ticket check, connect and disconnect (ids only)",
            parts.env_core(),
            synchronous=True,  # the WebSocket API waits for it: no DLQ would ever fill
        )
        socket = integrations.WebSocketLambdaIntegration("Socket", self.socket_handler.function)
        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            api_name=f"{parts.config.stack_name}-live",
            description="Quietline inbox live updates: which conversation changed, never PHI",
            route_selection_expression="$request.body.action",
            connect_route_options=apigwv2.WebSocketRouteOptions(integration=socket),
            disconnect_route_options=apigwv2.WebSocketRouteOptions(integration=socket),
            # Pings (and anything unknown) end at the gateway: no Lambda per keep-alive.
            default_route_options=apigwv2.WebSocketRouteOptions(
                integration=integrations.WebSocketMockIntegration("KeepAlive")
            ),
        )
        # Two-way: the handler's answer ({"type": "ready"}) goes back down the socket.
        self.api.add_route(
            "auth",
            integration=integrations.WebSocketLambdaIntegration(
                "Auth", self.socket_handler.function
            ),
            return_response=True,
        )
        self.stage = self._stage(api_account)
        self.socket_url = self.stage.url
        self.management_url = self.stage.callback_url
        self.socket_handler.function.add_environment(ENV_LIVE_MANAGEMENT_URL, self.management_url)
        self.notifier = self._notifier()
        for fn in (self.socket_handler, self.notifier):
            parts.store.grant_live_items(fn)
            self._grant_manage_connections(fn)
        for route in self.api.node.find_all():
            if isinstance(route, apigwv2.CfnRoute):
                acknowledge(route, "AwsSolutions-APIG4", _OPEN_ROUTES_REASON)

    @property
    def origin(self) -> str:
        """wss://<api>.execute-api.<region>.<suffix>: what the inbox's CSP must allow."""
        stack = cdk.Stack.of(self)
        return f"wss://{self.api.api_id}.execute-api.{stack.region}.{stack.url_suffix}"

    def grant_tickets(self, staff_api: QuietlineFunction) -> None:
        """The staff API issues tickets (an item each) and tells the app where to connect."""
        staff_api.function.add_environment(ENV_LIVE_SOCKET_URL, self.socket_url)
        self._parts.store.grant_live_items(staff_api)

    def _stage(self, api_account: ApiGatewayAccount) -> apigwv2.WebSocketStage:
        config, key = self._parts.config, self._parts.platform_key.key
        access_logs = retained_log_group(self, "AccessLogs", config, key)
        stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=STAGE_NAME,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=RATE_PER_SECOND, burst_limit=BURST),
        )
        cfn = stage.node.default_child
        assert isinstance(cfn, apigwv2.CfnStage)
        # AwsSolutions-APIG1 / 164.312(b): an access line per connect, frame, disconnect.
        cfn.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=access_logs.log_group_arn, format=json.dumps(ACCESS_LOG_FIELDS)
        )
        # APIGWExecutionLoggingEnabled: errors logged; data trace off (it logs frames).
        cfn.default_route_settings = apigwv2.CfnStage.RouteSettingsProperty(
            logging_level="ERROR",
            data_trace_enabled=False,
            detailed_metrics_enabled=True,
            throttling_rate_limit=RATE_PER_SECOND,
            throttling_burst_limit=BURST,
        )
        # Execution logs into a group made first: encrypted and retained, not API Gateway's.
        execution_logs = retained_log_group(
            self,
            "ExecutionLogs",
            config,
            key,
            log_group_name=f"/aws/apigateway/{self.api.api_id}/{STAGE_NAME}",
        )
        cfn.node.add_dependency(execution_logs, api_account.account)
        return stage

    def _notifier(self) -> QuietlineFunction:
        parts = self._parts
        return parts.stream_consumer(
            "LiveNotifier",
            NOTIFIER_HANDLER,
            "Tells open inboxes which conversation changed (ids only), from the table stream",
            {**parts.env_core(), ENV_LIVE_MANAGEMENT_URL: self.management_url},
            filter_pattern=NEW_MESSAGE_FILTER,
        )

    def _grant_manage_connections(self, fn: QuietlineFunction) -> None:
        """PostToConnection and DeleteConnection on this stage's sockets only."""
        stack = cdk.Stack.of(self)
        base = (
            f"arn:{stack.partition}:execute-api:{stack.region}:{stack.account}:"
            f"{self.api.api_id}/{STAGE_NAME}"
        )
        iam.Grant.add_to_principal(
            grantee=fn,
            actions=["execute-api:ManageConnections"],
            resource_arns=[f"{base}/POST/@connections/*", f"{base}/DELETE/@connections/*"],
        )
        for method in ("POST", "DELETE"):
            resource = f"{_as_nag_shows(stack, base)}/{method}/@connections/*"
            acknowledge(
                fn,
                f"AwsSolutions-IAM5[Resource::{resource}]",
                "A socket's connection id exists only at run time; the grant is limited to"
                " this API's one stage and to posting to and closing its sockets.",
            )


def _as_nag_shows(stack: cdk.Stack, value: str) -> str:
    """`value` as cdk-nag writes it in a finding's id: pseudo-parameters it cannot resolve
    as <AWS::Name>, a resource's reference as <LogicalId>."""
    resolved = stack.resolve(value)
    if isinstance(resolved, str):
        return resolved
    parts = []
    for part in resolved["Fn::Join"][1]:
        if isinstance(part, str):
            parts.append(part)
        else:
            parts.append(f"<{part['Ref']}>")
    return "".join(parts)
