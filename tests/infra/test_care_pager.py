"""The care pager on the synthesized app: fed only page-request inserts from the message
table's stream, resumable and bounded into its alarmed DLQ, and granted exactly what paging
and the flag's audit event need (both carriers)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from functions.dal import schema
from infra.stack import QuietlineStack
from tests.infra import messaging_checks as checks
from tests.infra.conftest import (
    ACCOUNT,
    REGION,
    Synthesized,
    as_list,
    get_att_arn,
    logical_id,
    quietline_stack,
    ref,
    single,
)

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth")]

STREAM_ACTIONS = {
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
}
TABLE_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
}
TENANT_PARTITIONS = {
    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{schema.TENANT_PARTITION_PREFIX}*"]}
}


def _key(resource: Any) -> str:
    return json.dumps(resource, sort_keys=True)


def _grants(stack: QuietlineStack, template: Template) -> dict[str, set[str]]:
    """Resource -> actions of the care pager's role."""
    found: dict[str, set[str]] = {}
    for statement in checks.function_statements(template, stack.care_pager.function):
        assert statement["Effect"] == "Allow"
        for target in as_list(statement["Resource"]):
            found.setdefault(_key(target), set()).update(checks.actions(statement))
    return found


def _shared_grants(stack: QuietlineStack, found: dict[str, set[str]]) -> None:
    """Pops what the pager holds on either carrier, asserting each exactly."""
    fn = stack.care_pager.function
    table = logical_id(stack.message_store.table)
    assert found.pop(_key({"Fn::GetAtt": [table, "StreamArn"]})) == STREAM_ACTIONS
    assert found.pop(_key(get_att_arn(table))) == TABLE_ACTIONS
    assert found.pop(_key(ref(stack.messaging.staff.topic))) == {"sns:Publish"}
    assert found.pop(_key(get_att_arn(logical_id(stack.identity.user_pool)))) == {
        "cognito-idp:ListUsers"
    }
    assert found.pop(_key(get_att_arn(logical_id(stack.audit_log.table)))) == {"dynamodb:PutItem"}
    for key in stack.tenant_keys.keys.values():
        assert found.pop(_key(get_att_arn(logical_id(key)))) == {"kms:Decrypt"}
    assert found.pop(_key(get_att_arn(logical_id(fn.dead_letter_queue)))) == {"sqs:SendMessage"}
    assert found.pop(_key(get_att_arn(logical_id(fn.log_group)))) == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    assert found.pop(_key("*")) == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    # The platform key (the tables', the topic's) only through those services
    # (test_messaging.py test_platform_key_is_used_only_through_aws_services).
    assert found.pop(_key(get_att_arn(logical_id(stack.platform_key.key)))) == {
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
    }


def test_the_care_pager_reads_only_page_request_inserts_from_the_stream(
    stack: QuietlineStack, app_template: Template
) -> None:
    checks.check_staff_notifier_reads_the_message_stream(
        stack, app_template, stack.care_pager.function, schema.PAGE_REQUEST_FILTER
    )


def test_the_care_pager_role_has_exactly_its_grants_on_end_user_messaging(
    stack: QuietlineStack, app_template: Template
) -> None:
    found = _grants(stack, app_template)
    _shared_grants(stack, found)
    phone, pool = (
        f"arn:aws:sms-voice:{REGION}:{ACCOUNT}:{kind}/*" for kind in ("phone-number", "pool")
    )
    assert found.pop(_key(phone)) == {"sms-voice:SendTextMessage"}
    assert found.pop(_key(pool)) == {"sms-voice:SendTextMessage"}
    assert found == {}


def test_the_care_pager_touches_only_tenant_partitions_of_the_message_table(
    stack: QuietlineStack, app_template: Template
) -> None:
    table = get_att_arn(logical_id(stack.message_store.table))
    statements = checks.function_statements(app_template, stack.care_pager.function)
    on_table = [s for s in statements if table in as_list(s["Resource"])]
    assert on_table
    for statement in on_table:
        assert statement["Condition"] == TENANT_PARTITIONS


def test_the_care_pager_decrypts_forwarding_cells_only(
    stack: QuietlineStack, app_template: Template
) -> None:
    keys = checks.tenant_key_arns(stack)
    statements = checks.function_statements(app_template, stack.care_pager.function)
    grants = checks.tenant_key_statements(stack, statements)
    assert len(grants) == len(keys)
    for grant in grants:
        (tenant_id,) = [t for t, key in keys.items() if key == grant["Resource"]]
        assert checks.actions(grant) == {"kms:Decrypt"}
        assert grant["Condition"] == {
            "StringEquals": {
                "kms:EncryptionContext:tenant_id": tenant_id,
                "kms:EncryptionContext:field": "forwarding_number",
            }
        }


def test_a_page_that_does_not_finish_raises_an_alarm_on_the_alarm_topic(
    stack: QuietlineStack, app_template: Template
) -> None:
    single(
        app_template,
        "AWS::CloudWatch::Alarm",
        {"Namespace": "Quietline", "MetricName": "CarePageFailed"},
    ).has_properties(
        {
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "AlarmActions": [ref(stack.alarms.topic)],
        }
    )
    dlq = logical_id(stack.care_pager.function.dead_letter_queue)
    assert dlq in checks.dead_letter_queue_ids(app_template)


def test_the_care_pager_settings_load_as_its_entry_point_requires(
    stack: QuietlineStack, app_template: Template
) -> None:
    checks.check_settings_load(stack, app_template, "care_pager")


def test_on_twilio_the_care_pager_reads_the_auth_token_and_never_sends_through_aws(
    twilio: Synthesized, twilio_template: Template
) -> None:
    tw_stack = quietline_stack(twilio)
    found = _grants(tw_stack, twilio_template)
    _shared_grants(tw_stack, found)
    secret = tw_stack.messaging.twilio_auth_token
    assert secret is not None
    assert found.pop(_key(ref(secret))) == {"secretsmanager:GetSecretValue"}
    assert found == {}
    checks.check_staff_notifier_reads_the_message_stream(
        tw_stack, twilio_template, tw_stack.care_pager.function, schema.PAGE_REQUEST_FILTER
    )
