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
from aws_cdk.assertions import Template

from functions.core import settings
from functions.handlers.api import ROUTES
from functions.handlers.secure_link import SESSION_HEADER
from infra.constructs.audit import AUDIT_APPEND_ACTIONS, AUDIT_READ_ACTIONS
from infra.constructs.identity import ADMIN_ACTIONS
from infra.constructs.rest_api import ACCESS_LOG_FIELDS, STAGE_NAME
from infra.constructs.staff_api import API_HANDLER, UNUSUAL_READ_METRIC, StaffApi
from infra.stack import QuietlineStack
from tests.infra import messaging_checks as checks
from tests.infra.conftest import (
    ACCOUNT,
    INBOX_ORIGIN,
    REGION,
    Synthesized,
    as_list,
    get_att_arn,
    logical_id,
    make_config,
    only_template,
    plain_app,
    quietline_stack,
    resources,
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
    E.ENV_IDLE_TIMEOUT_MINUTES,
    E.ENV_UNUSUAL_READS_THRESHOLD,
    E.ENV_AUDIT_TABLE_NAME,
    E.ENV_AUDIT_RETENTION_DAYS,
    # The inbox is hosted here by default: CORS for its origin, the base of secure links.
    E.ENV_INBOX_ORIGIN,
    E.ENV_SECURE_LINK_BASE_URL,
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
AUDIT_WRITES_NEVER_ALLOWED = {
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
    "dynamodb:DeleteTable",
    "dynamodb:UpdateTable",
}


def _props(template: dict[str, Any], construct: Any) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"][logical_id(construct)]["Properties"]
    return found


def _of_api(template: dict[str, Any], resource_type: str, api: StaffApi) -> list[dict[str, Any]]:
    api_ref = {"Ref": logical_id(api.api)}
    return [
        r["Properties"]
        for r in resources(template, resource_type).values()
        if r["Properties"].get("RestApiId") == api_ref
    ]


def _resource_path(template: dict[str, Any], resource_id: str) -> str:
    props = template["Resources"][resource_id]["Properties"]
    parent = props["ParentId"]
    prefix = "" if "Fn::GetAtt" in parent else _resource_path(template, parent["Ref"])
    return f"{prefix}/{props['PathPart']}"


def _methods(template: dict[str, Any], api: StaffApi) -> dict[tuple[str, str], dict[str, Any]]:
    """(HTTP method, path) -> Method properties; methods on the root have path "/"."""
    found = {}
    for method in _of_api(template, "AWS::ApiGateway::Method", api):
        resource = method["ResourceId"]
        path = "/" if "Fn::GetAtt" in resource else _resource_path(template, resource["Ref"])
        found[(method["HttpMethod"], path)] = method
    return found


def _statements(template: dict[str, Any], stack: QuietlineStack) -> list[dict[str, Any]]:
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
    assert stack.web is not None
    distribution = logical_id(stack.web.distribution)
    return {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution, "DomainName"]}]]}


@pytest.fixture(scope="module")
def no_inbox() -> tuple[QuietlineStack, dict[str, Any]]:
    """Construction only (no nag run): no inbox here (web off) and none elsewhere."""
    app = plain_app()
    env = cdk.Environment(account=ACCOUNT, region=REGION)
    stack = QuietlineStack(app, "Quietline", config=make_config(web={"enabled": False}), env=env)
    return stack, Template.from_stack(stack).to_json()


@pytest.fixture(scope="module")
def tw_stack(twilio: Synthesized) -> QuietlineStack:
    return quietline_stack(twilio)


@pytest.fixture(scope="module")
def tw_template(twilio: Synthesized) -> dict[str, Any]:
    return only_template(twilio)


