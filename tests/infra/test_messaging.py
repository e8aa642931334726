"""Two-way SMS over AWS End User Messaging (the default carrier): queues, functions,
grants, the inbound topic and its key, delivery events, alarms and outputs."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Capture, Match, Template

from functions.core import settings
from infra.bundling import FUNCTIONS_DIR
from infra.constructs.function import QuietlineFunction
from infra.stack import QuietlineStack
from tests.infra import messaging_checks as checks
from tests.infra.conftest import (
    ACCOUNT,
    REGION,
    Synthesized,
    arn,
    as_list,
    every_capture,
    logical_id,
    ref,
    resource,
    single,
)

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth")]

SMS_VOICE_SOURCE_ARN = f"arn:aws:sms-voice:{REGION}:{ACCOUNT}:*"
BOTH_CONDITIONS = {
    "StringEquals": {"aws:SourceAccount": ACCOUNT},
    "ArnLike": {"aws:SourceArn": SMS_VOICE_SOURCE_ARN},
}

E = settings
EXPECTED_ENVIRONMENT = {
    "sender": {E.ENV_TABLE_NAME, E.ENV_CARRIER, E.ENV_OUTBOUND_QUEUE_URL},
    "retry_worker": {
        E.ENV_TABLE_NAME,
        E.ENV_CARRIER,
        E.ENV_OUTBOUND_QUEUE_URL,
    },
    "sweeper": {E.ENV_TABLE_NAME, E.ENV_CARRIER, E.ENV_OUTBOUND_QUEUE_URL},
    "staff_notifier": {E.ENV_TABLE_NAME, E.ENV_STAFF_TOPIC_ARN},
    "inbound": {
        E.ENV_TABLE_NAME,
        E.ENV_CARRIER,
        E.ENV_OUTBOUND_QUEUE_URL,
        E.ENV_RETRY_QUEUE_URL,
    },
    "delivery_events": {E.ENV_TABLE_NAME, E.ENV_RETRY_QUEUE_URL},
    # Pages: the staff topic, who is staff, the flag's audit event, the carrier (no queue).
    "care_pager": {
        E.ENV_TABLE_NAME,
        E.ENV_STAFF_TOPIC_ARN,
        E.ENV_AUDIT_TABLE_NAME,
        E.ENV_USER_POOL_ID,
        E.ENV_CARRIER,
    },
}
TENANT_KEY_ACTIONS = {
    "sender": {"kms:Decrypt"},
    "retry_worker": {"kms:Decrypt", "kms:GenerateDataKey"},
    "sweeper": set(),
    "staff_notifier": set(),
    "inbound": {"kms:Decrypt", "kms:GenerateDataKey"},
    "delivery_events": set(),
    "care_pager": {"kms:Decrypt"},  # forwarding cells only (test_care_pager.py)
}


@pytest.fixture(scope="module")
def aws_stack(stack: QuietlineStack) -> QuietlineStack:
    assert stack.config.carrier == "aws"
    return stack


def _inbound(stack: QuietlineStack) -> tuple[QuietlineFunction, sns.Topic]:
    inbound, topic = stack.messaging.inbound, stack.messaging.inbound_topic
    assert inbound is not None and topic is not None, "the aws carrier receives through SNS"
    return inbound, topic


# --- queues ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "max_receives", "visibility_seconds"), [("outbound", 5, 120), ("retry", 8, 180)]
)
def test_each_queue_has_its_redrive_and_visibility(
    aws_stack: QuietlineStack,
    app_template: Template,
    name: str,
    max_receives: int,
    visibility_seconds: int,
) -> None:
    (built,) = [queue for queue in aws_stack.queues.all if queue.spec.name == name]
    platform_key = arn(aws_stack.platform_key.key)

    resource(app_template, built.queue).has(
        {
            "Properties": {
                "VisibilityTimeout": visibility_seconds,
                "RedrivePolicy": Match.object_equals(
                    {
                        "deadLetterTargetArn": arn(built.dead_letter_queue),
                        "maxReceiveCount": max_receives,
                    }
                ),
                "KmsMasterKeyId": platform_key,
            },
            # Transit buffers, not records: removed with the stack (module docstring).
            "DeletionPolicy": "Delete",
        }
    )
    resource(app_template, built.dead_letter_queue).has(
        {
            "Properties": {
                "MessageRetentionPeriod": 14 * 24 * 3600,
                "KmsMasterKeyId": platform_key,
            },
            "DeletionPolicy": "Delete",
        }
    )


def test_the_queues_are_outbound_and_retry(aws_stack: QuietlineStack) -> None:
    assert [queue.spec.name for queue in aws_stack.queues.all] == ["outbound", "retry"]


def test_topics_and_queues_are_encrypted_with_customer_managed_keys(
    app_template: Template,
) -> None:
    checks.check_topics_and_queues_use_customer_managed_keys(app_template)


def test_every_queue_and_topic_refuses_plain_http(app_template: Template) -> None:
    checks.check_queues_and_topics_deny_plain_http(app_template)


def test_every_dead_letter_queue_alarms_the_alarm_topic(
    aws_stack: QuietlineStack, app_template: Template
) -> None:
    checks.check_every_dead_letter_queue_alarms_the_alarm_topic(aws_stack, app_template)


def test_queue_dead_letter_alarms_fire_on_the_first_message(
    aws_stack: QuietlineStack, app_template: Template
) -> None:
    for queue in aws_stack.queues.all:
        resource(app_template, queue.dead_letter_alarm).has_properties(
            {
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "Threshold": 1,
                "Period": 60,
            }
        )


# --- the inbound path: End User Messaging -> SNS -> Lambda ------------------------------
def test_inbound_topic_admits_only_end_user_messaging_of_this_account(
    aws_stack: QuietlineStack, app_template: Template
) -> None:
    _, topic = _inbound(aws_stack)
    policy = single(app_template, "AWS::SNS::TopicPolicy", {"Topics": [ref(topic)]})

    allows = [s for s in policy.statements() if s["Effect"] == "Allow"]

    assert allows == [
        {
            "Action": "sns:Publish",
            "Condition": BOTH_CONDITIONS,
            "Effect": "Allow",
            "Principal": {"Service": "sms-voice.amazonaws.com"},
            "Resource": ref(topic),
            "Sid": "AllowEndUserMessagingOfThisAccount",
        }
    ]


def test_inbound_topic_key_lets_end_user_messaging_encrypt_for_this_account_only(
    aws_stack: QuietlineStack, app_template: Template
) -> None:
    _, topic = _inbound(aws_stack)
    # The platform key, not a fourth key ($1 a month): one scoped statement admits sms-voice.
    resource(app_template, topic).has_properties(
        {"KmsMasterKeyId": arn(aws_stack.platform_key.key)}
    )
    key = resource(app_template, aws_stack.platform_key.key)

    sms_voice = [
        s for s in key.statements("KeyPolicy") if "sms-voice" in json.dumps(s.get("Principal"))
    ]

    assert sms_voice == [
        {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Condition": BOTH_CONDITIONS,
            "Effect": "Allow",
            "Principal": {"Service": "sms-voice.amazonaws.com"},
            "Resource": "*",
            "Sid": "AllowEndUserMessagingOfThisAccount",
        }
    ]
    key.has_properties({"EnableKeyRotation": True})


def test_inbound_function_is_subscribed_to_the_inbound_topic(
    aws_stack: QuietlineStack, app_template: Template
) -> None:
    inbound, topic = _inbound(aws_stack)
    function_arn = arn(inbound.function)

    single(app_template, "AWS::SNS::Subscription", {"TopicArn": ref(topic)}).has_properties(
        Match.object_equals(
            {"Endpoint": function_arn, "Protocol": "lambda", "TopicArn": ref(topic)}
        )
    )
    single(app_template, "AWS::Lambda::Permission", {"FunctionName": function_arn}).has_properties(
        {"Principal": "sns.amazonaws.com", "SourceArn": ref(topic)}
    )


def test_inbound_async_failures_retry_twice_then_land_in_its_alarmed_dlq(
    aws_stack: QuietlineStack, app_template: Template
) -> None:
    inbound, _ = _inbound(aws_stack)

    single(
        app_template, "AWS::Lambda::EventInvokeConfig", {"FunctionName": ref(inbound.function)}
    ).has_properties({"MaximumRetryAttempts": 2})
    resource(app_template, inbound.function).has_properties(
        {"DeadLetterConfig": Match.object_equals({"TargetArn": arn(inbound.dead_letter_queue)})}
    )
    assert logical_id(inbound.dead_letter_queue) in checks.dead_letter_queue_ids(app_template)


def test_aws_carrier_has_no_public_endpoint_and_no_twilio_secret(
    aws_stack: QuietlineStack, app_template: Template, template: dict[str, Any]
) -> None:
    secure_links = aws_stack.secure_links
    assert secure_links is not None, "the default app hosts the inbox and its secure page"
    # The REST APIs are the staff API (Cognito-authorized) and the clients' secure-link
    # API; no webhook API, no WAF.
    assert set(app_template.find_resources("AWS::ApiGateway::RestApi")) == {
        logical_id(aws_stack.staff_api.api),
        logical_id(secure_links.api),
    }
    assert "AWS::WAFv2" not in json.dumps(template["Resources"])
    app_template.resource_count_is("AWS::Lambda::Url", 0)
    # The one secret is Web Push's VAPID key (tests/infra/test_web_push.py), no Twilio token.
    assert aws_stack.web_push is not None
    assert set(app_template.find_resources("AWS::SecretsManager::Secret")) == {
        logical_id(aws_stack.web_push.secret)
    }
    staff_functions = [
        arn(function.function) for function in (aws_stack.staff_api.function, secure_links.function)
    ]
    # Every permission names its source; besides the staff API's (and Cognito's for the
    # passkey sign-in triggers, test_passkey_sign_in.py), only SNS and EventBridge.
    function_name, principal = Capture(), Capture()
    app_template.all_resources_properties(
        "AWS::Lambda::Permission",
        {"FunctionName": function_name, "Principal": principal, "SourceArn": Match.any_value()},
    )
    principals = {
        p
        for f, p in zip(
            every_capture(function_name, Capture.as_object),
            every_capture(principal, Capture.as_string),
            strict=True,
        )
        if f not in staff_functions
        and f
        not in (
            arn(aws_stack.live.socket_handler.function),
            arn(aws_stack.passkey_sign_in.function.function),
        )
    }
    assert principals == {"sns.amazonaws.com", "events.amazonaws.com"}


# --- delivery status events and the sweeper (EventBridge) -------------------------------
def test_delivery_status_events_reach_the_delivery_function_with_retries_and_a_dlq(
    aws_stack: QuietlineStack, app_template: Template
) -> None:
    fn = aws_stack.messaging.delivery_events
    assert fn is not None, "the aws carrier reports delivery through EventBridge"
    retries = Capture()

    single(app_template, "AWS::Events::Rule", {"EventPattern": Match.any_value()}).has_properties(
        {
            "EventPattern": Match.object_equals(
                {
                    "source": ["aws.sms-voice"],
                    "detail-type": ["Text Message Delivery Status Updated"],
                }
            ),
            "EventBusName": Match.absent(),  # the default bus
            "Targets": [
                {
                    "Arn": arn(fn.function),
                    "DeadLetterConfig": Match.object_equals({"Arn": arn(fn.dead_letter_queue)}),
                    "RetryPolicy": {"MaximumRetryAttempts": retries},
                }
            ],
        }
    )
    assert retries.as_number() >= 1


def test_sweeper_runs_every_five_minutes_with_retries_and_a_dlq(
    aws_stack: QuietlineStack, app_template: Template
) -> None:
    sweeper = aws_stack.messaging.sweeper
    retries = Capture()

    # (the scheduler's minute rule is tests/infra/test_scheduler.py's)
    single(
        app_template, "AWS::Events::Rule", {"ScheduleExpression": "rate(5 minutes)"}
    ).has_properties(
        {
            "ScheduleExpression": "rate(5 minutes)",
            "Targets": [
                {
                    "Arn": arn(sweeper.function),
                    "DeadLetterConfig": Match.object_equals(
                        {"Arn": arn(sweeper.dead_letter_queue)}
                    ),
                    "RetryPolicy": {"MaximumRetryAttempts": retries},
                }
            ],
        }
    )
    assert retries.as_number() >= 1


def test_eventbridge_may_write_to_dead_letter_queues_of_this_accounts_rules_only(
    aws_stack: QuietlineStack, app_template: Template
) -> None:
    statements = resource(app_template, aws_stack.platform_key.key).statements("KeyPolicy")
    (events_statement,) = [
        s for s in statements if s["Principal"] == {"Service": "events.amazonaws.com"}
    ]

    assert events_statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/*"},
    }
    assert set(as_list(events_statement["Action"])) == {"kms:GenerateDataKey", "kms:Decrypt"}


# --- SQS consumers -----------------------------------------------------------------------
def test_queue_consumers_report_partial_batch_failures(
    aws_stack: QuietlineStack, app_template: Template
) -> None:
    checks.check_event_source_mappings(aws_stack, app_template)


# --- functions: roles, least privilege, environment ----------------------------------------
def test_each_function_has_its_own_role(app_template: Template) -> None:
    checks.check_one_role_per_function(app_template)


def test_no_role_may_scan_or_use_a_wildcard_action(app_template: Template) -> None:
    checks.check_no_scan_and_no_wildcard_action(app_template)


def test_tenant_key_grants_carry_the_tenant_context(
    aws_stack: QuietlineStack, app_template: Template
) -> None:
    checks.check_tenant_key_grants_name_their_tenant(aws_stack, app_template)


def test_tenant_key_actions_per_function(aws_stack: QuietlineStack, app_template: Template) -> None:
    # The sender only decrypts, the sweeper and delivery function touch no tenant key.
    checks.check_tenant_key_actions(aws_stack, app_template, TENANT_KEY_ACTIONS)


def test_platform_key_is_used_only_through_aws_services(
    aws_stack: QuietlineStack, app_template: Template
) -> None:
    checks.check_platform_key_only_through_services(aws_stack, app_template)


def test_only_the_sender_and_the_care_pager_may_send_texts_from_this_accounts_numbers(
    aws_stack: QuietlineStack, app_template: Template
) -> None:
    grants = checks.check_exclusive_action(
        app_template,
        "sms-voice:SendTextMessage",
        {
            logical_id(aws_stack.messaging.sender.role),
            # Pages the on-call clinician's cell from the practice number (docs/crisis.md).
            logical_id(aws_stack.care_pager.function.role),
        },
    )

    assert len(grants) == 2
    for grant in grants:
        assert checks.actions(grant) == {"sms-voice:SendTextMessage"}
        assert as_list(grant["Resource"]) == [
            f"arn:aws:sms-voice:{REGION}:{ACCOUNT}:phone-number/*",
            f"arn:aws:sms-voice:{REGION}:{ACCOUNT}:pool/*",
        ]


def test_on_the_aws_carrier_only_the_push_sender_reads_a_secret_its_vapid_key(
    aws_stack: QuietlineStack, app_template: Template
) -> None:
    web_push = aws_stack.web_push
    assert web_push is not None
    (grant,) = checks.check_exclusive_action(
        app_template,
        "secretsmanager:GetSecretValue",
        {logical_id(aws_stack.live.notifier.role)},
    )
    assert grant["Resource"] == ref(web_push.secret)


def _queue_actions(stack: QuietlineStack, template: Template, name: str) -> dict[str, set[str]]:
    """Queue -> SQS actions of one function; every SQS action is on one of these queues."""
    fn = checks.messaging_functions(stack)[name]
    queues = {
        logical_id(stack.queues.outbound.queue): "outbound",
        logical_id(stack.queues.retry.queue): "retry",
        logical_id(fn.dead_letter_queue): "own-dlq",
    }
    found: dict[str, set[str]] = {}
    for statement in checks.function_statements(template, fn):
        sqs_actions = {a for a in checks.actions(statement) if a.startswith("sqs:")}
        if not sqs_actions:
            continue
        for queue in as_list(statement["Resource"]):
            found.setdefault(queues[queue["Fn::GetAtt"][0]], set()).update(sqs_actions)
    return found


CONSUME = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
SEND = {"sqs:SendMessage"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sender", {"outbound": CONSUME | {"sqs:ChangeMessageVisibility"}, "own-dlq": SEND}),
        ("retry_worker", {"retry": CONSUME, "outbound": SEND, "own-dlq": SEND}),
        ("sweeper", {"outbound": SEND, "own-dlq": SEND}),
        ("staff_notifier", {"own-dlq": SEND}),
        ("inbound", {"outbound": SEND, "retry": SEND, "own-dlq": SEND}),
        ("delivery_events", {"retry": SEND, "own-dlq": SEND}),
    ],
)
def test_queue_actions_per_function(
    aws_stack: QuietlineStack, app_template: Template, name: str, expected: dict[str, set[str]]
) -> None:
    assert _queue_actions(aws_stack, app_template, name) == expected


def test_only_the_stream_consumers_publish_staff_notices(
    aws_stack: QuietlineStack, app_template: Template
) -> None:
    # Inbound functions (and a secure-message reply) only store: the stream tells staff,
    # through the staff notifier (new messages) and the care pager (pages: crisis flags and
    # after-hours texts), both off the carrier's request path.
    messaging = aws_stack.messaging
    publishers = {messaging.staff_notifier.role, aws_stack.care_pager.function.role}
    if aws_stack.messaging.twilio_voice is not None:
        publishers.add(aws_stack.messaging.twilio_voice.role)
    grants = checks.check_exclusive_action(
        app_template, "sns:Publish", {logical_id(role) for role in publishers}
    )
    for statement in grants:
        assert statement["Resource"] == ref(messaging.staff.topic)


def test_the_staff_notifier_reads_only_inbound_message_inserts_from_the_stream(
    aws_stack: QuietlineStack, app_template: Template
) -> None:
    checks.check_staff_notifier_reads_the_message_stream(aws_stack, app_template)


def test_the_staff_notifier_role_has_exactly_its_actions(
    aws_stack: QuietlineStack, app_template: Template
) -> None:
    checks.check_staff_notifier_role(aws_stack, app_template)


def test_staff_topic_is_encrypted_with_the_platform_key(
    aws_stack: QuietlineStack, app_template: Template
) -> None:
    resource(app_template, aws_stack.messaging.staff.topic).has_properties(
        {"KmsMasterKeyId": arn(aws_stack.platform_key.key)}
    )


def test_each_function_gets_exactly_the_settings_its_code_reads(
    aws_stack: QuietlineStack, app_template: Template
) -> None:
    checks.check_environment(aws_stack, app_template, EXPECTED_ENVIRONMENT)


@pytest.mark.parametrize("name", sorted(EXPECTED_ENVIRONMENT))
def test_the_deployed_environment_satisfies_the_settings_code(
    aws_stack: QuietlineStack,
    app_template: Template,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checks.check_settings_load(aws_stack, app_template, name)


@pytest.mark.parametrize("name", sorted(EXPECTED_ENVIRONMENT))
def test_handler_strings_name_real_handlers(
    aws_stack: QuietlineStack, app_template: Template, name: str
) -> None:
    handler = Capture()
    fn = checks.messaging_functions(aws_stack)[name]
    resource(app_template, fn.function).has_properties({"Handler": handler})

    module, attribute = handler.as_string().rsplit(".", 1)

    assert callable(getattr(importlib.import_module(module), attribute))


# --- alarms on the pipeline's own metrics ----------------------------------------------------
PIPELINE_METRICS = {
    "CarePageFailed",  # the care pager's (infra/constructs/care_pager.py)
    "SweeperExpired",
    "StaffNotificationFailed",
    "OutboundEnqueueFailed",
    "SendDecryptFailed",
    "InboundDeferred",
}


def test_pipeline_metric_alarms_match_what_powertools_emits(
    aws_stack: QuietlineStack, app_template: Template
) -> None:
    # Powertools EMF: every metric carries the dimension service=<Metrics(service=)>.
    emitted = {"Namespace": "Quietline", "Dimensions": [{"Name": "service", "Value": "quietline"}]}
    metric = Capture()
    app_template.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"Namespace": "Quietline", "MetricName": metric}}
    )

    # The pipeline's alarms, and the staff API's breach early warning built the same way.
    # (the scheduler's own are tests/infra/test_scheduler.py's)
    scheduler = {"ScheduledFailed", "ScheduledRetrying"}
    assert (
        set(every_capture(metric, Capture.as_string))
        == PIPELINE_METRICS | {"UnusualReadVolume"} | scheduler
    )
    for name in PIPELINE_METRICS | {"UnusualReadVolume"}:
        single(
            app_template, "AWS::CloudWatch::Alarm", {**emitted, "MetricName": name}
        ).has_properties(
            {
                "Statistic": "Sum",
                "Period": 300,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [ref(aws_stack.alarms.topic)],
            }
        )
    app_template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {**emitted, "MetricName": "InboundDeferred", "Threshold": 1}
    )


def test_every_alarmed_metric_is_emitted_by_the_code() -> None:
    source = "\n".join(
        path.read_text(encoding="utf-8") for path in Path(FUNCTIONS_DIR).rglob("*.py")
    )
    from infra.constructs.messaging import PIPELINE_ALARMS, WEBHOOK_ALARMS

    for spec in (*PIPELINE_ALARMS, *WEBHOOK_ALARMS):
        assert re.search(rf'count\(\s*"{spec.metric_name}"', source), spec.metric_name


# --- outputs ---------------------------------------------------------------------------------
def test_outputs_of_the_aws_carrier(aws_stack: QuietlineStack, app_template: Template) -> None:
    messaging = aws_stack.messaging
    inbound, topic = _inbound(aws_stack)

    expected = {
        "OutboundQueueUrl": ref(aws_stack.queues.outbound.queue),
        "OutboundDlqUrl": ref(aws_stack.queues.outbound.dead_letter_queue),
        "RetryQueueUrl": ref(aws_stack.queues.retry.queue),
        "RetryDlqUrl": ref(aws_stack.queues.retry.dead_letter_queue),
        "SenderFunctionName": ref(messaging.sender.function),
        "InboundFunctionName": ref(inbound.function),
        "InboundFunctionDlqUrl": ref(inbound.dead_letter_queue),
        "InboundSmsTopicArn": ref(topic),
        "StaffTopicArn": ref(messaging.staff.topic),
    }
    for output_id, value in expected.items():
        app_template.has_output(output_id, {"Value": Match.exact(value)})
    assert not any(key.startswith("Twilio") for key in app_template.find_outputs("*"))
    description = Capture()
    app_template.has_output("InboundSmsTopicArn", {"Description": description})
    assert "quietline numbers two-way" in description.as_string()
    assert "update-phone-number" in description.as_string()
    assert "--two-way-channel-arn" in description.as_string()


def test_outputs_the_cli_reads_exist(app_template: Template) -> None:
    from cli.main import REPLAYABLE

    needed = {name for pair in REPLAYABLE.values() for name in pair} | {
        "InboundFunctionDlqUrl",
        "InboundFunctionName",
        "InboundSmsTopicArn",
        "MessageTableName",
    }
    assert needed <= set(app_template.find_outputs("*"))


def test_outputs_carry_no_business_number(template: dict[str, Any]) -> None:
    text = str(template["Outputs"])
    assert not re.search(r"\+1\d{10}", text)


# --- optional VPC ------------------------------------------------------------------------------
def test_vpc_has_an_end_user_messaging_endpoint_for_the_aws_carrier(
    function_stacks: Synthesized,
) -> None:
    function_stacks.template("FunctionsInVpc").has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {"ServiceName": Match.string_like_regexp(r"sms-voice")},
    )


def test_one_alarm_topic_receives_every_alarm(app_template: Template) -> None:
    # The topic CloudWatch may publish to (its key and policy admit cloudwatch.amazonaws.com).
    topic = Capture()
    single(
        app_template,
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Allow",
                                "Action": "sns:Publish",
                                "Principal": {
                                    "Service": Match.array_with(["cloudwatch.amazonaws.com"])
                                },
                            }
                        )
                    ]
                )
            },
            "Topics": [topic],
        },
    )
    app_template.all_resources_properties(
        "AWS::CloudWatch::Alarm", {"AlarmActions": Match.array_with([topic.as_object()])}
    )


def test_voice_off_deploys_no_voice_resource(
    aws_stack: QuietlineStack, app_template: Template
) -> None:
    checks.check_voice_off_deploys_nothing_of_voice(aws_stack, app_template)
