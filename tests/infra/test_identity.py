"""The staff user pool (built from functions/dal/schema.py USER_POOL), its app client and
the tenant groups: MFA, admin-only sign-up, password policy, token lifetimes."""

from __future__ import annotations

from typing import Any

import pytest

from functions.dal.schema import USER_POOL
from functions.dal.users import ROLE_ATTRIBUTE, TENANT_ATTRIBUTE, tenant_group
from infra.constructs.identity import TEMPORARY_PASSWORD_DAYS
from infra.stack import QuietlineStack
from tests.infra.conftest import TENANT_IDS, TEST_CONFIG, logical_id, only, resources

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth")]


@pytest.fixture(scope="module")
def pool(template: dict[str, Any]) -> dict[str, Any]:
    _, found = only(resources(template, "AWS::Cognito::UserPool"))
    return found


@pytest.fixture(scope="module")
def client(template: dict[str, Any]) -> dict[str, Any]:
    _, found = only(resources(template, "AWS::Cognito::UserPoolClient"))
    props: dict[str, Any] = found["Properties"]
    return props


# --- the pool ---------------------------------------------------------------------------
def test_mfa_is_required_with_an_authenticator_app_only(pool: dict[str, Any]) -> None:
    props = pool["Properties"]

    assert props["MfaConfiguration"] == "ON"
    # No SMS (SIM swap) and no e-mail codes: TOTP only.
    assert props["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert "SmsConfiguration" not in props


def test_only_admins_create_accounts(pool: dict[str, Any]) -> None:
    assert pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True


def test_invitation_names_the_practice_and_nothing_else(pool: dict[str, Any]) -> None:
    template = pool["Properties"]["AdminCreateUserConfig"]["InviteMessageTemplate"]

    assert "{username}" in template["EmailMessage"]
    assert "{####}" in template["EmailMessage"]
    assert TEST_CONFIG["practice_name"] in template["EmailSubject"]
    # No client data can be in an invitation: no tenant numbers, no names but the practice.
    for tenant in TEST_CONFIG["tenants"]:
        for number in tenant["business_numbers"]:
            assert number not in str(template)


def test_password_policy_comes_from_the_shared_spec(pool: dict[str, Any]) -> None:
    policy = pool["Properties"]["Policies"]["PasswordPolicy"]

    assert policy == {
        "MinimumLength": USER_POOL.password_min_length,
        "RequireLowercase": True,
        "RequireUppercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "TemporaryPasswordValidityDays": TEMPORARY_PASSWORD_DAYS,
    }
    assert USER_POOL.password_min_length >= 14


def test_staff_sign_in_with_their_email_recovered_by_email_only(pool: dict[str, Any]) -> None:
    props = pool["Properties"]

    assert props["UsernameAttributes"] == ["email"]
    assert props["UsernameConfiguration"] == {"CaseSensitive": False}
    assert props["AccountRecoverySetting"] == {
        "RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]
    }


def test_custom_attributes_are_the_specs_and_mutable_by_admins(pool: dict[str, Any]) -> None:
    custom = {
        attribute["Name"]: attribute
        for attribute in pool["Properties"]["Schema"]
        if attribute.get("AttributeDataType") == "String"
    }

    assert set(custom) == set(USER_POOL.custom_attributes)
    assert {f"custom:{name}" for name in custom} == {TENANT_ATTRIBUTE, ROLE_ATTRIBUTE}
    for attribute in custom.values():
        assert attribute["Mutable"] is True


def test_pool_is_retained_and_protected_from_deletion(pool: dict[str, Any]) -> None:
    assert pool["Properties"]["DeletionProtection"] == "ACTIVE"
    assert pool["DeletionPolicy"] == "Retain"
    assert pool["UpdateReplacePolicy"] == "Retain"


def test_pool_stays_on_the_essentials_plan(pool: dict[str, Any]) -> None:
    # Plus (threat protection) is billed per active user: see the COG8 acknowledgement.
    assert pool["Properties"]["UserPoolTier"] == "ESSENTIALS"


# --- the app client ------------------------------------------------------------------------
def test_client_is_a_public_browser_client_without_secret_or_oauth(client: dict[str, Any]) -> None:
    assert client["GenerateSecret"] is False
    assert client["AllowedOAuthFlowsUserPoolClient"] is False
    assert "CallbackURLs" not in client
    # Only what the inbox uses: password + TOTP, and the refresh that renews its ID token.
    assert set(client["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }


def test_tokens_live_as_the_spec_says(client: dict[str, Any]) -> None:
    units = client["TokenValidityUnits"]
    minutes = {"minutes": 1, "hours": 60, "days": 1440}

    assert client["IdTokenValidity"] * minutes[units["IdToken"]] == USER_POOL.id_token_minutes
    assert (
        client["AccessTokenValidity"] * minutes[units["AccessToken"]]
        == USER_POOL.access_token_minutes
    )
    assert (
        client["RefreshTokenValidity"] * minutes[units["RefreshToken"]]
        == USER_POOL.refresh_token_hours * 60
    )
    assert USER_POOL.id_token_minutes <= 15


def test_refresh_tokens_are_revocable_and_user_existence_is_hidden(client: dict[str, Any]) -> None:
    assert client["EnableTokenRevocation"] is True
    assert client["PreventUserExistenceErrors"] == "ENABLED"


def test_client_reads_tenant_and_role_but_cannot_write_them(client: dict[str, Any]) -> None:
    assert {TENANT_ATTRIBUTE, ROLE_ATTRIBUTE} <= set(client["ReadAttributes"])
    # An explicit list (absent, Cognito would allow every writable attribute).
    write = client["WriteAttributes"]
    assert write
    assert not any(attribute.startswith("custom:") for attribute in write)
    # The e-mail is the sign-in identity: only admins change it.
    assert "email" not in write


# --- tenant groups -------------------------------------------------------------------------
def test_each_tenant_has_its_group_in_this_pool(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    groups = resources(template, "AWS::Cognito::UserPoolGroup").values()
    pool_ref = {"Ref": logical_id(stack.identity.user_pool)}

    assert {g["Properties"]["GroupName"] for g in groups} == {
        tenant_group(tenant_id) for tenant_id in TENANT_IDS
    }
    assert all(g["Properties"]["UserPoolId"] == pool_ref for g in groups)
