"""The staff API: routes generated from functions/handlers/api.py ROUTES behind the Cognito
authorizer, its stage, the API Lambda's exact permissions and settings, gateway
responses, CORS (default: the inbox's CloudFront origin; Twilio variant: inbox_origin set;
a construction-only variant without any inbox) and its alarms."""

from __future__ import annotations

import importlib
import inspect
import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Capture, Match, Matcher, Template

from functions.core import settings
from functions.handlers.api import ROUTES
from infra.constructs.staff_api import StaffApi
from infra.stack import QuietlineStack
from tests.infra import messaging_checks as checks
from tests.infra.conftest import (
    ACCOUNT,
    INBOX_ORIGIN,
    REGION,
    Resource,
    Synthesized,
    api_paths,
    arn,
    as_list,
    check_regional_stage,
    every_capture,
    every_resource,
    logical_id,
    make_config,
    plain_app,
    quietline_stack,
    ref,
    resource,
    single,
)

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth")]
# Tests of the Twilio variant (inbox_origin and WAF set) run in its xdist group.
twilio_group = pytest.mark.xdist_group("synth-twilio")

E = settings
EXPECTED_ENVIRONMENT = {
    E.ENV_TABLE_NAME,
    E.ENV_CARRIER,
    E.ENV_OUTBOUND_QUEUE_URL,
    E.ENV_USER_POOL_ID,
    E.ENV_USER_POOL_CLIENT_ID,  # the session routes renew the inbox's ID tokens
    E.ENV_IDLE_TIMEOUT_MINUTES,
    E.ENV_UNUSUAL_READS_THRESHOLD,
    E.ENV_AUDIT_TABLE_NAME,
    E.ENV_AUDIT_RETENTION_DAYS,
    E.ENV_PHONE_REGION,  # numbers staff type without a country code (POST /contacts)
    # The inbox is hosted here by default: CORS for its origin, the base of secure links.
    E.ENV_INBOX_ORIGIN,
    E.ENV_SECURE_LINK_BASE_URL,
    E.ENV_LIVE_SOCKET_URL,  # where the inbox's live-update socket connects (POST /live/tickets)
    E.ENV_WEB_PUSH_VAPID_SECRET,  # GET /push/key: the secret's public-key tag, never its value
}
MESSAGE_TABLE_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",  # a tenant profile and a conversation together
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:BatchWriteItem",  # delete a client's whole thread (admin)
}
AUDIT_READ_ACTIONS = {"dynamodb:GetItem", "dynamodb:Query"}
AUDIT_WRITES_NEVER_ALLOWED = {
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
    "dynamodb:DeleteTable",
    "dynamodb:UpdateTable",
}
# What an admin may do to staff accounts (docs/access.md): list, invite, disable, sign out.
STAFF_ADMIN_ACTIONS = {
    "cognito-idp:ListUsersInGroup",
    "cognito-idp:ListUsers",
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminAddUserToGroup",
    "cognito-idp:AdminDisableUser",
    "cognito-idp:AdminEnableUser",
    "cognito-idp:AdminUserGlobalSignOut",
}
# Request metadata only: never a body, a query string or a path with ids in it.
ACCESS_LOG_FIELDS = {
    "requestId",
    "ip",
    "requestTime",
    "httpMethod",
    "resourcePath",
    "status",
    "responseLength",
}


def _method_paths(template: Template, api: StaffApi, properties: Any) -> list[tuple[str, str]]:
    """(HTTP method, path) of the API's methods whose properties match."""
    by_resource = {json.dumps(value): path for path, value in api_paths(template, api.api).items()}
    verb = properties.get("HttpMethod", Match.any_value())
    http_method = Capture(verb if isinstance(verb, Matcher) else Match.exact(verb))
    resource_id = Capture()
    found = template.find_resources(
        "AWS::ApiGateway::Method",
        {
            "Properties": {
                **properties,
                "RestApiId": ref(api.api),
                "HttpMethod": http_method,
                "ResourceId": resource_id,
            }
        },
    )
    if not found:
        return []
    return [
        (verb, by_resource[json.dumps(target)])
        for verb, target in zip(
            every_capture(http_method, Capture.as_string),
            every_capture(resource_id, Capture.as_object),
            strict=True,
        )
    ]


