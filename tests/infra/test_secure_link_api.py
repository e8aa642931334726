"""The clients' secure-link API and the public stages' alarms: the secure page's routes on a
REST API of their own, apart from the staff API, with their own 4xx-burst and 5xx alarms
(the Twilio webhook stage too), so nothing public can trip an alarm meant for staff."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Capture, Match, Template

from functions.core import settings as E
from infra.constructs.public_stage import PublicStageAlarms
from infra.stack import QuietlineStack
from tests.infra import messaging_checks as checks
from tests.infra.conftest import (
    INBOX_ORIGIN,
    Synthesized,
    api_paths,
    arn,
    check_regional_stage,
    every_resource,
    logical_id,
    quietline_stack,
    ref,
    resource,
    single,
)

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth")]
twilio_group = pytest.mark.xdist_group("synth-twilio")

# What web/app/secure.js calls, in order.
SECURE_LINK_STEPS = (
    ("POST", "challenge"),
    ("POST", "verify"),
    ("GET", "message"),
    ("POST", "reply"),
)
SECURE_PATHS = {f"/secure/{{token}}/{step}" for _, step in SECURE_LINK_STEPS}


def _hosted_origin(stack: QuietlineStack) -> dict[str, Any]:
    assert stack.web is not None, "the default configuration hosts the inbox"
    distribution = logical_id(stack.web.distribution)
    return {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution, "DomainName"]}]]}


def _secure(stack: QuietlineStack) -> Any:
    assert stack.secure_links is not None, "an inbox means clients' secure links"
    return stack.secure_links


def _stage_alarms(template: Template, api_name: str) -> dict[str, dict[str, Any]]:
    """The stack's API Gateway alarms whose dimensions name `api_name`, by metric."""
    found: dict[str, dict[str, Any]] = {}
    for alarm in template.find_resources("AWS::CloudWatch::Alarm").values():
        properties = alarm["Properties"]
        names = [d["Value"] for d in properties.get("Dimensions", []) if d["Name"] == "ApiName"]
        if properties.get("Namespace") == "AWS/ApiGateway" and names == [api_name]:
            assert properties["MetricName"] not in found, "one alarm per metric and stage"
            found[properties["MetricName"]] = properties
    return found


@pytest.fixture(scope="module")
def tw_stack(twilio: Synthesized) -> QuietlineStack:
    return quietline_stack(twilio)


# --- apart from the staff API ---------------------------------------------------------------
def test_the_secure_page_routes_are_a_rest_api_of_their_own(
    stack: QuietlineStack, app_template: Template
) -> None:
    secure = _secure(stack)
    # Given the hosted inbox, when the stack is synthesized
    paths = api_paths(app_template, secure.api)
    # Then every secure-link route is on the secure-link API and none on the staff API
    assert set(paths) >= SECURE_PATHS
    assert not SECURE_PATHS & set(api_paths(app_template, stack.staff_api.api))
    assert logical_id(secure.api) != logical_id(stack.staff_api.api)
    resource(app_template, secure.api).has_properties({"Name": "Quietline-secure-links"})


def test_each_secure_step_is_unauthenticated_and_proxied_to_its_own_function(
    stack: QuietlineStack, app_template: Template
) -> None:
    secure = _secure(stack)
    paths = api_paths(app_template, secure.api)
    uri = {"Fn::Join": ["", Match.array_with([arn(secure.function.function)])]}
    for method, step in SECURE_LINK_STEPS:
        single(
            app_template,
            "AWS::ApiGateway::Method",
            {
                "RestApiId": ref(secure.api),
                "HttpMethod": method,
                "ResourceId": Match.exact(paths[f"/secure/{{token}}/{step}"]),
            },
        ).has_properties(
            {
                "AuthorizationType": "NONE",
                "Integration": {"Type": "AWS_PROXY", "Uri": uri},
            }
        )
    # Its own role: the staff API function's grants (Cognito admin) are not its.
    assert secure.function.role is not stack.staff_api.function.role


def test_only_the_secure_stage_may_invoke_the_secure_function(
    stack: QuietlineStack, app_template: Template
) -> None:
    secure = _secure(stack)
    permissions = every_resource(
        app_template, "AWS::Lambda::Permission", {"FunctionName": arn(secure.function.function)}
    )
    assert len(permissions) == len(SECURE_LINK_STEPS)
    for permission in permissions:
        source = Capture()
        permission.has_properties({"Principal": "apigateway.amazonaws.com", "SourceArn": source})
        assert logical_id(secure.stage) in json.dumps(source.as_object())


