"""Per-tenant envelope keys and the platform key: rotation, retention, key policy."""

from __future__ import annotations

from typing import Any

import pytest

from functions.dal.schema import tenant_key_alias
from infra.stack import QuietlineStack
from tests.infra.conftest import ACCOUNT, REGION, TENANT_IDS, as_list, logical_id, resources

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth")]

DATA_PLANE_ACTIONS = {"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"}


def _key(template: dict[str, Any], key_logical_id: str) -> dict[str, Any]:
    key: dict[str, Any] = template["Resources"][key_logical_id]
    assert key["Type"] == "AWS::KMS::Key"
    return key


def _tenant_key_id(template: dict[str, Any], tenant_id: str) -> str:
    """Follow the tenant's alias (from the shared schema) to the key it targets."""
    targets = [
        alias["Properties"]["TargetKeyId"]["Fn::GetAtt"][0]
        for alias in resources(template, "AWS::KMS::Alias").values()
        if alias["Properties"]["AliasName"] == tenant_key_alias(tenant_id)
    ]
    assert len(targets) == 1, f"one alias {tenant_key_alias(tenant_id)}"
    return str(targets[0])


@pytest.mark.parametrize("tenant_id", TENANT_IDS)
def test_each_tenant_has_its_own_rotating_retained_key(
    template: dict[str, Any], tenant_id: str
) -> None:
    # Given the synthesized stack, when following the tenant's alias
    key = _key(template, _tenant_key_id(template, tenant_id))

    # Then the key rotates, survives stack deletion, and waits 30 days before deletion
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    assert key["UpdateReplacePolicy"] == "Retain"
    assert key["Properties"]["PendingWindowInDays"] == 30


def test_tenants_do_not_share_a_key(template: dict[str, Any]) -> None:
    keys = {_tenant_key_id(template, tenant_id) for tenant_id in TENANT_IDS}
    assert len(keys) == len(TENANT_IDS)


@pytest.mark.parametrize("tenant_id", TENANT_IDS)
def test_tenant_key_refuses_data_use_unless_context_names_that_tenant(
    template: dict[str, Any], tenant_id: str
) -> None:
    policy = _key(template, _tenant_key_id(template, tenant_id))["Properties"]["KeyPolicy"]

    denies = [s for s in policy["Statement"] if s["Effect"] == "Deny"]

    assert len(denies) == 1
    deny = denies[0]
    assert deny["Principal"] == {"AWS": "*"}
    assert set(as_list(deny["Action"])) == DATA_PLANE_ACTIONS
    assert deny["Condition"] == {"StringNotEquals": {"kms:EncryptionContext:tenant_id": tenant_id}}


@pytest.mark.parametrize("tenant_id", TENANT_IDS)
def test_tenant_key_keeps_iam_delegation_so_admins_can_crypto_shred(
    template: dict[str, Any], tenant_id: str
) -> None:
    policy = _key(template, _tenant_key_id(template, tenant_id))["Properties"]["KeyPolicy"]

    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]

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
    template: dict[str, Any], tenant_id: str
) -> None:
    description = _key(template, _tenant_key_id(template, tenant_id))["Properties"]["Description"]

    assert tenant_id in description
    assert "+1" not in description  # no business numbers, nothing about clients


def test_platform_key_rotates_is_retained_and_lets_only_this_accounts_logs_use_it(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    key = _key(template, logical_id(stack.platform_key.key))

    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    logs_statements = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Principal") == {"Service": f"logs.{REGION}.amazonaws.com"}
    ]
    assert len(logs_statements) == 1
    assert logs_statements[0]["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*"
        }
    }


def test_platform_key_is_not_a_tenant_key(stack: QuietlineStack, template: dict[str, Any]) -> None:
    platform = logical_id(stack.platform_key.key)

    assert platform not in {_tenant_key_id(template, tenant_id) for tenant_id in TENANT_IDS}
