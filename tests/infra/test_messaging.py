"""Two-way SMS over AWS End User Messaging (the default carrier): queues, functions,
grants, the inbound topic and its key, delivery events, alarms and outputs."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from functions.core import settings
from functions.core.observability import METRICS_NAMESPACE, SERVICE
from functions.dal import schema
from infra.bundling import FUNCTIONS_DIR
from infra.constructs.end_user_messaging import (
    DELIVERY_STATUS_DETAIL_TYPE,
    SMS_VOICE_EVENT_SOURCE,
)
from infra.constructs.messaging import PIPELINE_ALARMS
from infra.constructs.staff_api import UNUSUAL_READ_METRIC
from infra.stack import QuietlineStack
from tests.infra import messaging_checks as checks
from tests.infra.conftest import (
    ACCOUNT,
    REGION,
    Synthesized,
    as_list,
    get_att_arn,
    logical_id,
    only,
    resources,
    statements,
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
}
TENANT_KEY_ACTIONS = {
    "sender": {"kms:Decrypt"},
    "retry_worker": {"kms:Decrypt", "kms:GenerateDataKey"},
    "sweeper": set(),
    "staff_notifier": set(),
    "inbound": {"kms:Decrypt", "kms:GenerateDataKey"},
    "delivery_events": set(),
}


@pytest.fixture(scope="module")
def aws_stack(stack: QuietlineStack) -> QuietlineStack:
    assert stack.config.carrier == "aws"
    return stack


def _props(template: dict[str, Any], construct: Any) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"][logical_id(construct)]["Properties"]
    return found


# --- queues (functions/dal/schema.py QUEUES) --------------------------------------------
@pytest.mark.parametrize("spec", schema.QUEUES, ids=lambda spec: spec.name)
def test_each_queue_spec_becomes_a_queue_with_its_redrive_and_visibility(
    aws_stack: QuietlineStack, template: dict[str, Any], spec: schema.QueueSpec
) -> None:
    built = aws_stack.queues[spec]

    queue = template["Resources"][logical_id(built.queue)]
    dead_letters = template["Resources"][logical_id(built.dead_letter_queue)]

    assert queue["Properties"]["VisibilityTimeout"] == spec.visibility_seconds
    assert queue["Properties"]["RedrivePolicy"] == {
        "deadLetterTargetArn": get_att_arn(logical_id(built.dead_letter_queue)),
        "maxReceiveCount": spec.max_receives,
    }
    assert dead_letters["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    platform_key = get_att_arn(logical_id(aws_stack.platform_key.key))
    for resource in (queue, dead_letters):
        assert resource["Properties"]["KmsMasterKeyId"] == platform_key
        # Transit buffers, not records: removed with the stack (module docstring).
        assert resource["DeletionPolicy"] == "Delete"


def test_queues_are_exactly_the_schema_specs(aws_stack: QuietlineStack) -> None:
    assert [queue.spec for queue in aws_stack.queues.all] == list(schema.QUEUES)


def test_topics_and_queues_are_encrypted_with_customer_managed_keys(
    template: dict[str, Any],
) -> None:
    checks.check_topics_and_queues_use_customer_managed_keys(template)


def test_every_queue_and_topic_refuses_plain_http(template: dict[str, Any]) -> None:
    checks.check_queues_and_topics_deny_plain_http(template)


def test_every_dead_letter_queue_alarms_the_alarm_topic(
    aws_stack: QuietlineStack, template: dict[str, Any]
) -> None:
    checks.check_every_dead_letter_queue_alarms_the_alarm_topic(aws_stack, template)


def test_queue_dead_letter_alarms_fire_on_the_first_message(
    aws_stack: QuietlineStack, template: dict[str, Any]
) -> None:
    for queue in aws_stack.queues.all:
        alarm = _props(template, queue.dead_letter_alarm)
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == (
            "GreaterThanOrEqualToThreshold",
            1,
        )
        assert alarm["Period"] == 60


# --- the inbound path: End User Messaging -> SNS -> Lambda ------------------------------
def test_inbound_topic_admits_only_end_user_messaging_of_this_account(
    aws_stack: QuietlineStack, template: dict[str, Any]
) -> None:
    topic = aws_stack.messaging.inbound_topic
    assert topic is not None
    (policy,) = [
        p
        for p in resources(template, "AWS::SNS::TopicPolicy").values()
        if p["Properties"]["Topics"] == [{"Ref": logical_id(topic)}]
    ]
    allows = [
        s for s in statements(policy["Properties"]["PolicyDocument"]) if s["Effect"] == "Allow"
    ]

    assert allows == [
        {
            "Action": "sns:Publish",
            "Condition": BOTH_CONDITIONS,
            "Effect": "Allow",
            "Principal": {"Service": "sms-voice.amazonaws.com"},
            "Resource": {"Ref": logical_id(topic)},
            "Sid": "AllowEndUserMessagingOfThisAccount",
        }
    ]


def test_inbound_topic_key_lets_end_user_messaging_encrypt_for_this_account_only(
    aws_stack: QuietlineStack, template: dict[str, Any]
) -> None:
    topic = aws_stack.messaging.inbound_topic
    assert topic is not None
    key_id = _props(template, topic)["KmsMasterKeyId"]["Fn::GetAtt"][0]
    # The platform key, not a fourth key ($1 a month): one scoped statement admits sms-voice.
    assert key_id == logical_id(aws_stack.platform_key.key)
    key = template["Resources"][key_id]

    sms_voice = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if "sms-voice" in json.dumps(s.get("Principal"))
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
    assert key["Properties"]["EnableKeyRotation"] is True


def test_inbound_function_is_subscribed_to_the_inbound_topic(
    aws_stack: QuietlineStack, template: dict[str, Any]
) -> None:
    inbound, topic = aws_stack.messaging.inbound, aws_stack.messaging.inbound_topic
    assert inbound is not None and topic is not None
    function_arn = get_att_arn(logical_id(inbound.function))

    (subscription,) = [
        s["Properties"]
        for s in resources(template, "AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == {"Ref": logical_id(topic)}
    ]
    assert subscription == {
        "Endpoint": function_arn,
        "Protocol": "lambda",
        "TopicArn": {"Ref": logical_id(topic)},
    }
    (permission,) = [
        p["Properties"]
        for p in resources(template, "AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == function_arn
    ]
    assert permission["Principal"] == "sns.amazonaws.com"
    assert permission["SourceArn"] == {"Ref": logical_id(topic)}


def test_inbound_async_failures_retry_twice_then_land_in_its_alarmed_dlq(
    aws_stack: QuietlineStack, template: dict[str, Any]
) -> None:
    inbound = aws_stack.messaging.inbound
    assert inbound is not None

    (config,) = [
        c["Properties"]
        for c in resources(template, "AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": logical_id(inbound.function)}
    ]

    assert config["MaximumRetryAttempts"] == 2
    assert _props(template, inbound.function)["DeadLetterConfig"] == {
        "TargetArn": get_att_arn(logical_id(inbound.dead_letter_queue))
    }
    assert logical_id(inbound.dead_letter_queue) in checks.dead_letter_queue_ids(template)


def test_aws_carrier_has_no_public_endpoint_and_no_twilio_secret(
    aws_stack: QuietlineStack, template: dict[str, Any]
) -> None:
    types = {resource["Type"] for resource in template["Resources"].values()}

    # The one REST API is the staff API (Cognito-authorized); no webhook API, no WAF.
    (api_id,) = resources(template, "AWS::ApiGateway::RestApi")
    assert api_id == logical_id(aws_stack.staff_api.api)
    assert not any(t.startswith("AWS::WAFv2") for t in types)
    assert "AWS::Lambda::Url" not in types
    assert "AWS::SecretsManager::Secret" not in types
    secure_links = aws_stack.staff_api.secure_links
    assert secure_links is not None
    staff_functions = [
        get_att_arn(logical_id(function.function))
        for function in (aws_stack.staff_api.function, secure_links)
    ]
    principals = {
        p["Properties"]["Principal"]
        for p in resources(template, "AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] not in staff_functions
    }
    assert principals == {"sns.amazonaws.com", "events.amazonaws.com"}
    for permission in resources(template, "AWS::Lambda::Permission").values():
        assert "SourceArn" in permission["Properties"]


# --- delivery status events and the sweeper (EventBridge) -------------------------------
def test_delivery_status_events_reach_the_delivery_function_with_retries_and_a_dlq(
    aws_stack: QuietlineStack, template: dict[str, Any]
) -> None:
    fn = aws_stack.messaging.delivery_events
    assert fn is not None
    (rule,) = [
        r["Properties"]
        for r in resources(template, "AWS::Events::Rule").values()
        if "EventPattern" in r["Properties"]
    ]

    assert rule["EventPattern"] == {
        "source": [SMS_VOICE_EVENT_SOURCE],
        "detail-type": [DELIVERY_STATUS_DETAIL_TYPE],
    }
    assert "EventBusName" not in rule  # the default bus
    (target,) = rule["Targets"]
    assert target["Arn"] == get_att_arn(logical_id(fn.function))
    assert target["DeadLetterConfig"] == {"Arn": get_att_arn(logical_id(fn.dead_letter_queue))}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1


def test_sweeper_runs_every_five_minutes_with_retries_and_a_dlq(
    aws_stack: QuietlineStack, template: dict[str, Any]
) -> None:
    sweeper = aws_stack.messaging.sweeper
    (rule,) = [
        r["Properties"]
        for r in resources(template, "AWS::Events::Rule").values()
        if "ScheduleExpression" in r["Properties"]
    ]

    assert rule["ScheduleExpression"] == "rate(5 minutes)"
    (target,) = rule["Targets"]
    assert target["Arn"] == get_att_arn(logical_id(sweeper.function))
    assert target["DeadLetterConfig"] == {"Arn": get_att_arn(logical_id(sweeper.dead_letter_queue))}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1


def test_eventbridge_may_write_to_dead_letter_queues_of_this_accounts_rules_only(
    aws_stack: QuietlineStack, template: dict[str, Any]
) -> None:
    policy = _props(template, aws_stack.platform_key.key)["KeyPolicy"]
    (events_statement,) = [
        s for s in policy["Statement"] if s["Principal"] == {"Service": "events.amazonaws.com"}
    ]

    assert events_statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/*"},
    }
    assert set(as_list(events_statement["Action"])) == {"kms:GenerateDataKey", "kms:Decrypt"}


# --- SQS consumers -----------------------------------------------------------------------
def test_queue_consumers_report_partial_batch_failures(
    aws_stack: QuietlineStack, template: dict[str, Any]
) -> None:
    checks.check_event_source_mappings(aws_stack, template)


# --- functions: roles, least privilege, environment ----------------------------------------
def test_each_function_has_its_own_role(template: dict[str, Any]) -> None:
    checks.check_one_role_per_function(template)


def test_no_role_may_scan_or_use_a_wildcard_action(template: dict[str, Any]) -> None:
    checks.check_no_scan_and_no_wildcard_action(template)


def test_tenant_key_grants_carry_the_tenant_context(
    aws_stack: QuietlineStack, template: dict[str, Any]
) -> None:
    checks.check_tenant_key_grants_name_their_tenant(aws_stack, template)


def test_tenant_key_actions_per_function(
    aws_stack: QuietlineStack, template: dict[str, Any]
) -> None:
    # The sender only decrypts, the sweeper and delivery function touch no tenant key.
    checks.check_tenant_key_actions(aws_stack, template, TENANT_KEY_ACTIONS)


def test_platform_key_is_used_only_through_aws_services(
    aws_stack: QuietlineStack, template: dict[str, Any]
) -> None:
    checks.check_platform_key_only_through_services(aws_stack, template)


def test_only_the_sender_may_send_texts_from_this_accounts_numbers_and_pools(
    aws_stack: QuietlineStack, template: dict[str, Any]
) -> None:
    (grant,) = checks.check_exclusive_action(
        template,
        "sms-voice:SendTextMessage",
        {logical_id(aws_stack.messaging.sender.role)},
    )

    assert checks.actions(grant) == {"sms-voice:SendTextMessage"}
    assert as_list(grant["Resource"]) == [
        f"arn:aws:sms-voice:{REGION}:{ACCOUNT}:phone-number/*",
        f"arn:aws:sms-voice:{REGION}:{ACCOUNT}:pool/*",
    ]


def test_nobody_reads_secrets_on_the_aws_carrier(template: dict[str, Any]) -> None:
    checks.check_exclusive_action(template, "secretsmanager:GetSecretValue", set())


def _queue_actions(
    stack: QuietlineStack, template: dict[str, Any], name: str
) -> dict[str, set[str]]:
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
        for resource in as_list(statement["Resource"]):
            found.setdefault(queues[resource["Fn::GetAtt"][0]], set()).update(sqs_actions)
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
    aws_stack: QuietlineStack, template: dict[str, Any], name: str, expected: dict[str, set[str]]
) -> None:
    assert _queue_actions(aws_stack, template, name) == expected


def test_only_the_staff_notifier_publishes_staff_notices(
    aws_stack: QuietlineStack, template: dict[str, Any]
) -> None:
    # Inbound functions (and a secure-message reply) only store: the stream tells staff.
    messaging = aws_stack.messaging
    grants = checks.check_exclusive_action(
        template, "sns:Publish", {logical_id(messaging.staff_notifier.role)}
    )
    for statement in grants:
        assert statement["Resource"] == {"Ref": logical_id(messaging.staff.topic)}


def test_the_staff_notifier_reads_only_inbound_message_inserts_from_the_stream(
    aws_stack: QuietlineStack, template: dict[str, Any]
) -> None:
    checks.check_staff_notifier_reads_the_message_stream(aws_stack, template)


def test_the_staff_notifier_role_has_exactly_its_actions(
    aws_stack: QuietlineStack, template: dict[str, Any]
) -> None:
    checks.check_staff_notifier_role(aws_stack, template)


def test_staff_topic_is_encrypted_with_the_platform_key(
    aws_stack: QuietlineStack, template: dict[str, Any]
) -> None:
    topic = _props(template, aws_stack.messaging.staff.topic)
    assert topic["KmsMasterKeyId"] == get_att_arn(logical_id(aws_stack.platform_key.key))


def test_each_function_gets_exactly_the_settings_its_code_reads(
    aws_stack: QuietlineStack, template: dict[str, Any]
) -> None:
    checks.check_environment(aws_stack, template, EXPECTED_ENVIRONMENT)


@pytest.mark.parametrize("name", sorted(EXPECTED_ENVIRONMENT))
def test_the_deployed_environment_satisfies_the_settings_code(
    aws_stack: QuietlineStack,
    template: dict[str, Any],
    name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checks.check_settings_load(aws_stack, template, name)


@pytest.mark.parametrize("name", sorted(EXPECTED_ENVIRONMENT))
def test_handler_strings_name_real_handlers(
    aws_stack: QuietlineStack, template: dict[str, Any], name: str
) -> None:
    fn = checks.messaging_functions(aws_stack)[name]
    module, attribute = _props(template, fn.function)["Handler"].rsplit(".", 1)

    assert callable(getattr(importlib.import_module(module), attribute))


# --- alarms on the pipeline's own metrics ----------------------------------------------------
def _metric_alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == METRICS_NAMESPACE
    }


def test_pipeline_metric_alarms_match_what_powertools_emits(
    aws_stack: QuietlineStack, template: dict[str, Any]
) -> None:
    alarms = _metric_alarms(template)
    topic = {"Ref": logical_id(aws_stack.alarms.topic)}

    # The pipeline's alarms, and the staff API's breach early warning built the same way.
    assert set(alarms) == {spec.metric_name for spec in PIPELINE_ALARMS} | {UNUSUAL_READ_METRIC}
    for alarm in alarms.values():
        # Powertools EMF: every metric carries the dimension service=<Metrics(service=)>.
        assert alarm["Dimensions"] == [{"Name": "service", "Value": SERVICE}]
        assert alarm["Statistic"] == "Sum"
        assert alarm["Period"] == 300
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] == [topic]
    assert alarms["InboundDeferred"]["Threshold"] == 1


def test_every_alarmed_metric_is_emitted_by_the_code() -> None:
    source = "\n".join(
        path.read_text(encoding="utf-8") for path in Path(FUNCTIONS_DIR).rglob("*.py")
    )
    from infra.constructs.messaging import WEBHOOK_ALARMS

    for spec in (*PIPELINE_ALARMS, *WEBHOOK_ALARMS):
        assert re.search(rf'count\(\s*"{spec.metric_name}"', source), spec.metric_name


# --- outputs ---------------------------------------------------------------------------------
def test_outputs_of_the_aws_carrier(aws_stack: QuietlineStack, template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    messaging = aws_stack.messaging
    assert messaging.inbound is not None and messaging.inbound_topic is not None

    expected = {
        "OutboundQueueUrl": {"Ref": logical_id(aws_stack.queues.outbound.queue)},
        "OutboundDlqUrl": {"Ref": logical_id(aws_stack.queues.outbound.dead_letter_queue)},
        "RetryQueueUrl": {"Ref": logical_id(aws_stack.queues.retry.queue)},
        "RetryDlqUrl": {"Ref": logical_id(aws_stack.queues.retry.dead_letter_queue)},
        "SenderFunctionName": {"Ref": logical_id(messaging.sender.function)},
        "InboundFunctionName": {"Ref": logical_id(messaging.inbound.function)},
        "InboundFunctionDlqUrl": {"Ref": logical_id(messaging.inbound.dead_letter_queue)},
        "InboundSmsTopicArn": {"Ref": logical_id(messaging.inbound_topic)},
        "StaffTopicArn": {"Ref": logical_id(messaging.staff.topic)},
    }
    assert {key: outputs[key]["Value"] for key in expected} == expected
    assert not any(key.startswith("Twilio") for key in outputs)
    description = outputs["InboundSmsTopicArn"]["Description"]
    assert "quietline numbers two-way" in description
    assert "update-phone-number" in description
    assert "--two-way-channel-arn" in description


def test_outputs_the_cli_reads_exist(template: dict[str, Any]) -> None:
    from cli.main import REPLAYABLE

    needed = {name for pair in REPLAYABLE.values() for name in pair} | {
        "InboundFunctionDlqUrl",
        "InboundFunctionName",
        "InboundSmsTopicArn",
        "MessageTableName",
    }
    assert needed <= set(template["Outputs"])


def test_outputs_carry_no_business_number(template: dict[str, Any]) -> None:
    text = str(template["Outputs"])
    assert not re.search(r"\+1\d{10}", text)


# --- optional VPC ------------------------------------------------------------------------------
def test_vpc_has_an_end_user_messaging_endpoint_for_the_aws_carrier(
    function_stacks: Synthesized,
) -> None:
    endpoints = resources(function_stacks.templates["FunctionsInVpc"], "AWS::EC2::VPCEndpoint")
    services = [str(e["Properties"]["ServiceName"]) for e in endpoints.values()]
    assert any("sms-voice" in service for service in services)


def test_one_alarm_topic_receives_every_alarm(template: dict[str, Any]) -> None:
    _, topic_policy = only(
        {
            k: v
            for k, v in resources(template, "AWS::SNS::TopicPolicy").items()
            if "cloudwatch.amazonaws.com" in str(v)
        }
    )
    (topic_ref,) = topic_policy["Properties"]["Topics"]
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        assert topic_ref in alarm["Properties"]["AlarmActions"]
