"""The Twilio variant (carrier "twilio", WAF on): the webhook API, its stage settings, the
web ACL, the auth-token secret, and the same pipeline rules as the default carrier.

One synth per session (fixture `twilio`), in its own xdist group so it runs alongside
the default app's synth on the other worker.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from functions.carriers.twilio import SIGNATURE_HEADER
from functions.core import settings
from infra.constructs.messaging import PIPELINE_ALARMS, WEBHOOK_ALARMS
from infra.constructs.staff_api import UNUSUAL_READ_METRIC
from infra.constructs.twilio_webhooks import STAGE_NAME, TWILIO_SMS_PATH, TWILIO_STATUS_PATH
from infra.constructs.waf import WAF_LOG_GROUP_PREFIX
from infra.eligibility import classify
from infra.nag import MIN_REASON_LENGTH
from infra.stack import QuietlineStack
from tests.infra import messaging_checks as checks
from tests.infra.conftest import (
    ACCOUNT,
    REGION,
    STAFF_EMAIL,
    TWILIO_ACCOUNT_SID,
    TWILIO_OVERRIDES,
    Synthesized,
    acknowledgements,
    as_list,
    get_att_arn,
    logical_id,
    make_config,
    only,
    only_template,
    plain_app,
    quietline_stack,
    resources,
    suppressed_violations,
)
from tests.infra.shared_acknowledgements import (
    BACKUP_ROLE_RULE,
    function_acknowledgements,
    secure_link_acknowledgements,
    staff_and_audit_acknowledgements,
)

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth-twilio")]

E = settings
TWILIO_ENV = {E.ENV_TWILIO_ACCOUNT_SID, E.ENV_TWILIO_AUTH_TOKEN_SECRET}
EXPECTED_ENVIRONMENT = {
    # The sender cannot derive the webhook URL: it always gets the base URL so that
    # Twilio is asked for a status callback on every message.
    "sender": {
        E.ENV_TABLE_NAME,
        E.ENV_CARRIER,
        E.ENV_OUTBOUND_QUEUE_URL,
        E.ENV_PUBLIC_BASE_URL,
        *TWILIO_ENV,
    },
    "retry_worker": {
        E.ENV_TABLE_NAME,
        E.ENV_CARRIER,
        E.ENV_OUTBOUND_QUEUE_URL,
    },
    "sweeper": {E.ENV_TABLE_NAME, E.ENV_CARRIER, E.ENV_OUTBOUND_QUEUE_URL},
    "staff_notifier": {E.ENV_TABLE_NAME, E.ENV_STAFF_TOPIC_ARN},
    # No public_base_url configured: the webhook derives the URL from the event.
    "webhook": {
        E.ENV_TABLE_NAME,
        E.ENV_CARRIER,
        E.ENV_OUTBOUND_QUEUE_URL,
        E.ENV_RETRY_QUEUE_URL,
        *TWILIO_ENV,
    },
}
TENANT_KEY_ACTIONS = {
    "sender": {"kms:Decrypt"},
    "retry_worker": {"kms:Decrypt", "kms:GenerateDataKey"},
    "sweeper": set(),
    "staff_notifier": set(),
    "webhook": {"kms:Decrypt", "kms:GenerateDataKey"},
}
# Reviewed list of the Twilio variant's acknowledgements beyond the per-function ones.
EXPECTED_ACKNOWLEDGEMENTS = {
    ("HIPAA.Security-SecretsManagerRotationEnabled", "Quietline/Messaging/TwilioAuthToken"),
    ("AwsSolutions-SMG4", "Quietline/Messaging/TwilioAuthToken"),
    ("AwsSolutions-APIG2", "Quietline/Messaging/TwilioWebhooks/Api"),
    ("AwsSolutions-APIG4", "Quietline/Messaging/TwilioWebhooks/Api"),
    ("AwsSolutions-COG4", "Quietline/Messaging/TwilioWebhooks/Api"),
    (
        "HIPAA.Security-APIGWCacheEnabledAndEncrypted",
        "Quietline/Messaging/TwilioWebhooks/Api/DeploymentStage.prod",
    ),
    (
        "HIPAA.Security-APIGWSSLEnabled",
        "Quietline/Messaging/TwilioWebhooks/Api/DeploymentStage.prod",
    ),
    (BACKUP_ROLE_RULE, "Quietline/Backups/Plan/MessageTable/Role"),
    *(
        ack
        for function in ("Sender", "RetryWorker", "Sweeper", "StaffNotifier", "TwilioWebhook")
        for ack in function_acknowledgements(f"Quietline/Messaging/{function}")
    ),
    # WAF on (no APIG3 on either stage), the organization's trail (no trail buckets).
    *staff_and_audit_acknowledgements(waf_enabled=True, trail=False),
    # An inbox hosted elsewhere (inbox_origin): the clients' secure-message path.
    *secure_link_acknowledgements(),
}


@pytest.fixture(scope="module")
def tw_stack(twilio: Synthesized) -> QuietlineStack:
    found = quietline_stack(twilio)
    assert found.config.carrier == "twilio"
    return found


@pytest.fixture(scope="module")
def tw_template(twilio: Synthesized) -> dict[str, Any]:
    return only_template(twilio)


def _props(template: dict[str, Any], construct: Any) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"][logical_id(construct)]["Properties"]
    return found


def _api(stack: QuietlineStack) -> Any:
    api = stack.messaging.webhook_api
    assert api is not None
    return api


# --- nag -------------------------------------------------------------------------------------
def test_synth_leaves_no_unacknowledged_finding(twilio: Synthesized) -> None:
    for plugin in twilio.report["pluginReports"]:
        assert plugin["violations"] == [], plugin["pluginName"]
        assert plugin["conclusion"] == "success"


def test_acknowledgements_are_the_reviewed_list_with_specific_reasons(twilio: Synthesized) -> None:
    acknowledged = acknowledgements(twilio.app)

    assert {(rule, path) for rule, path, _ in acknowledged} == EXPECTED_ACKNOWLEDGEMENTS
    for rule, path, reason in acknowledged:
        assert len(reason) >= MIN_REASON_LENGTH, (rule, path)
    suppressed = {
        (v["acknowledgedId"].split("::", 1)[1], v["acknowledgedAt"])
        for v in suppressed_violations(twilio.report)
    }
    assert {(rule, path) for rule, path, _ in acknowledged} <= suppressed


def test_every_resource_type_is_on_the_allow_list(tw_template: dict[str, Any]) -> None:
    for resource in tw_template["Resources"].values():
        assert classify(resource["Type"]).reason


# --- the REST API and its stage ------------------------------------------------------------
def test_api_is_regional_and_serves_exactly_the_two_signed_webhooks(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    api = _api(tw_stack)
    webhook = tw_stack.messaging.webhook
    assert webhook is not None
    assert _props(tw_template, api.api)["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    api_ref = {"Ref": logical_id(api.api)}
    (validator_id, validator) = only(_of_api(tw_template, "AWS::ApiGateway::RequestValidator", api))
    assert validator["Properties"]["ValidateRequestParameters"] is True

    methods = _of_api(tw_template, "AWS::ApiGateway::Method", api).values()
    assert len(methods) == 2
    assert all(m["Properties"]["RestApiId"] == api_ref for m in methods)
    paths = set()
    for method in methods:
        props = method["Properties"]
        assert props["HttpMethod"] == "POST"
        assert props["AuthorizationType"] == "NONE"  # Twilio signs; see the acknowledgement
        assert props["RequestValidatorId"] == {"Ref": validator_id}
        assert props["RequestParameters"] == {f"method.request.header.{SIGNATURE_HEADER}": True}
        assert props["Integration"]["Type"] == "AWS_PROXY"
        assert (
            get_att_arn(logical_id(webhook.function)) in props["Integration"]["Uri"]["Fn::Join"][1]
        )
        paths.add(_resource_path(tw_template, props["ResourceId"]["Ref"]))
    assert paths == {TWILIO_SMS_PATH, TWILIO_STATUS_PATH}


def _of_api(template: dict[str, Any], resource_type: str, api: Any) -> dict[str, dict[str, Any]]:
    """Resources of one type that belong to the given REST API."""
    api_ref = {"Ref": logical_id(api.api)}
    return {
        key: resource
        for key, resource in resources(template, resource_type).items()
        if resource["Properties"].get("RestApiId") == api_ref
    }


def _resource_path(template: dict[str, Any], resource_id: str) -> str:
    props = template["Resources"][resource_id]["Properties"]
    parent = props["ParentId"]
    prefix = "" if "Fn::GetAtt" in parent else _resource_path(template, parent["Ref"])
    return f"{prefix}/{props['PathPart']}"


def test_webhook_paths_are_the_ones_local_mode_serves() -> None:
    from local.routes import TWILIO_SMS_PATH as LOCAL_SMS
    from local.routes import TWILIO_STATUS_PATH as LOCAL_STATUS

    assert (TWILIO_SMS_PATH, TWILIO_STATUS_PATH) == (LOCAL_SMS, LOCAL_STATUS)


def test_stage_logs_traces_throttles_and_never_caches_or_logs_bodies(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    stage = _props(tw_template, _api(tw_stack).stage)

    assert stage["StageName"] == STAGE_NAME
    assert stage["TracingEnabled"] is True
    (settings_,) = stage["MethodSettings"]
    assert (settings_["HttpMethod"], settings_["ResourcePath"]) == ("*", "/*")
    assert settings_["DataTraceEnabled"] is False
    assert settings_["CachingEnabled"] is False
    assert settings_["LoggingLevel"] == "INFO"
    assert settings_["ThrottlingRateLimit"] > 0
    assert settings_["ThrottlingBurstLimit"] >= settings_["ThrottlingRateLimit"]
    assert stage.get("CacheClusterEnabled") in (None, False)


def test_access_log_names_requests_never_their_content(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    api = _api(tw_stack)
    access = _props(tw_template, api.stage)["AccessLogSetting"]

    assert access["DestinationArn"] == get_att_arn(logical_id(api.access_logs))
    fields = json.loads(access["Format"])
    assert set(fields) == {
        "requestId",
        "ip",
        "requestTime",
        "httpMethod",
        "resourcePath",
        "status",
        "responseLength",
    }
    for forbidden in ("$input", "body", "querystring", "queryString", "$context.path"):
        assert forbidden not in access["Format"]


def test_api_log_groups_are_encrypted_and_retained(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    platform_key = get_att_arn(logical_id(tw_stack.platform_key.key))
    groups = resources(tw_template, "AWS::Logs::LogGroup")
    api_ref = {"Ref": logical_id(_api(tw_stack).api)}
    execution = [
        g
        for g in groups.values()
        if "API-Gateway-Execution-Logs_" in str(g["Properties"])
        and api_ref in g["Properties"]["LogGroupName"]["Fn::Join"][1]
    ]
    assert len(execution) == 1
    for group in groups.values():
        assert group["Properties"]["KmsKeyId"] == platform_key
        assert group["Properties"]["RetentionInDays"] >= 2190
        assert group["DeletionPolicy"] == "Retain"
    # The stage waits for the execution log group, so API Gateway never creates its own.
    stage_id = logical_id(_api(tw_stack).stage)
    (execution_id,) = [k for k, g in groups.items() if g is execution[0]]
    assert execution_id in tw_template["Resources"][stage_id]["DependsOn"]


def test_only_the_stage_may_invoke_the_webhook(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    webhook = tw_stack.messaging.webhook
    assert webhook is not None
    permissions = [
        p["Properties"]
        for p in resources(tw_template, "AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == get_att_arn(logical_id(webhook.function))
    ]
    assert len(permissions) == 2
    for permission in permissions:
        assert permission["Principal"] == "apigateway.amazonaws.com"
        source = json.dumps(permission["SourceArn"])
        assert logical_id(_api(tw_stack).stage) in source  # not the test-invoke-stage "*"
    assert not resources(tw_template, "AWS::Lambda::Url")


# --- WAF ----------------------------------------------------------------------------------------
def test_web_acl_rate_limits_per_ip_and_counts_common_rules(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    firewall = _api(tw_stack).firewall
    assert firewall is not None
    props = _props(tw_template, firewall.web_acl)

    assert props["Scope"] == "REGIONAL"
    rules = {rule["Name"]: rule for rule in props["Rules"]}
    rate = rules["RateLimitPerIp"]
    assert rate["Action"] == {"Block": {}}
    assert (
        rate["Statement"]["RateBasedStatement"]["Limit"]
        == (TWILIO_OVERRIDES["waf"]["requests_per_5_minutes_per_ip"])
    )
    assert rate["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    common = rules["AwsCommonRules"]
    assert common["Statement"]["ManagedRuleGroupStatement"] == {
        "Name": "AWSManagedRulesCommonRuleSet",
        "VendorName": "AWS",
    }
    assert common["OverrideAction"] == {"Count": {}}


def test_web_acl_protects_the_stage_and_logs_to_an_encrypted_group(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    api = _api(tw_stack)
    assert api.firewall is not None
    acl_arn = get_att_arn(logical_id(api.firewall.web_acl))

    _, association = only(
        {
            k: a
            for k, a in resources(tw_template, "AWS::WAFv2::WebACLAssociation").items()
            if a["Properties"]["WebACLArn"] == acl_arn
        }
    )
    assert logical_id(api.stage) in json.dumps(association["Properties"]["ResourceArn"])

    _, logging = only(
        {
            k: c
            for k, c in resources(tw_template, "AWS::WAFv2::LoggingConfiguration").items()
            if c["Properties"]["ResourceArn"] == acl_arn
        }
    )
    group = _props(tw_template, api.firewall.log_group)
    assert group["LogGroupName"].startswith(WAF_LOG_GROUP_PREFIX)
    assert logging["Properties"]["LogDestinationConfigs"] == [
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group['LogGroupName']}"
    ]
    assert group["KmsKeyId"] == get_att_arn(logical_id(tw_stack.platform_key.key))
    assert group["RetentionInDays"] >= 2190


# --- the auth token secret -----------------------------------------------------------------------
def test_auth_token_secret_is_encrypted_with_our_key_and_starts_as_a_placeholder(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    secret = tw_stack.messaging.twilio_auth_token
    assert secret is not None
    props = _props(tw_template, secret)

    assert props["KmsKeyId"] == get_att_arn(logical_id(tw_stack.platform_key.key))
    assert "GenerateSecretString" in props
    assert "SecretString" not in props


def test_only_the_twilio_functions_read_the_auth_token_and_only_that_secret(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    messaging = tw_stack.messaging
    assert messaging.webhook is not None and messaging.twilio_auth_token is not None

    grants = checks.check_exclusive_action(
        tw_template,
        "secretsmanager:GetSecretValue",
        {logical_id(messaging.sender.role), logical_id(messaging.webhook.role)},
    )

    for grant in grants:
        assert grant["Resource"] == {"Ref": logical_id(messaging.twilio_auth_token)}
        assert checks.actions(grant) == {"secretsmanager:GetSecretValue"}


def test_nobody_may_send_through_end_user_messaging_on_twilio(tw_template: dict[str, Any]) -> None:
    checks.check_exclusive_action(tw_template, "sms-voice:SendTextMessage", set())
    assert "sms-voice" not in json.dumps(tw_template["Resources"])


# --- pipeline rules, as for the default carrier ------------------------------------------------
def test_each_function_has_its_own_role(tw_template: dict[str, Any]) -> None:
    checks.check_one_role_per_function(tw_template)


def test_no_role_may_scan_or_use_a_wildcard_action(tw_template: dict[str, Any]) -> None:
    checks.check_no_scan_and_no_wildcard_action(tw_template)


def test_tenant_key_grants_carry_the_tenant_context(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    checks.check_tenant_key_grants_name_their_tenant(tw_stack, tw_template)
    checks.check_tenant_key_actions(tw_stack, tw_template, TENANT_KEY_ACTIONS)


def test_platform_key_is_used_only_through_aws_services(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    checks.check_platform_key_only_through_services(tw_stack, tw_template)


def test_topics_and_queues_are_encrypted_ssl_only_and_dlqs_alarmed(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    checks.check_topics_and_queues_use_customer_managed_keys(tw_template)
    checks.check_queues_and_topics_deny_plain_http(tw_template)
    checks.check_every_dead_letter_queue_alarms_the_alarm_topic(tw_stack, tw_template)


def test_queue_consumers_report_partial_batch_failures(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    checks.check_event_source_mappings(tw_stack, tw_template)


def test_each_function_gets_exactly_the_settings_its_code_reads(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    checks.check_environment(tw_stack, tw_template, EXPECTED_ENVIRONMENT)


@pytest.mark.parametrize("name", sorted(EXPECTED_ENVIRONMENT))
def test_the_deployed_environment_satisfies_the_settings_code(
    tw_stack: QuietlineStack,
    tw_template: dict[str, Any],
    name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checks.check_settings_load(tw_stack, tw_template, name)


def test_twilio_settings_point_at_the_secret_and_the_stage(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    messaging = tw_stack.messaging
    assert messaging.webhook is not None and messaging.twilio_auth_token is not None
    for fn in (messaging.sender, messaging.webhook):
        variables = _props(tw_template, fn.function)["Environment"]["Variables"]
        assert variables[E.ENV_TWILIO_ACCOUNT_SID] == TWILIO_ACCOUNT_SID
        assert variables[E.ENV_TWILIO_AUTH_TOKEN_SECRET] == {
            "Ref": logical_id(messaging.twilio_auth_token)
        }
    base = _props(tw_template, messaging.sender.function)["Environment"]["Variables"][
        E.ENV_PUBLIC_BASE_URL
    ]
    assert {"Ref": logical_id(_api(tw_stack).api)} in base["Fn::Join"][1]
    assert base["Fn::Join"][1][-1].endswith(f"/{STAGE_NAME}")


def test_webhook_signature_alarm_fires_on_a_burst_of_forgeries(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in resources(tw_template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "Quietline"
    }

    assert set(alarms) == {
        *(s.metric_name for s in (*PIPELINE_ALARMS, *WEBHOOK_ALARMS)),
        UNUSUAL_READ_METRIC,
    }
    rejected = alarms["WebhookSignatureRejected"]
    assert rejected["Threshold"] >= 10
    assert rejected["Period"] == 300
    assert rejected["AlarmActions"] == [{"Ref": logical_id(tw_stack.alarms.topic)}]


def test_staff_notices_are_emailed_to_the_configured_addresses(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    topic = {"Ref": logical_id(tw_stack.messaging.staff.topic)}
    subscriptions = [
        s["Properties"]
        for s in resources(tw_template, "AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == topic
    ]
    assert subscriptions == [{"Endpoint": STAFF_EMAIL, "Protocol": "email", "TopicArn": topic}]


def test_only_the_staff_notifier_publishes_staff_notices(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    # Inbound functions (and a secure-message reply) only store: the stream tells staff.
    messaging = tw_stack.messaging
    grants = checks.check_exclusive_action(
        tw_template, "sns:Publish", {logical_id(messaging.staff_notifier.role)}
    )
    for statement in grants:
        assert statement["Resource"] == {"Ref": logical_id(messaging.staff.topic)}


def test_the_staff_notifier_reads_only_inbound_message_inserts_from_the_stream(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    checks.check_staff_notifier_reads_the_message_stream(tw_stack, tw_template)


def test_the_staff_notifier_role_has_exactly_its_actions(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    checks.check_staff_notifier_role(tw_stack, tw_template)


# --- outputs --------------------------------------------------------------------------------------
def test_outputs_give_twilio_its_webhook_urls_and_the_admin_the_secret(
    tw_stack: QuietlineStack, tw_template: dict[str, Any]
) -> None:
    outputs = tw_template["Outputs"]
    messaging = tw_stack.messaging
    assert messaging.twilio_auth_token is not None

    for output_id, path in (
        ("TwilioSmsWebhookUrl", TWILIO_SMS_PATH),
        ("TwilioStatusWebhookUrl", TWILIO_STATUS_PATH),
    ):
        parts = outputs[output_id]["Value"]["Fn::Join"][1]
        assert parts[-1] == f"/{STAGE_NAME}{path}"
        assert {"Ref": logical_id(_api(tw_stack).api)} in parts
    secret = outputs["TwilioAuthTokenSecretArn"]
    assert secret["Value"] == {"Ref": logical_id(messaging.twilio_auth_token)}
    assert "aws secretsmanager put-secret-value" in secret["Description"]
    assert not any(key.startswith("Inbound") for key in outputs)
    # Only our outputs: CDK's generic "<api>Endpoint" output is removed.
    assert all(not key.startswith("Messaging") for key in outputs)


def test_a_custom_domain_becomes_the_signed_url_everywhere() -> None:
    # Construction and a plain synth (no nag): only what public_base_url changes.
    base = "https://sms.harbor-counseling.example"
    config = make_config(
        **{
            **TWILIO_OVERRIDES,
            "waf": {"enabled": False},
            "twilio": {"account_sid": TWILIO_ACCOUNT_SID, "public_base_url": base},
        }
    )
    stack = QuietlineStack(
        plain_app(),
        "Quietline",
        config=config,
        env=cdk.Environment(account=ACCOUNT, region=REGION),
    )
    template = Template.from_stack(stack).to_json()

    messaging = stack.messaging
    assert messaging.webhook is not None
    for fn in (messaging.sender, messaging.webhook):
        variables = _props(template, fn.function)["Environment"]["Variables"]
        assert variables[E.ENV_PUBLIC_BASE_URL] == base
    assert template["Outputs"]["TwilioSmsWebhookUrl"]["Value"] == base + TWILIO_SMS_PATH
    assert template["Outputs"]["TwilioStatusWebhookUrl"]["Value"] == base + TWILIO_STATUS_PATH
    # Without WAF the APIG3 finding is acknowledged on the stage, with its reason.
    assert (
        "AwsSolutions-APIG3",
        "Quietline/Messaging/TwilioWebhooks/Api/DeploymentStage.prod",
    ) in {(rule, path) for rule, path, _ in acknowledgements(stack.node.root)}


def test_a_configuration_set_is_sent_with_and_granted_exactly() -> None:
    config = make_config(sms_configuration_set="quietline-events")
    stack = QuietlineStack(
        plain_app(),
        "Quietline",
        config=config,
        env=cdk.Environment(account=ACCOUNT, region=REGION),
    )
    template = Template.from_stack(stack).to_json()

    sender = stack.messaging.sender
    variables = _props(template, sender.function)["Environment"]["Variables"]
    assert variables[E.ENV_SMS_CONFIGURATION_SET] == "quietline-events"
    (grant,) = checks.granted(
        checks.function_statements(template, sender), "sms-voice:SendTextMessage"
    )
    assert f"arn:aws:sms-voice:{REGION}:{ACCOUNT}:configuration-set/quietline-events" in as_list(
        grant["Resource"]
    )
