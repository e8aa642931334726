"""Passkey sign-in on the synthesized app: the pool's three custom-auth triggers run one
function granted only the passkey partitions and the audit append, and wiring the pool to
it leaves the template without a dependency cycle (CloudFormation would refuse one)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from functions.dal import schema
from infra.stack import QuietlineStack
from tests.infra import messaging_checks as checks
from tests.infra.conftest import as_list, get_att_arn, logical_id

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth")]


def _key(resource: Any) -> str:
    return json.dumps(resource, sort_keys=True)


def test_the_pools_three_challenge_triggers_are_the_sign_in_function(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    pool = template["Resources"][logical_id(stack.identity.user_pool)]["Properties"]
    function = get_att_arn(logical_id(stack.passkey_sign_in.function.function))

    assert pool["LambdaConfig"] == {
        "DefineAuthChallenge": function,
        "CreateAuthChallenge": function,
        "VerifyAuthChallengeResponse": function,
    }
    assert pool["MfaConfiguration"] == "ON"  # the password path keeps its TOTP


def test_the_sign_in_function_reads_passkeys_and_appends_audit_events_only(
    stack: QuietlineStack, app_template: Template
) -> None:
    fn = stack.passkey_sign_in.function
    found: dict[str, set[str]] = {}
    conditions: dict[str, Any] = {}
    for statement in checks.function_statements(app_template, fn):
        assert statement["Effect"] == "Allow"
        for target in as_list(statement["Resource"]):
            found.setdefault(_key(target), set()).update(checks.actions(statement))
            conditions[_key(target)] = statement.get("Condition")
    table = _key(get_att_arn(logical_id(stack.message_store.table)))

    assert found.pop(table) == {"dynamodb:Query", "dynamodb:UpdateItem"}
    assert conditions[table] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{schema.PASSKEY_PARTITION_PREFIX}*"]}
    }
    assert found.pop(_key(get_att_arn(logical_id(stack.audit_log.table)))) == {"dynamodb:PutItem"}
    # What every function holds: its logs, X-Ray, and the platform key (the tables')
    # through DynamoDB only (test_messaging.py). No DLQ: Cognito invokes it synchronously.
    assert fn.dead_letter_queue is None
    assert found.pop(_key(get_att_arn(logical_id(fn.log_group)))) == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    assert found.pop(_key("*")) == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    assert found.pop(_key(get_att_arn(logical_id(stack.platform_key.key))))
    assert found == {}  # no tenant key, no Cognito, no other partition


def test_only_cognito_of_this_pool_may_invoke_it(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    function = logical_id(stack.passkey_sign_in.function.function)
    permissions = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Permission"
        and r["Properties"]["FunctionName"] == get_att_arn(function)
    ]

    assert permissions
    for permission in permissions:
        assert permission["Principal"] == "cognito-idp.amazonaws.com"
        assert permission["SourceArn"] == get_att_arn(logical_id(stack.identity.user_pool))


def _references(value: Any) -> set[str]:
    if isinstance(value, dict):
        if "Ref" in value:
            return {value["Ref"]}
        if "Fn::GetAtt" in value:
            return {value["Fn::GetAtt"][0]}
        if "Fn::Sub" in value:  # ${Name} or ${Name.Attr} in the string
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            names = {part.split("}")[0].split(".")[0] for part in text.split("${")[1:]}
            return names | _references(value["Fn::Sub"])
        return set().union(*(_references(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_references(v) for v in value)) if value else set()
    return set()


def test_the_template_has_no_dependency_cycle(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    edges = {
        name: {
            ref
            for ref in _references(body.get("Properties", {}))
            | set(as_list(body.get("DependsOn", [])))
            if ref in resources
        }
        for name, body in resources.items()
    }
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"dependency cycle: {' -> '.join((*path, name))}"
        if name in done:
            return
        for nxt in edges[name]:
            visit(nxt, (*path, name))
        done.add(name)

    for name in resources:
        visit(name, ())