def test_the_secure_stage_is_built_like_every_stage_and_throttles_below_the_staff_api(
    stack: QuietlineStack, app_template: Template
) -> None:
    secure_stage = resource(app_template, _secure(stack).stage)
    check_regional_stage(secure_stage)
    secure_rate, staff_rate = Capture(), Capture()
    secure_stage.has_properties({"MethodSettings": [{"ThrottlingRateLimit": secure_rate}]})
    resource(app_template, stack.staff_api.stage).has_properties(
        {"MethodSettings": [{"ThrottlingRateLimit": staff_rate}]}
    )
    # Nobody needs bulk access to a secure link.
    assert secure_rate.as_number() < staff_rate.as_number()
    secure_stage.has_properties(
        {"AccessLogSetting": {"DestinationArn": arn(_secure(stack).access_logs)}}
    )


def test_cors_and_gateway_errors_admit_only_the_hosted_inbox(
    stack: QuietlineStack, app_template: Template
) -> None:
    secure = _secure(stack)
    origin = _hosted_origin(stack)
    quoted = {"Fn::Join": ["", ["'https://", origin["Fn::Join"][1][1], "'"]]}
    preflights = every_resource(
        app_template,
        "AWS::ApiGateway::Method",
        {"RestApiId": ref(secure.api), "HttpMethod": "OPTIONS"},
    )
    assert preflights, "the page is on another origin: it needs preflights"
    for method in preflights:
        method.has_properties(
            {
                "Integration": {
                    "IntegrationResponses": [
                        {
                            "ResponseParameters": {
                                "method.response.header.Access-Control-Allow-Origin": (
                                    Match.exact(quoted)
                                ),
                                # The page's session header; no staff Authorization header.
                                "method.response.header.Access-Control-Allow-Headers": (
                                    "'X-Secure-Session,Content-Type'"
                                ),
                            }
                        }
                    ]
                }
            }
        )
    responses = every_resource(
        app_template, "AWS::ApiGateway::GatewayResponse", {"RestApiId": ref(secure.api)}
    )
    assert responses, "throttling and unknown routes answer JSON the page can read"
    for response in responses:
        response.has_properties(
            {
                "ResponseParameters": {
                    "gatewayresponse.header.Cache-Control": "'no-store'",
                    "gatewayresponse.header.Access-Control-Allow-Origin": Match.exact(quoted),
                }
            }
        )


# --- alarms -------------------------------------------------------------------------------
def test_the_staff_alarms_count_the_staff_stage_only(app_template: Template) -> None:
    # Given every API Gateway alarm of the stack, grouped by the API its dimensions name
    staff = _stage_alarms(app_template, "Quietline-staff-api")
    secure = _stage_alarms(app_template, "Quietline-secure-links")
    # Then the staff API keeps its 5xx alarm, and no alarm spans two APIs (a secure-link
    # request can only ever count against the secure-link alarms)
    assert set(staff) == {"5XXError"}
    assert set(secure) == {"4XXError", "5XXError"}
    for alarm in app_template.find_resources("AWS::CloudWatch::Alarm").values():
        if alarm["Properties"].get("Namespace") == "AWS/ApiGateway":
            names = [d for d in alarm["Properties"]["Dimensions"] if d["Name"] == "ApiName"]
            assert len(names) == 1


def test_the_secure_stage_alarms_on_a_burst_of_4xx_and_on_any_5xx(
    stack: QuietlineStack, app_template: Template
) -> None:
    watch: PublicStageAlarms = _secure(stack).watch
    stage = {"Name": "Stage", "Value": ref(_secure(stack).stage)}
    burst = Capture()
    resource(app_template, watch.client_error_alarm).has_properties(
        {
            "MetricName": "4XXError",
            "Dimensions": Match.array_with([Match.exact(stage)]),
            "Statistic": "Sum",
            "Period": 300,
            "Threshold": burst,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [ref(stack.alarms.topic)],
            "OKActions": [ref(stack.alarms.topic)],
        }
    )
    # A fumbling client makes a few 4xx (wrong codes, a lock); a burst is many more.
    assert 10 <= burst.as_number() <= 100
    resource(app_template, watch.server_error_alarm).has_properties(
        {
            "MetricName": "5XXError",
            "Dimensions": Match.array_with([Match.exact(stage)]),
            "Threshold": 1,
            "AlarmActions": [ref(stack.alarms.topic)],
        }
    )