def _method(template: Template, api: StaffApi, http_method: str, resource_id: Any) -> Resource:
    return single(
        template,
        "AWS::ApiGateway::Method",
        {
            "RestApiId": ref(api.api),
            "HttpMethod": http_method,
            "ResourceId": Match.exact(resource_id),
        },
    )


def _statements(template: Template, stack: QuietlineStack) -> list[dict[str, Any]]:
    return checks.function_statements(template, stack.staff_api.function)


def _actions_on(statements: list[dict[str, Any]], arns: list[Any]) -> set[str]:
    return {
        action
        for statement in statements
        if statement["Effect"] == "Allow" and any(r in arns for r in as_list(statement["Resource"]))
        for action in checks.actions(statement)
    }


def _hosted_origin(stack: QuietlineStack) -> dict[str, Any]:
    """https://<the inbox distribution's domain>, as CloudFormation renders it."""
    assert stack.web is not None, "the default configuration hosts the inbox"
    distribution = logical_id(stack.web.distribution)
    return {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution, "DomainName"]}]]}


def _quoted(origin: dict[str, Any]) -> dict[str, Any]:
    """The origin as a header value API Gateway sends: in single quotes."""
    scheme, domain = origin["Fn::Join"][1]
    return {"Fn::Join": ["", ["'" + scheme, domain, "'"]]}


@pytest.fixture(scope="module")
def no_inbox() -> tuple[QuietlineStack, Template]:
    """Construction only (no nag run): no inbox here (web off) and none elsewhere."""
    app = plain_app()
    env = cdk.Environment(account=ACCOUNT, region=REGION)
    stack = QuietlineStack(app, "Quietline", config=make_config(web={"enabled": False}), env=env)
    return stack, Template.from_stack(stack)


@pytest.fixture(scope="module")
def tw_stack(twilio: Synthesized) -> QuietlineStack:
    return quietline_stack(twilio)


# --- routes ----------------------------------------------------------------------------------
def test_every_route_is_a_method_and_only_public_routes_skip_the_authorizer(
    stack: QuietlineStack, app_template: Template
) -> None:
    api = stack.staff_api
    uri = {"Fn::Join": ["", Match.array_with([arn(api.function.function)])]}

    staff_methods = _method_paths(
        app_template, api, {"HttpMethod": Match.not_("OPTIONS"), "Integration": {"Uri": uri}}
    )
    assert sorted(staff_methods) == sorted((route.method, route.path) for route in ROUTES)
    paths = api_paths(app_template, api.api)
    for route in ROUTES:
        method = _method(app_template, api, route.method, paths[route.path])
        if route.public:
            method.has_properties({"AuthorizationType": "NONE", "AuthorizerId": Match.absent()})
        else:
            method.has_properties(
                {"AuthorizationType": "COGNITO_USER_POOLS", "AuthorizerId": ref(api.authorizer)}
            )
        method.has_properties({"Integration": {"Type": "AWS_PROXY", "Uri": uri}})


def test_the_only_public_routes_are_the_openapi_document_and_the_session_routes() -> None:
    # The session routes authenticate by the HttpOnly refresh cookie, not an ID token.
    assert {(r.method, r.path) for r in ROUTES if r.public} == {
        ("GET", "/openapi.json"),
        ("POST", "/session"),
        ("POST", "/session/refresh"),
        ("DELETE", "/session"),
    }


def test_authorizer_checks_cognito_tokens_of_this_pool_without_caching_verdicts(
    stack: QuietlineStack, app_template: Template
) -> None:
    resource(app_template, stack.staff_api.authorizer).has_properties(
        {
            "Type": "COGNITO_USER_POOLS",
            "IdentitySource": "method.request.header.Authorization",
            "ProviderARNs": [arn(stack.identity.user_pool)],
            # A revoked or disabled user is refused at once, not after a cache TTL.
            "AuthorizerResultTtlInSeconds": 0,
        }
    )


