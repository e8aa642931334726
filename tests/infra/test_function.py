"""QuietlineFunction, proven in a test-only app before real handlers exist."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Capture, Match, Template

from infra.bundling import FUNCTIONS_DIR
from infra.constructs.function import QuietlineFunction
from tests.infra.conftest import (
    REGION,
    Synthesized,
    arn,
    as_list,
    logical_id,
    make_config,
    ref,
    resource,
    single,
)
from tests.infra.function_stack import (
    INBOUND_HANDLER,
    SENDER_CONCURRENCY,
    SENDER_HANDLER,
    FunctionTestStack,
)

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth")]

STACKS = ("FunctionsNoVpc", "FunctionsInVpc")


def _stack(function_stacks: Synthesized, name: str) -> FunctionTestStack:
    stack = function_stacks.stacks[name]
    assert isinstance(stack, FunctionTestStack)
    return stack


def _functions(function_stacks: Synthesized, name: str) -> dict[str, QuietlineFunction]:
    stack = _stack(function_stacks, name)
    return {"inbound": stack.inbound, "sender": stack.sender}


def _policy_statements(template: Template, function: QuietlineFunction) -> list[dict[str, Any]]:
    return resource(template, function.role.policy).statements()


@pytest.fixture(scope="module", params=STACKS)
def stack_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def template(function_stacks: Synthesized, stack_name: str) -> Template:
    return function_stacks.template(stack_name)


def test_each_function_has_its_own_role(
    function_stacks: Synthesized, stack_name: str, template: Template
) -> None:
    functions = _functions(function_stacks, stack_name)

    for fn in functions.values():
        resource(template, fn.function).has_properties({"Role": arn(fn.role)})
    assert len({logical_id(fn.role) for fn in functions.values()}) == len(functions)


def test_roles_have_no_managed_aws_policies_and_no_inline_policies(
    function_stacks: Synthesized, stack_name: str, template: Template
) -> None:
    for fn in _functions(function_stacks, stack_name).values():
        resource(template, fn.role).has_properties(
            {
                "ManagedPolicyArns": Match.absent(),
                "Policies": Match.absent(),
                "AssumeRolePolicyDocument": {
                    "Statement": [
                        {"Principal": Match.object_equals({"Service": "lambda.amazonaws.com"})}
                    ]
                },
            }
        )
    # Every grant went to the role's own customer-managed policy.
    template.resource_count_is("AWS::IAM::Policy", 0)


def test_a_role_may_write_only_to_its_own_log_group(
    function_stacks: Synthesized, stack_name: str, template: Template
) -> None:
    for fn in _functions(function_stacks, stack_name).values():
        log_statements = [
            s
            for s in _policy_statements(template, fn)
            if any(action.startswith("logs:") for action in as_list(s["Action"]))
        ]
        assert log_statements == [
            {
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Effect": "Allow",
                "Resource": arn(fn.log_group),
            }
        ]


def test_managed_policy_is_attached_to_its_role_only(
    function_stacks: Synthesized, stack_name: str, template: Template
) -> None:
    for fn in _functions(function_stacks, stack_name).values():
        resource(template, fn.role.policy).has_properties({"Roles": [ref(fn.role)]})


def test_log_groups_are_encrypted_retained_six_years(
    function_stacks: Synthesized, stack_name: str, template: Template
) -> None:
    platform_key = arn(_stack(function_stacks, stack_name).platform_key)
    for fn in _functions(function_stacks, stack_name).values():
        resource(template, fn.log_group).has(
            {
                "Properties": {"KmsKeyId": platform_key, "RetentionInDays": 2192},
                "DeletionPolicy": "Retain",
            }
        )
        resource(template, fn.function).has_properties(
            {"LoggingConfig": Match.object_equals({"LogGroup": ref(fn.log_group)})}
        )


def test_every_log_group_in_the_stack_is_encrypted_with_retention(template: Template) -> None:
    retention = Capture()
    template.all_resources_properties(
        "AWS::Logs::LogGroup", {"KmsKeyId": Match.any_value(), "RetentionInDays": retention}
    )

    assert retention.as_number() >= 2190
    while retention.next():
        assert retention.as_number() >= 2190


def test_functions_run_python_312_on_arm_with_active_tracing(
    function_stacks: Synthesized, stack_name: str, template: Template
) -> None:
    handlers = {"inbound": INBOUND_HANDLER, "sender": SENDER_HANDLER}
    for name, fn in _functions(function_stacks, stack_name).items():
        resource(template, fn.function).has_properties(
            {
                "Runtime": "python3.12",
                "Architectures": ["arm64"],
                "Handler": handlers[name],
                "TracingConfig": Match.object_equals({"Mode": "Active"}),
            }
        )


def test_reserved_concurrency_comes_from_config_unless_overridden(
    function_stacks: Synthesized, stack_name: str, template: Template
) -> None:
    functions = _functions(function_stacks, stack_name)

    # lambda_reserved_concurrency defaults to 5 (docs/configuration.md).
    resource(template, functions["inbound"].function).has_properties(
        {"ReservedConcurrentExecutions": 5}
    )
    resource(template, functions["sender"].function).has_properties(
        {"ReservedConcurrentExecutions": SENDER_CONCURRENCY}
    )


def test_functions_share_one_code_asset_of_the_functions_package(
    function_stacks: Synthesized, stack_name: str, template: Template
) -> None:
    inbound, sender = _functions(function_stacks, stack_name).values()
    code = Capture()
    resource(template, inbound.function).has_properties({"Code": code})

    resource(template, sender.function).has_properties(
        {"Code": Match.object_equals(code.as_object())}
    )
    manifest = function_stacks.outdir / f"{stack_name}.assets.json"
    sources = [
        entry["source"]["path"]
        for entry in json.loads(manifest.read_text(encoding="utf-8"))["files"].values()
        if entry["source"].get("packaging") == "zip"
    ]
    assert str(FUNCTIONS_DIR) in sources


def test_powertools_never_logs_events(
    function_stacks: Synthesized, stack_name: str, template: Template
) -> None:
    for name, fn in _functions(function_stacks, stack_name).items():
        resource(template, fn.function).has_properties(
            {
                "Environment": {
                    "Variables": {
                        "POWERTOOLS_SERVICE_NAME": name.capitalize(),
                        "POWERTOOLS_LOG_LEVEL": "INFO",
                        "POWERTOOLS_LOGGER_LOG_EVENT": "false",
                    }
                }
            }
        )


def test_environment_passed_in_reaches_the_function(
    function_stacks: Synthesized, stack_name: str, template: Template
) -> None:
    stack = _stack(function_stacks, stack_name)

    resource(template, stack.inbound.function).has_properties(
        {"Environment": {"Variables": {"TABLE_NAME": ref(stack.store.table)}}}
    )


def test_dead_letter_queue_is_encrypted_ssl_only_and_the_functions_dlq(
    function_stacks: Synthesized, stack_name: str, template: Template
) -> None:
    platform_key = arn(_stack(function_stacks, stack_name).platform_key)
    for fn in _functions(function_stacks, stack_name).values():
        resource(template, fn.dead_letter_queue).has_properties({"KmsMasterKeyId": platform_key})
        resource(template, fn.function).has_properties(
            {"DeadLetterConfig": Match.object_equals({"TargetArn": arn(fn.dead_letter_queue)})}
        )
        single(
            template, "AWS::SQS::QueuePolicy", {"Queues": [ref(fn.dead_letter_queue)]}
        ).has_properties(
            {
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Deny",
                            "Condition": Match.object_equals(
                                {"Bool": {"aws:SecureTransport": "false"}}
                            ),
                        }
                    ]
                }
            }
        )


def test_role_may_send_to_its_dlq_and_use_the_key_only_through_sqs(
    function_stacks: Synthesized, stack_name: str, template: Template
) -> None:
    for fn in _functions(function_stacks, stack_name).values():
        policy = _policy_statements(template, fn)
        assert {
            "Action": "sqs:SendMessage",
            "Effect": "Allow",
            "Resource": arn(fn.dead_letter_queue),
        } in policy
        (kms,) = [s for s in policy if "sqs." in str(s.get("Condition"))]
        assert kms["Condition"] == {
            "StringEquals": {"kms:ViaService": f"sqs.{REGION}.amazonaws.com"}
        }


def test_dead_letter_alarm_fires_on_one_message_and_notifies_the_topic(
    function_stacks: Synthesized, stack_name: str, template: Template
) -> None:
    topic = ref(_stack(function_stacks, stack_name).alarms.topic)
    for fn in _functions(function_stacks, stack_name).values():
        queue_name = {"Fn::GetAtt": [logical_id(fn.dead_letter_queue), "QueueName"]}
        single(
            template,
            "AWS::CloudWatch::Alarm",
            {"Dimensions": [{"Name": "QueueName", "Value": queue_name}]},
        ).has_properties(
            {
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Threshold": 0,
                "ComparisonOperator": "GreaterThanThreshold",
                "AlarmActions": [topic],
            }
        )


def test_envelope_grants_are_exact_actions_under_the_tenant_context(
    function_stacks: Synthesized, stack_name: str, template: Template
) -> None:
    harbor_key = arn(_stack(function_stacks, stack_name).tenant_keys.key("harbor"))
    expected = {"inbound": "kms:GenerateDataKey", "sender": "kms:Decrypt"}
    for name, fn in _functions(function_stacks, stack_name).items():
        grants = [s for s in _policy_statements(template, fn) if s["Resource"] == harbor_key]
        assert grants == [
            {
                "Action": expected[name],
                "Condition": {"StringEquals": {"kms:EncryptionContext:tenant_id": "harbor"}},
                "Effect": "Allow",
                "Resource": harbor_key,
            }
        ]


def test_function_is_outside_a_vpc_only_when_vpc_is_disabled(
    function_stacks: Synthesized, stack_name: str, template: Template
) -> None:
    network = _stack(function_stacks, stack_name).network
    for fn in _functions(function_stacks, stack_name).values():
        function = resource(template, fn.function)
        if network is None:
            function.has_properties({"VpcConfig": Match.absent()})
        else:
            security_group = logical_id(network.function_security_group)
            function.has_properties(
                {
                    "VpcConfig": Match.object_equals(
                        {
                            "SecurityGroupIds": [{"Fn::GetAtt": [security_group, "GroupId"]}],
                            "SubnetIds": [ref(subnet) for subnet in network.vpc.isolated_subnets],
                        }
                    )
                }
            )


def test_environment_cannot_turn_event_logging_back_on() -> None:
    # Construction only, never synthesized: no second synth for this test.
    stack = FunctionTestStack(
        cdk.App(),
        "Throwaway",
        config=make_config(),
        env=cdk.Environment(account="123456789012", region=REGION),
    )

    with pytest.raises(ValueError, match="POWERTOOLS_LOGGER_LOG_EVENT"):
        QuietlineFunction(
            stack,
            "Leaky",
            config=make_config(),
            platform_key=stack.platform_key,
            alarms=stack.alarms,
            handler=INBOUND_HANDLER,
            description="would log events",
            environment={"POWERTOOLS_LOGGER_LOG_EVENT": "true"},
        )


def test_table_grants_are_exact_actions_on_the_table_and_each_index(
    function_stacks: Synthesized, stack_name: str, template: Template
) -> None:
    stack = _stack(function_stacks, stack_name)
    table = arn(stack.store.table)
    table_resources = [
        table,
        *(
            {"Fn::Join": ["", [table, f"/index/{index}"]]}
            for index in ("by_activity", "by_pending")
        ),
    ]
    expected = {
        "inbound": {
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:ConditionCheckItem",
        },
        "sender": {"dynamodb:GetItem", "dynamodb:Query"},
    }
    for name, fn in _functions(function_stacks, stack_name).items():
        statements = _policy_statements(template, fn)
        grant, batch_grant = [
            s for s in statements if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))
        ]
        assert set(as_list(grant["Action"])) == expected[name]
        assert grant["Resource"] == table_resources
        # A batch read never goes to an index: granted on the table alone.
        assert as_list(batch_grant["Action"]) == ["dynamodb:BatchGetItem"]
        assert batch_grant["Resource"] == table
        (key_grant,) = [s for s in statements if "dynamodb." in str(s.get("Condition"))]
        assert key_grant["Resource"] == arn(stack.platform_key)
        assert not any("*" in action for action in as_list(key_grant["Action"]))


def test_function_refuses_to_sit_outside_the_vpc_when_vpc_is_enabled() -> None:
    # Construction only: the outside-VPC acknowledgement must never cover an enabled VPC.
    stack = FunctionTestStack(
        cdk.App(),
        "Throwaway",
        config=make_config(),
        env=cdk.Environment(account="123456789012", region=REGION),
    )

    with pytest.raises(ValueError, match=r"vpc\.enabled"):
        QuietlineFunction(
            stack,
            "Stray",
            config=make_config(vpc={"enabled": True}),
            platform_key=stack.platform_key,
            alarms=stack.alarms,
            handler=INBOUND_HANDLER,
            description="would skip the VPC",
        )
