"""The Twilio variant (carrier "twilio", WAF on): the webhook API, its stage settings, the
web ACL, the auth-token secret, and the same pipeline rules as the default carrier.

One synth per session (fixture `twilio`), in its own xdist group so it runs alongside
the default app's synth on the other worker.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Capture, Match, Template

from functions.core import settings
from infra.constructs.function import QuietlineFunction
from infra.constructs.twilio_webhooks import TwilioWebhookApi
from infra.eligibility import classify
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
    api_paths,
    arn,
    as_list,
    check_regional_stage,
    every_capture,
    logical_id,
    make_config,
    only_template,
    plain_app,
    quietline_stack,
    ref,
    resource,
    resource_types,
    single,
    suppressed_violations,
)
from tests.infra.shared_acknowledgements import (
    BACKUP_ROLE_RULE,
    function_acknowledgements,
    live_update_acknowledgements,
    secure_link_acknowledgements,
    staff_and_audit_acknowledgements,
    synchronous_function_acknowledgements,
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
    # No public base URL: a page asks Twilio for no status callback.
    "care_pager": {
        E.ENV_TABLE_NAME,
        E.ENV_STAFF_TOPIC_ARN,
        E.ENV_AUDIT_TABLE_NAME,
        E.ENV_USER_POOL_ID,
        E.ENV_CARRIER,
        *TWILIO_ENV,
    },
}
TENANT_KEY_ACTIONS = {
    "sender": {"kms:Decrypt"},
    "retry_worker": {"kms:Decrypt", "kms:GenerateDataKey"},
    "sweeper": set(),
    "staff_notifier": set(),
    "webhook": {"kms:Decrypt", "kms:GenerateDataKey"},
    "care_pager": {"kms:Decrypt"},  # forwarding cells only (test_care_pager.py)
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
        for function in (
            "Sender",
            "RetryWorker",
            "Sweeper",
            "StaffNotifier",
            "CarePager",
        )
        for ack in function_acknowledgements(f"Quietline/Messaging/{function}")
    ),
    # API Gateway invokes the webhook synchronously: no DLQ (Twilio retries a failure).
    *synchronous_function_acknowledgements("Quietline/Messaging/TwilioWebhook"),
    *function_acknowledgements("Quietline/Scheduler/ScheduleSweep"),
    # WAF on (no APIG3 on either stage), the organization's trail (no trail buckets).
    *staff_and_audit_acknowledgements(waf_enabled=True, trail=False),
    # An inbox hosted elsewhere (inbox_origin): the clients' secure-message path.
    *secure_link_acknowledgements(waf_enabled=True),
    *live_update_acknowledgements(),
}


@pytest.fixture(scope="module")
def tw_stack(twilio: Synthesized) -> QuietlineStack:
    found = quietline_stack(twilio)
    assert found.config.carrier == "twilio"
    return found


def _api(stack: QuietlineStack) -> TwilioWebhookApi:
    api = stack.messaging.webhook_api
    assert api is not None, "the twilio carrier receives through its webhook API"
    return api


def _webhook(stack: QuietlineStack) -> QuietlineFunction:
    webhook = stack.messaging.webhook
    assert webhook is not None, "the twilio carrier receives through its webhook function"
    return webhook


def _auth_token(stack: QuietlineStack) -> secretsmanager.Secret:
    secret = stack.messaging.twilio_auth_token
    assert secret is not None, "the twilio carrier keeps its auth token in Secrets Manager"
    return secret


# --- nag -------------------------------------------------------------------------------------
def test_synth_leaves_no_unacknowledged_finding(twilio: Synthesized) -> None:
    for plugin in twilio.report["pluginReports"]:
        assert plugin["violations"] == [], plugin["pluginName"]
        assert plugin["conclusion"] == "success"


def test_acknowledgements_are_the_reviewed_list_with_specific_reasons(twilio: Synthesized) -> None:
    acknowledged = acknowledgements(twilio.app)

    assert {(rule, path) for rule, path, _ in acknowledged} == EXPECTED_ACKNOWLEDGEMENTS
    for rule, path, reason in acknowledged:
        assert len(reason) >= 40, (rule, path)  # a sentence, not "not needed"
    suppressed = {
        (v["acknowledgedId"].split("::", 1)[1], v["acknowledgedAt"])
        for v in suppressed_violations(twilio.report)
    }
    assert {(rule, path) for rule, path, _ in acknowledged} <= suppressed


def test_every_resource_type_is_on_the_allow_list(twilio: Synthesized) -> None:
    for resource_type in resource_types(twilio):
        assert classify(resource_type).reason


# --- the REST API and its stage ------------------------------------------------------------
def test_api_is_regional_and_serves_exactly_the_two_signed_webhooks(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    api = _api(tw_stack)
    api_ref = ref(api.api)
    resource(twilio_template, api.api).has_properties(
        {"EndpointConfiguration": Match.object_equals({"Types": ["REGIONAL"]})}
    )
    validator = single(twilio_template, "AWS::ApiGateway::RequestValidator", {"RestApiId": api_ref})
    validator.has_properties({"ValidateRequestParameters": True})

    twilio_template.resource_properties_count_is(
        "AWS::ApiGateway::Method", {"RestApiId": api_ref}, 2
    )
    path = Capture()
    signed_posts = twilio_template.find_resources(
        "AWS::ApiGateway::Method",
        {
            "Properties": {
                "RestApiId": api_ref,
                "HttpMethod": "POST",
                "AuthorizationType": "NONE",  # Twilio signs; see the acknowledgement
                "RequestValidatorId": {"Ref": validator.logical_id},
                "RequestParameters": Match.object_equals(
                    {"method.request.header.X-Twilio-Signature": True}
                ),
                "Integration": {
                    "Type": "AWS_PROXY",
                    "Uri": {"Fn::Join": ["", Match.array_with([arn(_webhook(tw_stack).function)])]},
                },
                "ResourceId": {"Ref": path},
            },
        },
    )
    assert len(signed_posts) == 2
    paths = api_paths(twilio_template, api.api)
    by_id = {target["Ref"]: url for url, target in paths.items() if "Ref" in target}
    assert {by_id[found] for found in every_capture(path, Capture.as_string)} == {
        "/webhooks/twilio/sms",
        "/webhooks/twilio/status",
    }


def test_webhook_paths_are_the_ones_local_mode_serves() -> None:
    from local.routes import TWILIO_SMS_PATH as LOCAL_SMS
    from local.routes import TWILIO_STATUS_PATH as LOCAL_STATUS

    assert (LOCAL_SMS, LOCAL_STATUS) == ("/webhooks/twilio/sms", "/webhooks/twilio/status")


def test_stage_logs_traces_throttles_and_never_caches_or_logs_bodies(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    check_regional_stage(resource(twilio_template, _api(tw_stack).stage))


def test_access_log_names_requests_never_their_content(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    api = _api(tw_stack)
    log_format = Capture()
    resource(twilio_template, api.stage).has_properties(
        {
            "AccessLogSetting": {
                "DestinationArn": arn(api.access_logs),
                "Format": log_format,
            }
        }
    )

    assert set(json.loads(log_format.as_string())) == {
        "requestId",
        "ip",
        "requestTime",
        "httpMethod",
        "resourcePath",
        "status",
        "responseLength",
    }
    for forbidden in ("$input", "body", "querystring", "queryString", "$context.path"):
        assert forbidden not in log_format.as_string()


def test_api_log_groups_are_encrypted_and_retained(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    api = _api(tw_stack)
    retention = Capture()
    twilio_template.all_resources(
        "AWS::Logs::LogGroup",
        {
            "Properties": {
                "KmsKeyId": arn(tw_stack.platform_key.key),
                "RetentionInDays": retention,
            },
            "DeletionPolicy": "Retain",
        },
    )
    assert min(every_capture(retention, Capture.as_number)) >= 2190
    # The stage waits for the execution log group, so API Gateway never creates its own.
    execution = single(
        twilio_template,
        "AWS::Logs::LogGroup",
        {
            "LogGroupName": {
                "Fn::Join": ["", Match.array_with(["API-Gateway-Execution-Logs_", ref(api.api)])]
            }
        },
    )
    assert execution.logical_id == logical_id(api.execution_logs)
    resource(twilio_template, api.stage).has(
        {"DependsOn": Match.array_with([execution.logical_id])}
    )


def test_only_the_stage_may_invoke_the_webhook(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    webhook = arn(_webhook(tw_stack).function)
    stage = logical_id(_api(tw_stack).stage)
    twilio_template.resource_properties_count_is(
        "AWS::Lambda::Permission", {"FunctionName": webhook}, 2
    )
    source = Capture()
    twilio_template.find_resources(
        "AWS::Lambda::Permission",
        {
            "Properties": {
                "FunctionName": webhook,
                "Principal": "apigateway.amazonaws.com",
                "SourceArn": source,
            }
        },
    )
    sources = every_capture(source, Capture.as_object)
    assert len(sources) == 2
    for found in sources:
        assert stage in json.dumps(found)  # not the test-invoke-stage "*"
    twilio_template.resource_count_is("AWS::Lambda::Url", 0)


# --- WAF ----------------------------------------------------------------------------------------
def test_web_acl_rate_limits_per_ip_and_counts_common_rules(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    firewall = _api(tw_stack).firewall
    assert firewall is not None, "the twilio variant turns WAF on"

    resource(twilio_template, firewall.web_acl).has_properties(
        {
            "Scope": "REGIONAL",
            "Rules": Match.array_with(
                [
                    Match.object_like(
                        {
                            "Name": "RateLimitPerIp",
                            "Action": Match.object_equals({"Block": {}}),
                            "Statement": {
                                "RateBasedStatement": {
                                    "Limit": TWILIO_OVERRIDES["waf"][
                                        "requests_per_5_minutes_per_ip"
                                    ],
                                    "AggregateKeyType": "IP",
                                }
                            },
                        }
                    )
                ]
            ),
        }
    )
    resource(twilio_template, firewall.web_acl).has_properties(
        {
            "Rules": Match.array_with(
                [
                    Match.object_like(
                        {
                            "Name": "AwsCommonRules",
                            "Statement": {
                                "ManagedRuleGroupStatement": Match.object_equals(
                                    {"Name": "AWSManagedRulesCommonRuleSet", "VendorName": "AWS"}
                                )
                            },
                            "OverrideAction": Match.object_equals({"Count": {}}),
                        }
                    )
                ]
            )
        }
    )


def test_web_acl_protects_the_stage_and_logs_to_an_encrypted_group(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    api = _api(tw_stack)
    assert api.firewall is not None, "the twilio variant turns WAF on"
    acl_arn = arn(api.firewall.web_acl)

    association = Capture()
    single(
        twilio_template,
        "AWS::WAFv2::WebACLAssociation",
        {"WebACLArn": acl_arn, "ResourceArn": association},
    )
    assert logical_id(api.stage) in json.dumps(association.as_object())

    # AWS requires WAF log groups to be named aws-waf-logs-*.
    name, retention = Capture(Match.string_like_regexp(r"^aws-waf-logs-")), Capture()
    resource(twilio_template, api.firewall.log_group).has_properties(
        {
            "LogGroupName": name,
            "KmsKeyId": arn(tw_stack.platform_key.key),
            "RetentionInDays": retention,
        }
    )
    assert retention.as_number() >= 2190
    single(
        twilio_template, "AWS::WAFv2::LoggingConfiguration", {"ResourceArn": acl_arn}
    ).has_properties(
        {"LogDestinationConfigs": [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name.as_string()}"]}
    )


# --- the auth token secret -----------------------------------------------------------------------
def test_auth_token_secret_is_encrypted_with_our_key_and_starts_as_a_placeholder(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    resource(twilio_template, _auth_token(tw_stack)).has_properties(
        {
            "KmsKeyId": arn(tw_stack.platform_key.key),
            "GenerateSecretString": Match.any_value(),
            "SecretString": Match.absent(),
        }
    )


def test_only_the_twilio_functions_read_the_auth_token_and_only_that_secret(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    messaging = tw_stack.messaging
    twilio_roles = {logical_id(messaging.sender.role), logical_id(_webhook(tw_stack).role)}
    notifier_role = logical_id(tw_stack.live.notifier.role)
    assert tw_stack.web_push is not None

    grants = checks.check_exclusive_action(
        twilio_template,
        "secretsmanager:GetSecretValue",
        {
            *twilio_roles,
            notifier_role,
            # Pages the on-call clinician's cell through Twilio (docs/crisis.md).
            logical_id(tw_stack.care_pager.function.role),
        },
    )
    for grant in grants:
        assert checks.actions(grant) == {"secretsmanager:GetSecretValue"}
    # Each reads its own secret: the Web Push sender its VAPID key, never the auth token.
    for fn, secret in (
        (messaging.sender, _auth_token(tw_stack)),
        (_webhook(tw_stack), _auth_token(tw_stack)),
        (tw_stack.live.notifier, tw_stack.web_push.secret),
        (tw_stack.care_pager.function, _auth_token(tw_stack)),
    ):
        statements = checks.function_statements(twilio_template, fn)
        reads = checks.granted(statements, "secretsmanager:GetSecretValue")
        assert [grant["Resource"] for grant in reads] == [ref(secret)]


def test_nobody_may_send_through_end_user_messaging_on_twilio(
    twilio_template: Template, twilio: Synthesized
) -> None:
    checks.check_exclusive_action(twilio_template, "sms-voice:SendTextMessage", set())
    assert "sms-voice" not in json.dumps(only_template(twilio)["Resources"])


# --- pipeline rules, as for the default carrier ------------------------------------------------
def test_each_function_has_its_own_role(twilio_template: Template) -> None:
    checks.check_one_role_per_function(twilio_template)


def test_no_role_may_scan_or_use_a_wildcard_action(twilio_template: Template) -> None:
    checks.check_no_scan_and_no_wildcard_action(twilio_template)


def test_tenant_key_grants_carry_the_tenant_context(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    checks.check_tenant_key_grants_name_their_tenant(tw_stack, twilio_template)
    checks.check_tenant_key_actions(tw_stack, twilio_template, TENANT_KEY_ACTIONS)


def test_platform_key_is_used_only_through_aws_services(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    checks.check_platform_key_only_through_services(tw_stack, twilio_template)


def test_topics_and_queues_are_encrypted_ssl_only_and_dlqs_alarmed(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    checks.check_topics_and_queues_use_customer_managed_keys(twilio_template)
    checks.check_queues_and_topics_deny_plain_http(twilio_template)
    checks.check_every_dead_letter_queue_alarms_the_alarm_topic(tw_stack, twilio_template)


def test_queue_consumers_report_partial_batch_failures(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    checks.check_event_source_mappings(tw_stack, twilio_template)


def test_each_function_gets_exactly_the_settings_its_code_reads(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    checks.check_environment(tw_stack, twilio_template, EXPECTED_ENVIRONMENT)


@pytest.mark.parametrize("name", sorted(EXPECTED_ENVIRONMENT))
def test_the_deployed_environment_satisfies_the_settings_code(
    tw_stack: QuietlineStack,
    twilio_template: Template,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checks.check_settings_load(tw_stack, twilio_template, name)


def test_twilio_settings_point_at_the_secret_and_the_stage(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    messaging = tw_stack.messaging
    for fn in (messaging.sender, _webhook(tw_stack)):
        resource(twilio_template, fn.function).has_properties(
            {
                "Environment": {
                    "Variables": {
                        E.ENV_TWILIO_ACCOUNT_SID: TWILIO_ACCOUNT_SID,
                        E.ENV_TWILIO_AUTH_TOKEN_SECRET: ref(_auth_token(tw_stack)),
                    }
                }
            }
        )
    base = Capture()
    resource(twilio_template, messaging.sender.function).has_properties(
        {"Environment": {"Variables": {E.ENV_PUBLIC_BASE_URL: {"Fn::Join": ["", base]}}}}
    )
    assert ref(_api(tw_stack).api) in base.as_array()
    assert base.as_array()[-1].endswith("/prod")


def test_webhook_signature_alarm_fires_on_a_burst_of_forgeries(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    metric = Capture()
    twilio_template.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"Namespace": "Quietline", "MetricName": metric}}
    )
    assert set(every_capture(metric, Capture.as_string)) == {
        "SweeperExpired",
        "StaffNotificationFailed",
        "OutboundEnqueueFailed",
        "SendDecryptFailed",
        "InboundDeferred",
        "WebhookSignatureRejected",
        "UnusualReadVolume",
        "CarePageFailed",
        "ScheduledFailed",  # the scheduler's (tests/infra/test_scheduler.py)
        "ScheduledRetrying",
    }

    threshold = Capture()
    single(
        twilio_template,
        "AWS::CloudWatch::Alarm",
        {"Namespace": "Quietline", "MetricName": "WebhookSignatureRejected"},
    ).has_properties(
        {
            "Threshold": threshold,
            "Period": 300,
            "AlarmActions": [ref(tw_stack.alarms.topic)],
        }
    )
    assert threshold.as_number() >= 10


def test_staff_notices_are_emailed_to_the_configured_addresses(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    topic = ref(tw_stack.messaging.staff.topic)
    single(twilio_template, "AWS::SNS::Subscription", {"TopicArn": topic}).has_properties(
        Match.object_equals({"Endpoint": STAFF_EMAIL, "Protocol": "email", "TopicArn": topic})
    )


def test_only_the_stream_consumers_publish_staff_notices(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    # Inbound functions (and a secure-message reply) only store: the stream tells staff,
    # through the staff notifier (new messages) and the care pager (pages: crisis flags and
    # after-hours texts), both off the carrier's request path.
    messaging = tw_stack.messaging
    publishers = {messaging.staff_notifier.role, tw_stack.care_pager.function.role}
    if tw_stack.messaging.twilio_voice is not None:
        publishers.add(tw_stack.messaging.twilio_voice.role)
    grants = checks.check_exclusive_action(
        twilio_template, "sns:Publish", {logical_id(role) for role in publishers}
    )
    for statement in grants:
        assert statement["Resource"] == ref(messaging.staff.topic)


def test_the_staff_notifier_reads_only_inbound_message_inserts_from_the_stream(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    checks.check_staff_notifier_reads_the_message_stream(tw_stack, twilio_template)


def test_the_staff_notifier_role_has_exactly_its_actions(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    checks.check_staff_notifier_role(tw_stack, twilio_template)


# --- outputs --------------------------------------------------------------------------------------
def test_outputs_give_twilio_its_webhook_urls_and_the_admin_the_secret(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    for output_id, path in (
        ("TwilioSmsWebhookUrl", "/webhooks/twilio/sms"),
        ("TwilioStatusWebhookUrl", "/webhooks/twilio/status"),
    ):
        parts = Capture()
        twilio_template.has_output(output_id, {"Value": {"Fn::Join": ["", parts]}})
        assert parts.as_array()[-1] == f"/prod{path}"
        assert ref(_api(tw_stack).api) in parts.as_array()
    twilio_template.has_output(
        "TwilioAuthTokenSecretArn",
        {
            "Value": ref(_auth_token(tw_stack)),
            "Description": Match.string_like_regexp("aws secretsmanager put-secret-value"),
        },
    )
    outputs = twilio_template.find_outputs("*")
    assert not any(key.startswith("Inbound") for key in outputs)
    # Only our outputs: CDK's generic "<api>Endpoint" output is removed.
    assert all(not key.startswith("Messaging") for key in outputs)


def test_a_custom_domain_becomes_the_signed_url_everywhere() -> None:
    # Construction and a plain synth (no nag): only what public_base_url changes.
    base = "https://sms.harbor-counseling.example"
    # With the URLs exactly as the Twilio console has them, queries included.
    sms = "/webhooks/twilio/sms"
    console_urls = [f"{base}{sms}?next=/a&at=09:30", f"{base}{sms}?t=1"]
    config = make_config(
        **{
            **TWILIO_OVERRIDES,
            "waf": {"enabled": False},
            "twilio": {
                "account_sid": TWILIO_ACCOUNT_SID,
                "public_base_url": base,
                "webhook_urls": console_urls,
            },
        }
    )
    stack = QuietlineStack(
        plain_app(),
        "Quietline",
        config=config,
        env=cdk.Environment(account=ACCOUNT, region=REGION),
    )
    template = Template.from_stack(stack)

    for fn in (stack.messaging.sender, _webhook(stack)):
        resource(template, fn.function).has_properties(
            {"Environment": {"Variables": {E.ENV_PUBLIC_BASE_URL: base}}}
        )
    template.has_output("TwilioSmsWebhookUrl", {"Value": base + "/webhooks/twilio/sms"})
    template.has_output("TwilioStatusWebhookUrl", {"Value": base + "/webhooks/twilio/status"})
    webhook = _webhook(stack)
    urls = Capture()
    resource(template, webhook.function).has_properties(
        {"Environment": {"Variables": {E.ENV_TWILIO_WEBHOOK_URLS: urls}}}
    )
    parsed = settings.Settings.from_environ({E.ENV_TWILIO_WEBHOOK_URLS: urls.as_string()})
    assert parsed.twilio_webhook_urls == tuple(console_urls)
    resource(template, stack.messaging.sender.function).has_properties(
        {"Environment": {"Variables": {E.ENV_TWILIO_WEBHOOK_URLS: Match.absent()}}}
    )
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
    template = Template.from_stack(stack)

    sender = stack.messaging.sender
    resource(template, sender.function).has_properties(
        {"Environment": {"Variables": {E.ENV_SMS_CONFIGURATION_SET: "quietline-events"}}}
    )
    (grant,) = checks.granted(
        checks.function_statements(template, sender), "sms-voice:SendTextMessage"
    )
    assert f"arn:aws:sms-voice:{REGION}:{ACCOUNT}:configuration-set/quietline-events" in as_list(
        grant["Resource"]
    )


def test_voice_off_deploys_no_voice_resource(
    tw_stack: QuietlineStack, twilio_template: Template
) -> None:
    checks.check_voice_off_deploys_nothing_of_voice(tw_stack, twilio_template)