def test_only_the_stage_may_invoke_the_api_function(
    stack: QuietlineStack, app_template: Template
) -> None:
    # One permission for the whole stage (the function authorizes every route itself):
    # one per method cost ~70 of CloudFormation's 500 resources per stack.
    api = stack.staff_api
    (permission,) = every_resource(
        app_template, "AWS::Lambda::Permission", {"FunctionName": arn(api.function.function)}
    )

    source = Capture()
    permission.has_properties({"Principal": "apigateway.amazonaws.com", "SourceArn": source})
    assert logical_id(api.api) in json.dumps(source.as_object())
    # The deployed stage, not the console's test-invoke stage "*".
    assert logical_id(api.stage) in json.dumps(source.as_object())


def test_every_route_reaches_the_api_function_as_a_lambda_proxy(
    stack: QuietlineStack, app_template: Template
) -> None:
    api = stack.staff_api
    for method in api.methods.values():
        integration = Capture()
        resource(app_template, method).has_properties({"Integration": integration})
        assert integration.as_object()["Type"] == "AWS_PROXY"
        assert integration.as_object()["IntegrationHttpMethod"] == "POST"
        assert logical_id(api.function.function) in json.dumps(integration.as_object()["Uri"])


# --- stage -------------------------------------------------------------------------------------
def test_stage_logs_traces_throttles_and_never_caches_or_logs_bodies(
    stack: QuietlineStack, app_template: Template
) -> None:
    api = stack.staff_api
    stage = resource(app_template, api.stage)
    check_regional_stage(stage)
    log_format = Capture()
    stage.has_properties(
        {"AccessLogSetting": {"DestinationArn": arn(api.access_logs), "Format": log_format}}
    )
    assert set(json.loads(log_format.as_string())) == ACCESS_LOG_FIELDS
    for forbidden in ("$input", "body", "querystring", "queryString", "$context.path"):
        assert forbidden not in log_format.as_string()


def test_stage_waits_for_its_encrypted_log_groups_and_the_account_role(
    stack: QuietlineStack, app_template: Template
) -> None:
    api = stack.staff_api
    for group in (api.access_logs, api.execution_logs):
        retention = Capture()
        resource(app_template, group).has(
            {
                "Properties": {
                    "KmsKeyId": arn(stack.platform_key.key),
                    "RetentionInDays": retention,
                },
                "DeletionPolicy": "Retain",
            }
        )
        assert retention.as_number() >= 2190
    name = Capture()
    resource(app_template, api.execution_logs).has_properties(
        {"LogGroupName": {"Fn::Join": ["", name]}}
    )
    assert name.as_array()[:2] == ["API-Gateway-Execution-Logs_", ref(api.api)]
    depends_on = Capture()
    resource(app_template, api.stage).has({"DependsOn": depends_on})
    assert logical_id(api.execution_logs) in depends_on.as_array()
    assert logical_id(stack.api_account.account) in depends_on.as_array()


def test_one_account_level_cloudwatch_role_serves_every_api(app_template: Template) -> None:
    single(app_template, "AWS::ApiGateway::Account", {}).has({"DeletionPolicy": "Retain"})


