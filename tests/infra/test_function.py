"""QuietlineFunction, proven in a test-only app before real handlers exist."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest

from functions.dal import schema
from infra.bundling import FUNCTIONS_DIR
from infra.constructs.function import QuietlineFunction
from tests.infra.conftest import (
    REGION,
    Synthesized,
    as_list,
    get_att_arn,
    logical_id,
    make_config,
    resources,
    statements,
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


def _props(template: dict[str, Any], construct: Any) -> dict[str, Any]:
    props: dict[str, Any] = template["Resources"][logical_id(construct)]["Properties"]
    return props


def _managed_policy_statements(
    template: dict[str, Any], function: QuietlineFunction
) -> list[dict[str, Any]]:
    return statements(_props(template, function.role.policy)["PolicyDocument"])


@pytest.fixture(scope="module", params=STACKS)
def stack_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def template(function_stacks: Synthesized, stack_name: str) -> dict[str, Any]:
    return function_stacks.templates[stack_name]


def test_each_function_has_its_own_role(
    function_stacks: Synthesized, stack_name: str, template: dict[str, Any]
) -> None:
    functions = _functions(function_stacks, stack_name)

    roles = {name: _props(template, fn.function)["Role"] for name, fn in functions.items()}

    assert roles == {name: get_att_arn(logical_id(fn.role)) for name, fn in functions.items()}
    assert len({str(role) for role in roles.values()}) == len(functions)


def test_roles_have_no_managed_aws_policies_and_no_inline_policies(
    function_stacks: Synthesized, stack_name: str, template: dict[str, Any]
) -> None:
    for fn in _functions(function_stacks, stack_name).values():
        role = _props(template, fn.role)
        assert "ManagedPolicyArns" not in role
        assert "Policies" not in role
        assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
            "Service": "lambda.amazonaws.com"
        }
    # Every grant went to the role's own customer-managed policy.
    assert resources(template, "AWS::IAM::Policy") == {}


def test_a_role_may_write_only_to_its_own_log_group(
    function_stacks: Synthesized, stack_name: str, template: dict[str, Any]
) -> None:
    for fn in _functions(function_stacks, stack_name).values():
        log_statements = [
            s
            for s in _managed_policy_statements(template, fn)
            if any(action.startswith("logs:") for action in as_list(s["Action"]))
        ]
        assert log_statements == [
            {
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Effect": "Allow",
                "Resource": get_att_arn(logical_id(fn.log_group)),
            }
        ]


def test_managed_policy_is_attached_to_its_role_only(
    function_stacks: Synthesized, stack_name: str, template: dict[str, Any]
) -> None:
    for fn in _functions(function_stacks, stack_name).values():
        assert _props(template, fn.role.policy)["Roles"] == [{"Ref": logical_id(fn.role)}]


def test_log_groups_are_encrypted_retained_six_years(
    function_stacks: Synthesized, stack_name: str, template: dict[str, Any]
) -> None:
    platform_key = get_att_arn(logical_id(_stack(function_stacks, stack_name).platform_key))
    for fn in _functions(function_stacks, stack_name).values():
        resource = template["Resources"][logical_id(fn.log_group)]
        assert resource["Properties"]["KmsKeyId"] == platform_key
        assert resource["Properties"]["RetentionInDays"] == 2192
        assert resource["DeletionPolicy"] == "Retain"
        assert _props(template, fn.function)["LoggingConfig"] == {
            "LogGroup": {"Ref": logical_id(fn.log_group)}
        }


def test_every_log_group_in_the_stack_is_encrypted_with_retention(
    template: dict[str, Any],
) -> None:
    for resource in resources(template, "AWS::Logs::LogGroup").values():
        assert "KmsKeyId" in resource["Properties"]
        assert resource["Properties"]["RetentionInDays"] >= 2190


def test_functions_run_python_312_on_arm_with_active_tracing(
    function_stacks: Synthesized, stack_name: str, template: dict[str, Any]
) -> None:
    handlers = {"inbound": INBOUND_HANDLER, "sender": SENDER_HANDLER}
    for name, fn in _functions(function_stacks, stack_name).items():
        props = _props(template, fn.function)
        assert props["Runtime"] == "python3.12"
        assert props["Architectures"] == ["arm64"]
        assert props["Handler"] == handlers[name]
        assert props["TracingConfig"] == {"Mode": "Active"}


def test_reserved_concurrency_comes_from_config_unless_overridden(
    function_stacks: Synthesized, stack_name: str, template: dict[str, Any]
) -> None:
    functions = _functions(function_stacks, stack_name)

    assert (
        _props(template, functions["inbound"].function)["ReservedConcurrentExecutions"]
        == make_config().lambda_reserved_concurrency
    )
    assert (
        _props(template, functions["sender"].function)["ReservedConcurrentExecutions"]
        == SENDER_CONCURRENCY
    )


def test_functions_share_one_code_asset_of_the_functions_package(
    function_stacks: Synthesized, stack_name: str, template: dict[str, Any]
) -> None:
    codes = [
        _props(template, fn.function)["Code"]
        for fn in _functions(function_stacks, stack_name).values()
    ]

    assert codes[0] == codes[1]
    manifest = function_stacks.outdir / f"{stack_name}.assets.json"
    sources = [
        entry["source"]["path"]
        for entry in json.loads(manifest.read_text(encoding="utf-8"))["files"].values()
        if entry["source"].get("packaging") == "zip"
    ]
    assert str(FUNCTIONS_DIR) in sources


def test_powertools_never_logs_events(
    function_stacks: Synthesized, stack_name: str, template: dict[str, Any]
) -> None:
    for name, fn in _functions(function_stacks, stack_name).items():
        variables = _props(template, fn.function)["Environment"]["Variables"]
        assert variables["POWERTOOLS_SERVICE_NAME"] == name.capitalize()
        assert variables["POWERTOOLS_LOG_LEVEL"] == "INFO"
        assert variables["POWERTOOLS_LOGGER_LOG_EVENT"] == "false"


def test_environment_passed_in_reaches_the_function(
    function_stacks: Synthesized, stack_name: str, template: dict[str, Any]
) -> None:
    stack = _stack(function_stacks, stack_name)

    variables = _props(template, stack.inbound.function)["Environment"]["Variables"]

    assert variables["TABLE_NAME"] == {"Ref": logical_id(stack.store.table)}


def test_dead_letter_queue_is_encrypted_ssl_only_and_the_functions_dlq(
    function_stacks: Synthesized, stack_name: str, template: dict[str, Any]
) -> None:
    platform_key = get_att_arn(logical_id(_stack(function_stacks, stack_name).platform_key))
    queue_policies = resources(template, "AWS::SQS::QueuePolicy").values()
    for fn in _functions(function_stacks, stack_name).values():
        queue_id = logical_id(fn.dead_letter_queue)
        assert _props(template, fn.dead_letter_queue)["KmsMasterKeyId"] == platform_key
        assert _props(template, fn.function)["DeadLetterConfig"] == {
            "TargetArn": get_att_arn(queue_id)
        }
        (policy,) = [p for p in queue_policies if p["Properties"]["Queues"] == [{"Ref": queue_id}]]
        (deny,) = statements(policy["Properties"]["PolicyDocument"])
        assert deny["Effect"] == "Deny"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_role_may_send_to_its_dlq_and_use_the_key_only_through_sqs(
    function_stacks: Synthesized, stack_name: str, template: dict[str, Any]
) -> None:
    for fn in _functions(function_stacks, stack_name).values():
        policy = _managed_policy_statements(template, fn)
        assert {
            "Action": "sqs:SendMessage",
            "Effect": "Allow",
            "Resource": get_att_arn(logical_id(fn.dead_letter_queue)),
        } in policy
        (kms,) = [s for s in policy if "sqs." in str(s.get("Condition"))]
        assert kms["Condition"] == {
            "StringEquals": {"kms:ViaService": f"sqs.{REGION}.amazonaws.com"}
        }


def test_dead_letter_alarm_fires_on_one_message_and_notifies_the_topic(
    function_stacks: Synthesized, stack_name: str, template: dict[str, Any]
) -> None:
    topic = {"Ref": logical_id(_stack(function_stacks, stack_name).alarms.topic)}
    for fn in _functions(function_stacks, stack_name).values():
        queue_name = {"Fn::GetAtt": [logical_id(fn.dead_letter_queue), "QueueName"]}
        (alarm,) = [
            a["Properties"]
            for a in resources(template, "AWS::CloudWatch::Alarm").values()
            if a["Properties"].get("Dimensions") == [{"Name": "QueueName", "Value": queue_name}]
        ]
        assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert alarm["Threshold"] == 0
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["AlarmActions"] == [topic]


def test_envelope_grants_are_exact_actions_under_the_tenant_context(
    function_stacks: Synthesized, stack_name: str, template: dict[str, Any]
) -> None:
    harbor_key = get_att_arn(
        logical_id(_stack(function_stacks, stack_name).tenant_keys.key("harbor"))
    )
    expected = {"inbound": "kms:GenerateDataKey", "sender": "kms:Decrypt"}
    for name, fn in _functions(function_stacks, stack_name).items():
        grants = [
            s for s in _managed_policy_statements(template, fn) if s["Resource"] == harbor_key
        ]
        assert grants == [
            {
                "Action": expected[name],
                "Condition": {"StringEquals": {"kms:EncryptionContext:tenant_id": "harbor"}},
                "Effect": "Allow",
                "Resource": harbor_key,
            }
        ]


def test_function_is_outside_a_vpc_only_when_vpc_is_disabled(
    function_stacks: Synthesized, stack_name: str, template: dict[str, Any]
) -> None:
    network = _stack(function_stacks, stack_name).network
    for fn in _functions(function_stacks, stack_name).values():
        vpc_config = _props(template, fn.function).get("VpcConfig")
        if network is None:
            assert vpc_config is None
        else:
            assert vpc_config is not None
            security_group = logical_id(network.function_security_group)
            assert vpc_config["SecurityGroupIds"] == [{"Fn::GetAtt": [security_group, "GroupId"]}]
            assert vpc_config["SubnetIds"] == [
                {"Ref": logical_id(subnet)} for subnet in network.vpc.isolated_subnets
            ]


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
    function_stacks: Synthesized, stack_name: str, template: dict[str, Any]
) -> None:
    stack = _stack(function_stacks, stack_name)
    table = logical_id(stack.store.table)
    table_resources = [
        get_att_arn(table),
        *(
            {"Fn::Join": ["", [get_att_arn(table), f"/index/{index.name}"]]}
            for index in schema.GLOBAL_INDEXES
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
        grant, batch_grant = [
            s
            for s in _managed_policy_statements(template, fn)
            if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))
        ]
        assert set(as_list(grant["Action"])) == expected[name]
        assert grant["Resource"] == table_resources
        # A batch read never goes to an index: granted on the table alone.
        assert as_list(batch_grant["Action"]) == ["dynamodb:BatchGetItem"]
        assert batch_grant["Resource"] == get_att_arn(table)
        (key_grant,) = [
            s
            for s in _managed_policy_statements(template, fn)
            if "dynamodb." in str(s.get("Condition"))
        ]
        assert key_grant["Resource"] == get_att_arn(logical_id(stack.platform_key))
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