# --- routes ----------------------------------------------------------------------------------
def test_every_route_is_a_method_and_only_public_routes_skip_the_authorizer(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    api = stack.staff_api
    methods = _methods(template, api)
    authorizer = {"Ref": logical_id(api.authorizer)}
    function_arn = get_att_arn(logical_id(api.function.function))

    staff_methods = {
        key
        for key, method in methods.items()
        if key[0] != "OPTIONS" and function_arn in method["Integration"]["Uri"]["Fn::Join"][1]
    }
    assert staff_methods == {(route.method, route.path) for route in ROUTES}
    for route in ROUTES:
        method = methods[(route.method, route.path)]
        if route.public:
            assert method["AuthorizationType"] == "NONE", route
            assert "AuthorizerId" not in method
        else:
            assert method["AuthorizationType"] == "COGNITO_USER_POOLS", route
            assert method["AuthorizerId"] == authorizer, route
        assert method["Integration"]["Type"] == "AWS_PROXY"
        assert function_arn in method["Integration"]["Uri"]["Fn::Join"][1]


def test_the_only_public_route_is_the_openapi_document() -> None:
    assert [(r.method, r.path) for r in ROUTES if r.public] == [("GET", "/openapi.json")]


def test_authorizer_checks_cognito_tokens_of_this_pool_without_caching_verdicts(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    authorizer = _props(template, stack.staff_api.authorizer)

    assert authorizer["Type"] == "COGNITO_USER_POOLS"
    assert authorizer["IdentitySource"] == "method.request.header.Authorization"
    assert authorizer["ProviderARNs"] == [get_att_arn(logical_id(stack.identity.user_pool))]
    # A revoked or disabled user is refused at once, not after a cache TTL.
    assert authorizer["AuthorizerResultTtlInSeconds"] == 0


def test_only_the_stage_may_invoke_the_api_function_method_by_method(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    api = stack.staff_api
    function_arn = get_att_arn(logical_id(api.function.function))
    permissions = [
        p["Properties"]
        for p in resources(template, "AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == function_arn
    ]

    assert len(permissions) == len(ROUTES)
    for permission in permissions:
        assert permission["Principal"] == "apigateway.amazonaws.com"
        source = json.dumps(permission["SourceArn"])
        assert logical_id(api.api) in source
        assert logical_id(api.stage) in source  # not the test-invoke-stage "*"


# --- stage -------------------------------------------------------------------------------------
def test_stage_logs_traces_throttles_and_never_caches_or_logs_bodies(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    api = stack.staff_api
    stage = _props(template, api.stage)

    assert stage["StageName"] == STAGE_NAME
    assert stage["TracingEnabled"] is True
    assert stage.get("CacheClusterEnabled") in (None, False)
    (method_settings,) = stage["MethodSettings"]
    assert (method_settings["HttpMethod"], method_settings["ResourcePath"]) == ("*", "/*")
    assert method_settings["DataTraceEnabled"] is False
    assert method_settings["CachingEnabled"] is False
    assert method_settings["LoggingLevel"] == "INFO"
    assert 0 < method_settings["ThrottlingRateLimit"] <= method_settings["ThrottlingBurstLimit"]
    access = stage["AccessLogSetting"]
    assert access["DestinationArn"] == get_att_arn(logical_id(api.access_logs))
    assert set(json.loads(access["Format"])) == set(ACCESS_LOG_FIELDS)
    for forbidden in ("$input", "body", "querystring", "queryString", "$context.path"):
        assert forbidden not in access["Format"]


def test_stage_waits_for_its_encrypted_log_groups_and_the_account_role(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    api = stack.staff_api
    platform_key = get_att_arn(logical_id(stack.platform_key.key))
    for group in (api.access_logs, api.execution_logs):
        resource = template["Resources"][logical_id(group)]
        assert resource["Properties"]["KmsKeyId"] == platform_key
        assert resource["Properties"]["RetentionInDays"] >= 2190
        assert resource["DeletionPolicy"] == "Retain"
    name = _props(template, api.execution_logs)["LogGroupName"]["Fn::Join"][1]
    assert name[0] == "API-Gateway-Execution-Logs_"
    assert name[1] == {"Ref": logical_id(api.api)}
    depends_on = template["Resources"][logical_id(api.stage)]["DependsOn"]
    assert logical_id(api.execution_logs) in depends_on
    assert logical_id(stack.api_account.account) in depends_on


def test_one_account_level_cloudwatch_role_serves_every_api(template: dict[str, Any]) -> None:
    (account,) = resources(template, "AWS::ApiGateway::Account").values()
    assert account["DeletionPolicy"] == "Retain"


# --- gateway responses and CORS ------------------------------------------------------------------
def _gateway_responses(template: dict[str, Any], api: StaffApi) -> dict[str, dict[str, Any]]:
    return {
        response["ResponseType"]: response
        for response in _of_api(template, "AWS::ApiGateway::GatewayResponse", api)
    }


def test_gateway_401_and_403_are_json_and_never_cached(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    responses = _gateway_responses(template, stack.staff_api)

    assert {"UNAUTHORIZED", "ACCESS_DENIED", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
    for response in responses.values():
        headers = response["ResponseParameters"]
        assert headers["gatewayresponse.header.Cache-Control"] == "'no-store'"
        # The inbox (its CloudFront origin) may read why a call failed; no other origin.
        origin = _hosted_origin(stack)["Fn::Join"][1]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == {
            "Fn::Join": ["", ["'" + origin[0], origin[1], "'"]]
        }
        # JSON once API Gateway substitutes its (already quoted) error message.
        body = response["ResponseTemplates"]["application/json"]
        assert set(json.loads(body.replace("$context.error.messageString", '"?"'))) == {"error"}


def test_without_an_inbox_there_is_no_cors_and_no_secure_message_path(
    no_inbox: tuple[QuietlineStack, dict[str, Any]],
) -> None:
    stack, template = no_inbox
    methods = _methods(template, stack.staff_api)
    assert not any(http_method == "OPTIONS" for http_method, _ in methods)
    assert "Access-Control-Allow-Origin" not in json.dumps(template["Resources"])
    assert stack.web is None and stack.staff_api.secure_links is None
    assert not any(path.startswith("/secure/") for _, path in methods)


def test_cors_admits_only_the_hosted_inbox(stack: QuietlineStack, template: dict[str, Any]) -> None:
    methods = _methods(template, stack.staff_api)
    preflights = {path: m for (verb, path), m in methods.items() if verb == "OPTIONS"}
    origin = _hosted_origin(stack)["Fn::Join"][1]

    assert {route.path for route in ROUTES} <= set(preflights)
    for preflight in preflights.values():
        (response,) = preflight["Integration"]["IntegrationResponses"]
        allowed = response["ResponseParameters"][
            "method.response.header.Access-Control-Allow-Origin"
        ]
        assert allowed == {"Fn::Join": ["", ["'" + origin[0], origin[1], "'"]]}
        headers = response["ResponseParameters"][
            "method.response.header.Access-Control-Allow-Headers"
        ]
        # The inbox's token and the secure page's session header, nothing else custom.
        assert headers == f"'Authorization,{SESSION_HEADER},Content-Type'"
    assert "'*'" not in json.dumps(template["Resources"])


@twilio_group
def test_cors_admits_only_the_inbox_origin(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    api = tw_stack.staff_api
    methods = _methods(tw_template, api)
    preflights = {path: m for (verb, path), m in methods.items() if verb == "OPTIONS"}

    assert {route.path for route in ROUTES} <= set(preflights)
    for preflight in preflights.values():
        (response,) = preflight["Integration"]["IntegrationResponses"]
        allowed = response["ResponseParameters"][
            "method.response.header.Access-Control-Allow-Origin"
        ]
        assert allowed == f"'{INBOX_ORIGIN}'"
    for response in _gateway_responses(tw_template, api).values():
        headers = response["ResponseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == f"'{INBOX_ORIGIN}'"
    assert "'*'" not in json.dumps(tw_template["Resources"])


@twilio_group
def test_with_waf_on_the_staff_stage_has_its_own_web_acl(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    firewall = tw_stack.staff_api.firewall
    assert firewall is not None
    acl_arn = get_att_arn(logical_id(firewall.web_acl))
    (association,) = [
        a["Properties"]
        for a in resources(tw_template, "AWS::WAFv2::WebACLAssociation").values()
        if a["Properties"]["WebACLArn"] == acl_arn
    ]
    assert logical_id(tw_stack.staff_api.stage) in json.dumps(association["ResourceArn"])


# --- the API function ---------------------------------------------------------------------------
def test_api_function_runs_the_api_handler_briefly(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    function = _props(template, stack.staff_api.function.function)
    module, attribute = function["Handler"].rsplit(".", 1)

    assert function["Handler"] == API_HANDLER
    assert callable(getattr(importlib.import_module(module), attribute))
    assert function["Timeout"] == 10
    assert function["MemorySize"] == 512


def test_api_function_gets_exactly_the_settings_its_code_reads(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    variables = _props(template, stack.staff_api.function.function)["Environment"]["Variables"]
    ours = {key for key in variables if not key.startswith(checks.POWERTOOLS_PREFIX)}

    assert ours == EXPECTED_ENVIRONMENT
    assert variables[E.ENV_TABLE_NAME] == {"Ref": logical_id(stack.message_store.table)}
    assert variables[E.ENV_AUDIT_TABLE_NAME] == {"Ref": logical_id(stack.audit_log.table)}
    assert variables[E.ENV_USER_POOL_ID] == {"Ref": logical_id(stack.identity.user_pool)}
    assert variables[E.ENV_OUTBOUND_QUEUE_URL] == {"Ref": logical_id(stack.queues.outbound.queue)}
    assert variables[E.ENV_CARRIER] == stack.config.carrier
    assert variables[E.ENV_IDLE_TIMEOUT_MINUTES] == str(stack.config.idle_timeout_minutes)
    assert variables[E.ENV_UNUSUAL_READS_THRESHOLD] == str(
        stack.config.unusual_reads_per_15_minutes
    )
    assert variables[E.ENV_AUDIT_RETENTION_DAYS] == str(stack.config.audit_retention_days)
    assert variables[E.ENV_INBOX_ORIGIN] == _hosted_origin(stack)
    assert variables[E.ENV_SECURE_LINK_BASE_URL] == _hosted_origin(stack)


def test_the_deployed_environment_satisfies_the_api_settings_code(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    function = template["Resources"][logical_id(stack.staff_api.function.function)]
    parsed = checks.deployed_settings(function)
    assert parsed.audit_retention_days == stack.config.audit_retention_days
    assert parsed.idle_timeout_minutes == stack.config.idle_timeout_minutes


def test_the_deployed_environment_satisfies_the_secure_page_settings_code(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    function = template["Resources"][logical_id(stack.staff_api.secure_links.function)]
    parsed = checks.deployed_settings(function)
    assert parsed.secure_link_base_url == "resolved-" + E.ENV_SECURE_LINK_BASE_URL


def test_api_role_may_use_the_message_table_exactly_and_never_scan(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    table_arn = get_att_arn(logical_id(stack.message_store.table))
    statements = _statements(template, stack)

    on_table = _actions_on(statements, [table_arn])
    assert on_table == MESSAGE_TABLE_ACTIONS
    assert "dynamodb:Scan" not in {a for s in statements for a in checks.actions(s)}


def test_api_role_may_only_append_to_and_read_the_audit_table(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    audit = stack.audit_log
    table_arn = get_att_arn(logical_id(audit.table))
    statements = _statements(template, stack)

    on_table = _actions_on(statements, [table_arn])
    assert on_table == set(AUDIT_APPEND_ACTIONS) | set(AUDIT_READ_ACTIONS)
    assert set(AUDIT_APPEND_ACTIONS) == {"dynamodb:PutItem"}
    for index_name in audit.index_names:
        index_arn = {"Fn::Join": ["", [table_arn, f"/index/{index_name}"]]}
        assert _actions_on(statements, [index_arn]) == set(AUDIT_READ_ACTIONS)


def test_no_role_in_the_app_may_change_or_delete_an_audit_record(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    # The chain is append-only by IAM: whoever may touch the table may only create links.
    table_id = logical_id(stack.audit_log.table)
    touching = 0
    for statement in checks.all_policy_statements(template):
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
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    grants = checks.tenant_key_statements(stack, _statements(template, stack))
    by_key: dict[str, set[str]] = {}
    for grant in grants:
        by_key.setdefault(json.dumps(grant["Resource"]), set()).update(checks.actions(grant))

    assert len(by_key) == len(stack.tenant_keys.keys)
    assert all(found == {"kms:Decrypt", "kms:GenerateDataKey"} for found in by_key.values())
    checks.check_tenant_key_grants_name_their_tenant(stack, template)


def test_api_role_uses_the_platform_key_only_through_aws_services(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    platform = get_att_arn(logical_id(stack.platform_key.key))
    for statement in _statements(template, stack):
        if statement["Resource"] == platform:
            via = statement["Condition"]["StringEquals"]["kms:ViaService"]
            assert via.split(".")[0] in {"sqs", "dynamodb"}


def test_api_role_may_queue_texts_but_not_consume_them(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    outbound = get_att_arn(logical_id(stack.queues.outbound.queue))
    statements = _statements(template, stack)

    assert _actions_on(statements, [outbound]) == {"sqs:SendMessage"}
    retry = get_att_arn(logical_id(stack.queues.retry.queue))
    assert _actions_on(statements, [retry]) == set()


def test_api_role_manages_staff_in_this_pool_only(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    pool_arn = get_att_arn(logical_id(stack.identity.user_pool))
    cognito = [
        s
        for s in _statements(template, stack)
        if any(a.startswith("cognito-idp:") for a in checks.actions(s))
    ]

    assert {a for s in cognito for a in checks.actions(s)} == set(ADMIN_ACTIONS)
    for statement in cognito:
        assert statement["Resource"] == pool_arn
    # Only the API may manage staff accounts.
    checks.check_exclusive_action(
        template, "cognito-idp:AdminCreateUser", {logical_id(stack.staff_api.function.role)}
    )


# --- alarms --------------------------------------------------------------------------------------
def test_unusual_read_volume_raises_the_breach_early_warning(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    alarm = _props(template, stack.staff_api.unusual_reads_alarm)

    assert alarm["MetricName"] == UNUSUAL_READ_METRIC
    assert alarm["Namespace"] == "Quietline"
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "quietline"}]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "GreaterThanOrEqualToThreshold",
        1,
    )
    assert alarm["AlarmActions"] == [{"Ref": logical_id(stack.alarms.topic)}]


def test_the_alarmed_read_metric_is_emitted_by_the_code() -> None:
    from functions.logic import read_watch

    assert f'count("{UNUSUAL_READ_METRIC}")' in inspect.getsource(read_watch)


def test_server_errors_of_the_stage_alarm_the_topic(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    api = stack.staff_api
    alarm = _props(template, api.server_error_alarm)

    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/ApiGateway", "5XXError")
    assert {"Name": "Stage", "Value": {"Ref": logical_id(api.stage)}} in alarm["Dimensions"]
    assert alarm["Statistic"] == "Sum"
    assert alarm["AlarmActions"] == [{"Ref": logical_id(stack.alarms.topic)}]


# --- outputs --------------------------------------------------------------------------------------
def test_outputs_give_the_inbox_the_api_url_and_the_pool(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    outputs = template["Outputs"]

    parts = outputs["ApiUrl"]["Value"]["Fn::Join"][1]
    assert {"Ref": logical_id(stack.staff_api.api)} in parts
    assert parts[-1] == f"/{STAGE_NAME}"
    assert outputs["UserPoolId"]["Value"] == {"Ref": logical_id(stack.identity.user_pool)}
    assert outputs["UserPoolClientId"]["Value"] == {"Ref": logical_id(stack.identity.client)}
    # CDK's generic "<api>Endpoint" output is removed: ApiUrl is the one.
    assert not any(key.startswith("StaffApi") for key in outputs)


def test_secure_links_point_at_the_hosted_inbox(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    function = stack.staff_api.secure_links
    assert function is not None and function.role is not stack.staff_api.function.role
    variables = _props(template, function.function)["Environment"]["Variables"]
    assert variables["QUIETLINE_SECURE_LINK_BASE_URL"] == _hosted_origin(stack)
    # Its answers must be readable by the secure page (another origin than the API).
    assert variables["QUIETLINE_INBOX_ORIGIN"] == _hosted_origin(stack)


@twilio_group
def test_secure_message_routes_are_public_and_served_by_their_own_function(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    function = tw_stack.staff_api.secure_links
    assert function is not None and function.role is not tw_stack.staff_api.function.role
    variables = _props(tw_template, function.function)["Environment"]["Variables"]
    assert variables["QUIETLINE_SECURE_LINK_BASE_URL"] == tw_stack.config.inbox_origin
    api_ref = {"Ref": logical_id(tw_stack.staff_api.api)}
    unauthenticated = [
        r["Properties"]["HttpMethod"]
        for r in tw_template["Resources"].values()
        if r["Type"] == "AWS::ApiGateway::Method"
        and r["Properties"]["RestApiId"] == api_ref
        and r["Properties"].get("AuthorizationType") == "NONE"
        and r["Properties"]["HttpMethod"] != "OPTIONS"  # CORS preflights, answered by the gateway
    ]
    assert sorted(unauthenticated) == ["GET", "GET", "POST", "POST", "POST"]  # OpenAPI + 4 steps