# --- gateway responses and CORS ------------------------------------------------------------------
def test_gateway_401_and_403_are_json_and_never_cached(
    stack: QuietlineStack, app_template: Template
) -> None:
    api_ref = ref(stack.staff_api.api)
    response_type = Capture()
    app_template.find_resources(
        "AWS::ApiGateway::GatewayResponse",
        {"Properties": {"RestApiId": api_ref, "ResponseType": response_type}},
    )
    assert {"UNAUTHORIZED", "ACCESS_DENIED", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(
        every_capture(response_type, Capture.as_string)
    )

    for response in every_resource(
        app_template, "AWS::ApiGateway::GatewayResponse", {"RestApiId": api_ref}
    ):
        body = Capture()
        response.has_properties(
            {
                "ResponseParameters": {
                    "gatewayresponse.header.Cache-Control": "'no-store'",
                    # The inbox (its CloudFront origin) may read why a call failed; no other.
                    "gatewayresponse.header.Access-Control-Allow-Origin": Match.exact(
                        _quoted(_hosted_origin(stack))
                    ),
                },
                "ResponseTemplates": {"application/json": body},
            }
        )
        # JSON once API Gateway substitutes its (already quoted) error message.
        message = body.as_string().replace("$context.error.messageString", '"?"')
        assert set(json.loads(message)) == {"error"}


def test_without_an_inbox_there_is_no_cors_and_no_secure_message_path(
    no_inbox: tuple[QuietlineStack, Template],
) -> None:
    stack, template = no_inbox
    api = stack.staff_api
    template.resource_properties_count_is(
        "AWS::ApiGateway::Method", {"RestApiId": ref(api.api), "HttpMethod": "OPTIONS"}, 0
    )
    assert "Access-Control-Allow-Origin" not in json.dumps(template.to_json()["Resources"])
    assert stack.web is None and stack.secure_links is None
    assert not any(path.startswith("/secure/") for path in api_paths(template, api.api))


def test_cors_admits_only_the_hosted_inbox(
    stack: QuietlineStack, app_template: Template, template: dict[str, Any]
) -> None:
    api = stack.staff_api
    preflight = {"HttpMethod": "OPTIONS"}

    assert {route.path for route in ROUTES} <= {
        path for _, path in _method_paths(app_template, api, preflight)
    }
    for method in every_resource(
        app_template, "AWS::ApiGateway::Method", {**preflight, "RestApiId": ref(api.api)}
    ):
        method.has_properties(
            {
                "Integration": {
                    "IntegrationResponses": [
                        {
                            "ResponseParameters": {
                                "method.response.header.Access-Control-Allow-Origin": Match.exact(
                                    _quoted(_hosted_origin(stack))
                                ),
                                # The inbox's token, nothing else custom (the secure
                                # page's session header belongs to its own API).
                                "method.response.header.Access-Control-Allow-Headers": (
                                    "'Authorization,Content-Type'"
                                ),
                            }
                        }
                    ]
                }
            }
        )
    assert "'*'" not in json.dumps(template["Resources"])


@twilio_group
def test_cors_admits_only_the_inbox_origin(
    tw_stack: QuietlineStack, twilio_template: Template, twilio: Synthesized
) -> None:
    api = tw_stack.staff_api
    preflight = {"HttpMethod": "OPTIONS"}
    allowed = f"'{INBOX_ORIGIN}'"

    assert {route.path for route in ROUTES} <= {
        path for _, path in _method_paths(twilio_template, api, preflight)
    }
    for method in every_resource(
        twilio_template, "AWS::ApiGateway::Method", {**preflight, "RestApiId": ref(api.api)}
    ):
        method.has_properties(
            {
                "Integration": {
                    "IntegrationResponses": [
                        {
                            "ResponseParameters": {
                                "method.response.header.Access-Control-Allow-Origin": allowed
                            }
                        }
                    ]
                }
            }
        )
    for response in every_resource(
        twilio_template, "AWS::ApiGateway::GatewayResponse", {"RestApiId": ref(api.api)}
    ):
        response.has_properties(
            {"ResponseParameters": {"gatewayresponse.header.Access-Control-Allow-Origin": allowed}}
        )
    assert "'*'" not in json.dumps(twilio.templates["Quietline"]["Resources"])


@twilio_group
def test_with_waf_on_the_staff_stage_has_its_own_web_acl(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    firewall = tw_stack.staff_api.firewall
    assert firewall is not None, "the twilio variant turns WAF on"
    association = Capture()

    single(
        twilio_template,
        "AWS::WAFv2::WebACLAssociation",
        {"WebACLArn": arn(firewall.web_acl), "ResourceArn": association},
    )

    assert logical_id(tw_stack.staff_api.stage) in json.dumps(association.as_object())


# --- the API function ---------------------------------------------------------------------------
def test_api_function_runs_the_api_handler_briefly(
    stack: QuietlineStack, app_template: Template
) -> None:
    handler = "functions.handlers.api.handler"
    resource(app_template, stack.staff_api.function.function).has_properties(
        {"Handler": handler, "Timeout": 10, "MemorySize": 512}
    )

    module, attribute = handler.rsplit(".", 1)
    assert callable(getattr(importlib.import_module(module), attribute))


def test_api_function_gets_exactly_the_settings_its_code_reads(
    stack: QuietlineStack, app_template: Template
) -> None:
    function = stack.staff_api.function
    variables = checks.function_variables(app_template, function)

    ours = {key for key in variables if not key.startswith(checks.POWERTOOLS_PREFIX)}
    assert ours == EXPECTED_ENVIRONMENT
    resource(app_template, function.function).has_properties(
        {
            "Environment": {
                "Variables": {
                    E.ENV_TABLE_NAME: ref(stack.message_store.table),
                    E.ENV_AUDIT_TABLE_NAME: ref(stack.audit_log.table),
                    E.ENV_USER_POOL_ID: ref(stack.identity.user_pool),
                    E.ENV_USER_POOL_CLIENT_ID: ref(stack.identity.client),
                    E.ENV_OUTBOUND_QUEUE_URL: ref(stack.queues.outbound.queue),
                    E.ENV_CARRIER: "aws",
                    # The defaults (docs/configuration.md): 15 idle minutes, 300 reads in
                    # 15 minutes, audit records kept six years.
                    E.ENV_IDLE_TIMEOUT_MINUTES: "15",
                    E.ENV_UNUSUAL_READS_THRESHOLD: "300",
                    E.ENV_AUDIT_RETENTION_DAYS: "2190",
                    E.ENV_PHONE_REGION: "US",  # national numbers typed by staff read as US
                    E.ENV_INBOX_ORIGIN: Match.exact(_hosted_origin(stack)),
                    E.ENV_SECURE_LINK_BASE_URL: Match.exact(_hosted_origin(stack)),
                }
            }
        }
    )


def test_the_deployed_environment_satisfies_the_api_settings_code(
    stack: QuietlineStack, app_template: Template
) -> None:
    function = stack.staff_api.function
    parsed = checks.deployed_settings(
        checks.function_variables(app_template, function),
        checks.function_handler(app_template, function),
    )
    assert parsed.audit_retention_days == stack.config.audit_retention_days
    assert parsed.idle_timeout_minutes == stack.config.idle_timeout_minutes


def test_api_role_may_use_the_message_table_exactly_and_never_scan(
    stack: QuietlineStack, app_template: Template
) -> None:
    statements = _statements(app_template, stack)

    on_table = _actions_on(statements, [arn(stack.message_store.table)])
    assert on_table == MESSAGE_TABLE_ACTIONS
    assert "dynamodb:Scan" not in {a for s in statements for a in checks.actions(s)}


def test_api_role_may_only_append_to_and_read_the_audit_table(
    stack: QuietlineStack, app_template: Template
) -> None:
    audit = stack.audit_log
    table_arn = arn(audit.table)
    statements = _statements(app_template, stack)

    on_table = _actions_on(statements, [table_arn])
    assert on_table == {"dynamodb:PutItem"} | AUDIT_READ_ACTIONS
    for index_name in audit.index_names:
        index_arn = {"Fn::Join": ["", [table_arn, f"/index/{index_name}"]]}
        assert _actions_on(statements, [index_arn]) == AUDIT_READ_ACTIONS


def test_no_role_in_the_app_may_change_or_delete_an_audit_record(
    stack: QuietlineStack, app_template: Template
) -> None:
    # The chain is append-only by IAM: whoever may touch the table may only create links.
    table_id = logical_id(stack.audit_log.table)
    touching = 0
    for statement in checks.all_policy_statements(app_template):
        if statement["Effect"] != "Allow":
            continue
        resources_ = as_list(statement["Resource"])
        if table_id in json.dumps(resources_):
            touching += 1
            assert not checks.actions(statement) & AUDIT_WRITES_NEVER_ALLOWED, statement
        if "*" in resources_:
            assert not any(a.startswith("dynamodb:") for a in checks.actions(statement))
    assert touching


def test_api_role_gets_new_and_old_data_keys_of_every_tenant_under_its_context(
    stack: QuietlineStack, app_template: Template
) -> None:
    grants = checks.tenant_key_statements(stack, _statements(app_template, stack))
    by_key: dict[str, set[str]] = {}
    for grant in grants:
        by_key.setdefault(json.dumps(grant["Resource"]), set()).update(checks.actions(grant))

    assert len(by_key) == len(stack.tenant_keys.keys)
    assert all(found == {"kms:Decrypt", "kms:GenerateDataKey"} for found in by_key.values())
    checks.check_tenant_key_grants_name_their_tenant(stack, app_template)


def test_api_role_uses_the_platform_key_only_through_aws_services(
    stack: QuietlineStack, app_template: Template
) -> None:
    platform = arn(stack.platform_key.key)
    for statement in _statements(app_template, stack):
        if statement["Resource"] == platform:
            via = statement["Condition"]["StringEquals"]["kms:ViaService"]
            assert via.split(".")[0] in {"sqs", "dynamodb"}


def test_api_role_may_queue_texts_but_not_consume_them(
    stack: QuietlineStack, app_template: Template
) -> None:
    statements = _statements(app_template, stack)

    assert _actions_on(statements, [arn(stack.queues.outbound.queue)]) == {"sqs:SendMessage"}
    assert _actions_on(statements, [arn(stack.queues.retry.queue)]) == set()


def test_api_role_manages_staff_in_this_pool_only(
    stack: QuietlineStack, app_template: Template
) -> None:
    pool_arn = arn(stack.identity.user_pool)
    cognito = [
        s
        for s in _statements(app_template, stack)
        if any(a.startswith("cognito-idp:") for a in checks.actions(s))
    ]

    assert {a for s in cognito for a in checks.actions(s)} == STAFF_ADMIN_ACTIONS
    for statement in cognito:
        assert statement["Resource"] == pool_arn
    # Only the API may manage staff accounts.
    checks.check_exclusive_action(
        app_template, "cognito-idp:AdminCreateUser", {logical_id(stack.staff_api.function.role)}
    )


# --- alarms --------------------------------------------------------------------------------------
def test_unusual_read_volume_raises_the_breach_early_warning(
    stack: QuietlineStack, app_template: Template
) -> None:
    resource(app_template, stack.staff_api.unusual_reads_alarm).has_properties(
        {
            "MetricName": "UnusualReadVolume",
            "Namespace": "Quietline",
            "Dimensions": Match.exact([{"Name": "service", "Value": "quietline"}]),
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "Threshold": 1,
            "AlarmActions": [ref(stack.alarms.topic)],
        }
    )


def test_the_alarmed_read_metric_is_emitted_by_the_code() -> None:
    from functions.logic import read_watch

    assert 'count("UnusualReadVolume")' in inspect.getsource(read_watch)


def test_server_errors_of_the_staff_stage_alone_alarm_the_topic(
    stack: QuietlineStack, app_template: Template
) -> None:
    api = stack.staff_api
    resource(app_template, api.server_error_alarm).has_properties(
        {
            "Namespace": "AWS/ApiGateway",
            "MetricName": "5XXError",
            # The staff API's name and stage: the public APIs' answers are not counted.
            "Dimensions": Match.exact(
                [
                    {"Name": "ApiName", "Value": "Quietline-staff-api"},
                    {"Name": "Stage", "Value": ref(api.stage)},
                ]
            ),
            "Statistic": "Sum",
            "Threshold": 1,
            "AlarmActions": [ref(stack.alarms.topic)],
        }
    )
    resource(app_template, api.api).has_properties({"Name": "Quietline-staff-api"})


def test_no_route_of_the_staff_api_is_a_secure_link_route(
    stack: QuietlineStack, app_template: Template
) -> None:
    # Given the hosted inbox, whose clients open secure links
    assert stack.secure_links is not None
    # Then the staff stage serves none of their routes: they cannot reach its alarms
    paths = api_paths(app_template, stack.staff_api.api)
    assert not any(path.startswith("/secure") for path in paths)


# --- outputs --------------------------------------------------------------------------------------
def test_outputs_give_the_inbox_the_api_url_and_the_pool(
    stack: QuietlineStack, app_template: Template
) -> None:
    parts = Capture()
    app_template.has_output("ApiUrl", {"Value": {"Fn::Join": ["", parts]}})
    assert ref(stack.staff_api.api) in parts.as_array()
    assert parts.as_array()[-1] == "/prod"
    app_template.has_output("UserPoolId", {"Value": ref(stack.identity.user_pool)})
    app_template.has_output("UserPoolClientId", {"Value": ref(stack.identity.client)})
    # CDK's generic "<api>Endpoint" output is removed: ApiUrl is the one.
    assert not any(key.startswith("StaffApi") for key in app_template.find_outputs("*"))