def test_the_4xx_alarm_names_the_saved_query_that_finds_the_source(
    stack: QuietlineStack, app_template: Template
) -> None:
    secure = _secure(stack)
    name, query = Capture(), Capture()
    resource(app_template, secure.watch.query).has_properties(
        {
            "Name": name,
            "QueryString": query,
            "LogGroupNames": [ref(secure.access_logs)],
        }
    )
    description = Capture()
    resource(app_template, secure.watch.client_error_alarm).has_properties(
        {"AlarmDescription": description}
    )
    assert name.as_string() in description.as_string()
    assert "docs/operations.md" in description.as_string()
    # Grouped by source address and route: the access log's fields, no content.
    assert "by ip, status, resourcePath" in query.as_string()


@twilio_group
def test_the_twilio_stage_has_its_own_4xx_burst_and_5xx_alarms(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    webhook_api = tw_stack.messaging.webhook_api
    assert webhook_api is not None, "the twilio variant has a webhook API"
    alarms = _stage_alarms(twilio_template, "Quietline-twilio-webhooks")
    assert set(alarms) == {"4XXError", "5XXError"}
    for properties in alarms.values():
        assert {"Name": "Stage", "Value": ref(webhook_api.stage)} in properties["Dimensions"]
        assert properties["AlarmActions"] == [ref(tw_stack.alarms.topic)]
    # Apart from the staff API's alarm, which still counts the staff stage alone.
    assert set(_stage_alarms(twilio_template, "Quietline-staff-api")) == {"5XXError"}


# --- the function, its settings and where the page finds it --------------------------------
def test_the_deployed_environment_satisfies_the_secure_page_settings_code(
    stack: QuietlineStack, app_template: Template
) -> None:
    function = _secure(stack).function
    parsed = checks.deployed_settings(
        checks.function_variables(app_template, function),
        checks.function_handler(app_template, function),
    )
    assert parsed.secure_link_base_url == "resolved-" + E.ENV_SECURE_LINK_BASE_URL


def test_secure_links_point_at_the_hosted_inbox(
    stack: QuietlineStack, app_template: Template
) -> None:
    resource(app_template, _secure(stack).function.function).has_properties(
        {
            "Environment": {
                "Variables": {
                    E.ENV_SECURE_LINK_BASE_URL: Match.exact(_hosted_origin(stack)),
                    # Its answers must be readable by the secure page (another origin).
                    E.ENV_INBOX_ORIGIN: Match.exact(_hosted_origin(stack)),
                }
            }
        }
    )


@twilio_group
def test_an_inbox_hosted_elsewhere_gets_the_secure_api_too(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    secure = _secure(tw_stack)
    resource(twilio_template, secure.function.function).has_properties(
        {"Environment": {"Variables": {E.ENV_SECURE_LINK_BASE_URL: INBOX_ORIGIN}}}
    )
    # The staff API's only methods without Cognito are the OpenAPI document and the three
    # session routes, which the HttpOnly refresh cookie authenticates (docs/access.md); the
    # clients' secure-link routes are not among them.
    unauthenticated = every_resource(
        twilio_template,
        "AWS::ApiGateway::Method",
        {
            "RestApiId": ref(tw_stack.staff_api.api),
            "AuthorizationType": "NONE",
            "HttpMethod": Match.not_("OPTIONS"),
        },
    )
    by_id = {logical_id(m): key for key, m in tw_stack.staff_api.methods.items()}
    assert sorted(by_id[m.logical_id] for m in unauthenticated) == [
        ("DELETE", "/session"),
        ("GET", "/openapi.json"),
        ("POST", "/session"),
        ("POST", "/session/refresh"),
    ]


def test_the_page_learns_the_secure_api_from_an_output_and_may_fetch_it(
    stack: QuietlineStack, app_template: Template
) -> None:
    secure = _secure(stack)
    parts = Capture()
    app_template.has_output("SecureApiUrl", {"Value": {"Fn::Join": ["", parts]}})
    assert ref(secure.api) in parts.as_array() and parts.as_array()[-1] == "/prod"
    policy = Capture()
    single(
        app_template,
        "AWS::CloudFront::ResponseHeadersPolicy",
        {
            "ResponseHeadersPolicyConfig": {
                "SecurityHeadersConfig": {
                    "ContentSecurityPolicy": {"ContentSecurityPolicy": policy}
                }
            }
        },
    )
    # connect-src names both APIs: the inbox's and the secure page's.
    rendered = json.dumps(policy.as_object())
    assert json.dumps(ref(secure.api)) in rendered
    assert json.dumps(ref(stack.staff_api.api)) in rendered
