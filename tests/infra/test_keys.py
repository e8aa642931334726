"""Per-tenant envelope keys and the platform key: rotation, retention, key policy."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Capture, Template

from infra.stack import QuietlineStack
from tests.infra.conftest import (
    ACCOUNT,
    REGION,
    TENANT_IDS,
    Resource,
    as_list,
    config_data,
    config_error,
    logical_id,
    make_config,
    plain_app,
    resource,
    resource_by_id,
    single,
)

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth")]

DATA_PLANE_ACTIONS = {"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"}


def _tenant_key_id(template: Template, tenant_id: str) -> str:
    """Follow the tenant's alias (the name the data layer looks the key up by) to its key."""
    target = Capture()
    single(
        template,
        "AWS::KMS::Alias",
        {
            "AliasName": f"alias/quietline/{tenant_id}",
            "TargetKeyId": {"Fn::GetAtt": [target, "Arn"]},
        },
    )
    return target.as_string()


def _tenant_key(template: Template, tenant_id: str) -> Resource:
    return resource_by_id(template, "AWS::KMS::Key", _tenant_key_id(template, tenant_id))


@pytest.mark.parametrize("tenant_id", TENANT_IDS)
def test_each_tenant_has_its_own_rotating_retained_key(
    app_template: Template, tenant_id: str
) -> None:
    # Given the synthesized stack, when following the tenant's alias
    key = _tenant_key(app_template, tenant_id)

    # Then the key rotates, survives stack deletion, and waits 30 days before deletion
    key.has(
        {
            "Properties": {
                "EnableKeyRotation": True,
                "RotationPeriodInDays": 2560,
                "PendingWindowInDays": 30,
            },
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        }
    )


def test_tenants_do_not_share_a_key(app_template: Template) -> None:
    keys = {_tenant_key_id(app_template, tenant_id) for tenant_id in TENANT_IDS}
    assert len(keys) == len(TENANT_IDS)


@pytest.mark.parametrize("tenant_id", TENANT_IDS)
def test_tenant_key_refuses_data_use_unless_context_names_that_tenant(
    app_template: Template, tenant_id: str
) -> None:
    statements = _tenant_key(app_template, tenant_id).statements("KeyPolicy")

    (deny,) = [s for s in statements if s["Effect"] == "Deny"]

    assert deny["Principal"] == {"AWS": "*"}
    assert set(as_list(deny["Action"])) == DATA_PLANE_ACTIONS
    assert deny["Condition"] == {"StringNotEquals": {"kms:EncryptionContext:tenant_id": tenant_id}}


@pytest.mark.parametrize("tenant_id", TENANT_IDS)
def test_tenant_key_keeps_iam_delegation_so_admins_can_crypto_shred(
    app_template: Template, tenant_id: str
) -> None:
    statements = _tenant_key(app_template, tenant_id).statements("KeyPolicy")

    allows = [s for s in statements if s["Effect"] == "Allow"]

    assert allows == [
        {
            "Action": "kms:*",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Resource": "*",
        }
    ]


@pytest.mark.parametrize("tenant_id", TENANT_IDS)
def test_tenant_key_description_names_only_the_tenant_id(
    app_template: Template, tenant_id: str
) -> None:
    description = Capture()
    _tenant_key(app_template, tenant_id).has_properties({"Description": description})

    assert tenant_id in description.as_string()
    assert "+1" not in description.as_string()  # no business numbers, nothing about clients


def test_platform_key_rotates_is_retained_and_lets_only_this_accounts_logs_use_it(
    stack: QuietlineStack, app_template: Template
) -> None:
    key = resource(app_template, stack.platform_key.key)

    key.has(
        {
            "Properties": {"EnableKeyRotation": True, "RotationPeriodInDays": 2560},
            "DeletionPolicy": "Retain",
        }
    )
    logs_statements = [
        s
        for s in key.statements("KeyPolicy")
        if s.get("Principal") == {"Service": f"logs.{REGION}.amazonaws.com"}
    ]
    assert len(logs_statements) == 1
    assert logs_statements[0]["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*"
        }
    }


def test_platform_key_is_not_a_tenant_key(stack: QuietlineStack, app_template: Template) -> None:
    platform = logical_id(stack.platform_key.key)

    assert platform not in {_tenant_key_id(app_template, tenant_id) for tenant_id in TENANT_IDS}


def test_a_practice_that_rotates_yearly_sets_it_once_for_every_key() -> None:
    # Given a deployment whose policy asks for yearly rotation
    app = plain_app()
    stack = QuietlineStack(
        app,
        "Quietline",
        config=make_config(key_rotation_days=365),
        env=cdk.Environment(account=ACCOUNT, region=REGION),
    )

    # When synthesized, then the platform key and every tenant key rotate every 365 days
    periods = [
        key["Properties"]["RotationPeriodInDays"]
        for key in Template.from_stack(stack).find_resources("AWS::KMS::Key").values()
    ]
    assert periods == [365] * (len(TENANT_IDS) + 1)


@pytest.mark.parametrize("days", [89, 2561])
def test_a_rotation_period_kms_would_refuse_is_a_config_error(days: int) -> None:
    # KMS accepts 90 to 2,560 days; the config says so before a deploy fails half-way
    message = config_error(config_data(key_rotation_days=days))

    assert "key_rotation_days" in message
