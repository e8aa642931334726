"""The app entry: configuration errors in one line, cdk.json flags, outputs, alarms."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template

from infra.app_factory import CDK_JSON, build_app, cdk_json_context, resolve_environment
from infra.config import REPO_ROOT, ConfigError, parse_config
from infra.retention import retention_for
from infra.stack import QuietlineStack
from tests.infra.conftest import (
    ACCOUNT,
    ALARM_EMAIL,
    TEST_CONFIG,
    Synthesized,
    arn,
    make_config,
    ref,
    resource,
    single,
)

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth")]


# --- configuration -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"alarm_email": None}, "alarm_email"),
        ({"carrier": "sms"}, "carrier"),
        ({"tenants": []}, "tenants"),
    ],
)
def test_bad_config_fails_in_one_line_naming_the_field(change: dict[str, Any], field: str) -> None:
    data = {**TEST_CONFIG, **change}
    data = {key: value for key, value in data.items() if value is not None}

    with pytest.raises(ConfigError) as raised:
        parse_config(data, source="quietline.config.json")

    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"quietline.config.json: {field}")


def test_missing_account_fails_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CDK_DEFAULT_ACCOUNT", raising=False)
    config = make_config(account=None)

    with pytest.raises(ConfigError, match=r"^account: ") as raised:
        build_app(config)

    assert "\n" not in str(raised.value)


def test_account_falls_back_to_the_cli_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", "210987654321")

    env = resolve_environment(make_config(account=None))

    assert (env.account, env.region) == ("210987654321", "us-east-1")


def test_configured_account_wins_over_the_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", "210987654321")

    assert resolve_environment(make_config()).account == ACCOUNT


def test_app_py_reports_a_bad_config_file_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**TEST_CONFIG, "carrier": "sms"}), encoding="utf-8")
    env = {
        **os.environ,
        "QUIETLINE_CONFIG": str(bad),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "PYTHONPATH": str(REPO_ROOT),
    }

    result = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, str(REPO_ROOT / "app.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "configuration error" in line]
    assert errors == [
        "Quietline configuration error: bad.json: carrier: Input should be 'aws' or 'twilio'"
    ]


# --- cdk.json ----------------------------------------------------------------------
def test_cdk_json_runs_app_py_with_the_project_venv() -> None:
    assert json.loads(CDK_JSON.read_text(encoding="utf-8"))["app"] == ".venv/bin/python app.py"


def test_apps_built_outside_the_cli_get_the_cdk_json_flags(quietline: Synthesized) -> None:
    for flag, value in cdk_json_context().items():
        assert quietline.app.node.try_get_context(flag) == value


def test_default_security_group_restriction_flag_is_on() -> None:
    # VPCDefaultSecurityGroupClosed depends on it when vpc.enabled.
    assert cdk_json_context()["@aws-cdk/aws-ec2:restrictDefaultSecurityGroup"] is True


# --- stack ---------------------------------------------------------------------------
def test_stack_has_explicit_environment_and_termination_protection(stack: QuietlineStack) -> None:
    assert (stack.account, stack.region) == (ACCOUNT, "us-east-1")
    assert stack.termination_protection is True


def test_outputs_name_table_tenant_keys_and_alarm_topic(
    stack: QuietlineStack, app_template: Template
) -> None:
    app_template.has_output("MessageTableName", {"Value": ref(stack.message_store.table)})
    app_template.has_output("TenantKeyHarborArn", {"Value": arn(stack.tenant_keys.key("harbor"))})
    app_template.has_output("TenantKeyCedarArn", {"Value": arn(stack.tenant_keys.key("cedar"))})
    app_template.has_output("AlarmTopicArn", {"Value": ref(stack.alarms.topic)})
    for output_id in app_template.find_outputs("*"):
        assert re.fullmatch(r"[A-Za-z0-9]+", output_id)


def test_template_carries_no_business_number(template: dict[str, Any]) -> None:
    text = json.dumps(template)
    for tenant in TEST_CONFIG["tenants"]:
        for number in tenant["business_numbers"]:
            assert number not in text


# --- alarms --------------------------------------------------------------------------
def test_alarm_topic_is_encrypted_ssl_only_and_emails_the_practice(
    stack: QuietlineStack, app_template: Template
) -> None:
    topic = ref(stack.alarms.topic)
    resource(app_template, stack.alarms.topic).has_properties(
        {"KmsMasterKeyId": arn(stack.platform_key.key)}
    )

    single(app_template, "AWS::SNS::Subscription", {"TopicArn": topic}).has_properties(
        Match.object_equals({"Endpoint": ALARM_EMAIL, "Protocol": "email", "TopicArn": topic})
    )

    policy = single(app_template, "AWS::SNS::TopicPolicy", {"Topics": [topic]})
    denies = [s for s in policy.statements() if s["Effect"] == "Deny"]
    assert denies and all(
        d["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for d in denies
    )


def test_cloudwatch_may_publish_to_the_encrypted_topic(
    stack: QuietlineStack, app_template: Template
) -> None:
    resource(app_template, stack.platform_key.key).has_properties(
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": Match.array_with(["kms:GenerateDataKey*"]),
                                "Principal": {
                                    "Service": Match.array_with(["cloudwatch.amazonaws.com"])
                                },
                            }
                        )
                    ]
                )
            }
        }
    )


@pytest.mark.parametrize("synthesized", ["quietline", "function_stacks"])
def test_every_alarm_has_an_action(synthesized: str, request: pytest.FixtureRequest) -> None:
    found: Synthesized = request.getfixturevalue(synthesized)
    for stack_name in found.templates:
        template = found.template(stack_name)
        template.all_resources_properties(
            "AWS::CloudWatch::Alarm", {"AlarmActions": Match.not_([])}
        )
        # Absent, ActionsEnabled means enabled.
        template.resource_properties_count_is(
            "AWS::CloudWatch::Alarm", {"ActionsEnabled": Match.not_(True)}, 0
        )


# --- retention -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("days", "kept"), [(2190, 2192), (2192, 2192), (2193, 2557), (3653, 3653), (365, 365)]
)
def test_log_retention_rounds_up_to_an_accepted_value(days: int, kept: int) -> None:
    assert _retention_days(retention_for(days)) == kept


def test_log_retention_beyond_ten_years_is_refused() -> None:
    with pytest.raises(ValueError, match="3653"):
        retention_for(3654)


def _retention_days(retention: Any) -> int:
    # The enum's day count lives on the JS side: read it back from a log group.
    stack = cdk.Stack(cdk.App(), "Retention")
    group = logs.LogGroup(stack, "Group", retention=retention)
    days: int = stack.resolve(group.node.default_child.retention_in_days)  # type: ignore[union-attr]
    return days
