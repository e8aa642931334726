"""Web Push's VAPID key in the stack (infra/constructs/web_push.py): one secret under the
platform key, read by the one function that pushes; the staff API sees only its public
tag; a VPC deployment, with no route to push services, has none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Match, Template

from functions.core import settings as E
from infra.app_factory import build_app
from infra.constructs.web_push import WebPushKey
from infra.stack import QuietlineStack
from tests.infra import messaging_checks as checks
from tests.infra.conftest import (
    ALARM_EMAIL,
    REGION,
    SKIP_BUNDLING,
    Synthesized,
    arn,
    logical_id,
    make_config,
    ref,
    resource,
)

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth")]


def _web_push(stack: QuietlineStack) -> WebPushKey:
    assert stack.web_push is not None, "a deployment outside a VPC has Web Push"
    return stack.web_push


def test_the_vapid_secret_is_under_the_platform_key_and_starts_as_a_placeholder(
    stack: QuietlineStack, app_template: Template
) -> None:
    resource(app_template, _web_push(stack).secret).has_properties(
        {
            "KmsKeyId": arn(stack.platform_key.key),
            "GenerateSecretString": Match.any_value(),  # until `quietline push init`
            "SecretString": Match.absent(),
        }
    )


def test_the_live_notifier_reads_only_the_vapid_secret_and_the_key_only_through_it(
    stack: QuietlineStack, app_template: Template
) -> None:
    statements = checks.function_statements(app_template, stack.live.notifier)
    (read,) = checks.granted(statements, "secretsmanager:GetSecretValue")
    assert checks.actions(read) == {"secretsmanager:GetSecretValue"}
    assert read["Resource"] == ref(_web_push(stack).secret)
    via = [
        grant["Condition"]["StringEquals"]["kms:ViaService"]
        for grant in checks.granted(statements, "kms:Decrypt")
        if grant["Resource"] == arn(stack.platform_key.key)
    ]
    assert f"secretsmanager.{REGION}.amazonaws.com" in via


def test_the_staff_api_may_describe_the_secret_but_never_read_its_value(
    stack: QuietlineStack, app_template: Template
) -> None:
    statements = checks.function_statements(app_template, stack.staff_api.function)
    (describe,) = checks.granted(statements, "secretsmanager:DescribeSecret")
    assert describe["Resource"] == ref(_web_push(stack).secret)
    assert checks.granted(statements, "secretsmanager:GetSecretValue") == []
    checks.check_exclusive_action(
        app_template,
        "secretsmanager:DescribeSecret",
        {logical_id(stack.staff_api.function.role)},
    )


def test_the_notifier_signs_for_the_alarm_address_with_the_stacks_secret(
    stack: QuietlineStack, app_template: Template
) -> None:
    variables = checks.function_variables(app_template, stack.live.notifier)
    assert variables[E.ENV_WEB_PUSH_VAPID_SECRET] == ref(_web_push(stack).secret)
    assert variables[E.ENV_WEB_PUSH_SUBJECT] == f"mailto:{ALARM_EMAIL}"
    # The deployed values satisfy the settings code (a mailto: subject)
    assert E.Settings(web_push_subject=variables[E.ENV_WEB_PUSH_SUBJECT]).web_push_subject


def test_the_operator_is_told_the_secret_and_to_run_push_init(
    stack: QuietlineStack, quietline: Synthesized
) -> None:
    output = quietline.templates["Quietline"]["Outputs"]["WebPushKeySecretArn"]
    assert output["Value"] == ref(_web_push(stack).secret)
    assert "quietline push init" in output["Description"]


@pytest.mark.xdist_group("synth-vpc")
def test_a_vpc_deployment_has_no_vapid_secret(tmp_path: Path) -> None:
    # Given vpc.enabled (isolated subnets: no route to FCM, Mozilla or Apple)
    _app, stack = build_app(
        make_config(vpc={"enabled": True}), outdir=str(tmp_path), context=SKIP_BUNDLING
    )
    # Then the stack has no VAPID secret, so GET /push/key answers 404 and nothing pushes
    # (built, not synthesized: the whole app in a VPC is over CloudFormation's 500 resources)
    assert isinstance(stack, QuietlineStack) and stack.web_push is None
    assert not [c for c in stack.node.find_all() if isinstance(c, secretsmanager.Secret)]
    notifier = stack.live.notifier.function
    assert E.ENV_WEB_PUSH_VAPID_SECRET not in json.dumps(
        stack.resolve((notifier.node.default_child).environment)  # type: ignore[union-attr]
    )
