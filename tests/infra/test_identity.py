"""The staff user pool (built from functions/dal/schema.py USER_POOL), its app client and
the tenant groups: MFA, admin-only sign-up, password policy, token lifetimes
(docs/access.md)."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Capture, Match, Template

from infra.stack import QuietlineStack
from tests.infra.conftest import TEST_CONFIG, Resource, ref, single

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth")]

MINUTES_PER_UNIT = {"minutes": 1, "hours": 60, "days": 1440}


@pytest.fixture(scope="module")
def pool(app_template: Template) -> Resource:
    # One pool per deployment.
    return single(app_template, "AWS::Cognito::UserPool", {})


@pytest.fixture(scope="module")
def client(app_template: Template) -> Resource:
    return single(app_template, "AWS::Cognito::UserPoolClient", {})


# --- the pool ---------------------------------------------------------------------------
def test_mfa_is_required_with_an_authenticator_app_only(pool: Resource) -> None:
    pool.has_properties(
        {
            "MfaConfiguration": "ON",
            # No SMS (SIM swap) and no e-mail codes: TOTP only.
            "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
            "SmsConfiguration": Match.absent(),
        }
    )


def test_only_admins_create_accounts(pool: Resource) -> None:
    pool.has_properties({"AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True}})


def test_invitation_names_the_practice_and_nothing_else(pool: Resource) -> None:
    invitation = Capture()
    pool.has_properties({"AdminCreateUserConfig": {"InviteMessageTemplate": invitation}})
    message = invitation.as_object()

    assert "{username}" in message["EmailMessage"]
    assert "{####}" in message["EmailMessage"]
    assert TEST_CONFIG["practice_name"] in message["EmailSubject"]
    # No client data can be in an invitation: no tenant numbers, no names but the practice.
    for tenant in TEST_CONFIG["tenants"]:
        for number in tenant["business_numbers"]:
            assert number not in str(message)


def test_passwords_need_14_characters_of_every_class(pool: Resource) -> None:
    pool.has_properties(
        {
            "Policies": {
                "PasswordPolicy": Match.object_equals(
                    {
                        "MinimumLength": 14,
                        "RequireLowercase": True,
                        "RequireUppercase": True,
                        "RequireNumbers": True,
                        "RequireSymbols": True,
                        # The invitation says so: its temporary password lasts 3 days.
                        "TemporaryPasswordValidityDays": 3,
                    }
                )
            }
        }
    )


def test_staff_sign_in_with_their_email_recovered_by_email_only(pool: Resource) -> None:
    pool.has_properties(
        {
            "UsernameAttributes": ["email"],
            "UsernameConfiguration": Match.object_equals({"CaseSensitive": False}),
            "AccountRecoverySetting": Match.object_equals(
                {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]}
            ),
        }
    )


def test_custom_attributes_are_tenant_and_role_mutable_by_admins(pool: Resource) -> None:
    schema = Capture()
    pool.has_properties({"Schema": schema})

    custom = {
        attribute["Name"]: attribute
        for attribute in schema.as_array()
        if attribute.get("AttributeDataType") == "String"
    }

    assert set(custom) == {"tenant_id", "role"}
    for attribute in custom.values():
        assert attribute["Mutable"] is True


def test_pool_is_retained_and_protected_from_deletion(pool: Resource) -> None:
    pool.has(
        {
            "Properties": {"DeletionProtection": "ACTIVE"},
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        }
    )


def test_pool_stays_on_the_essentials_plan(pool: Resource) -> None:
    # Plus (threat protection) is billed per active user: see the COG8 acknowledgement.
    pool.has_properties({"UserPoolTier": "ESSENTIALS"})


# --- the app client ------------------------------------------------------------------------
def test_client_is_a_public_browser_client_without_secret_or_oauth(client: Resource) -> None:
    flows = Capture()
    client.has_properties(
        {
            "GenerateSecret": False,
            "AllowedOAuthFlowsUserPoolClient": False,
            "CallbackURLs": Match.absent(),
            "ExplicitAuthFlows": flows,
        }
    )

    # Only what the inbox uses: password + TOTP, passkey sign-in (the custom flow), and
    # the refresh that renews its ID token.
    assert set(flows.as_array()) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_CUSTOM_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }


def test_id_and_access_tokens_live_15_minutes_refresh_tokens_12_hours(client: Resource) -> None:
    validity = {token: Capture() for token in ("IdToken", "AccessToken", "RefreshToken")}
    units = Capture()
    client.has_properties(
        {
            **{f"{token}Validity": capture for token, capture in validity.items()},
            "TokenValidityUnits": units,
        }
    )

    minutes = {
        token: capture.as_number() * MINUTES_PER_UNIT[units.as_object()[token]]
        for token, capture in validity.items()
    }

    assert minutes == {"IdToken": 15, "AccessToken": 15, "RefreshToken": 12 * 60}


def test_refresh_tokens_are_revocable_and_user_existence_is_hidden(client: Resource) -> None:
    client.has_properties({"EnableTokenRevocation": True, "PreventUserExistenceErrors": "ENABLED"})


def test_client_reads_tenant_and_role_but_cannot_write_them(client: Resource) -> None:
    read, write = Capture(), Capture()
    # WriteAttributes is an explicit list (absent, Cognito allows every writable attribute).
    client.has_properties({"ReadAttributes": read, "WriteAttributes": write})

    assert {"custom:tenant_id", "custom:role"} <= set(read.as_array())
    assert write.as_array()
    assert not any(attribute.startswith("custom:") for attribute in write.as_array())
    # The e-mail is the sign-in identity: only admins change it.
    assert "email" not in write.as_array()


# --- tenant groups -------------------------------------------------------------------------
def test_each_tenant_has_its_group_in_this_pool(
    stack: QuietlineStack, app_template: Template
) -> None:
    pool = ref(stack.identity.user_pool)

    app_template.resource_count_is("AWS::Cognito::UserPoolGroup", 2)
    for group in ("tenant-harbor", "tenant-cedar"):
        app_template.has_resource_properties(
            "AWS::Cognito::UserPoolGroup", {"GroupName": group, "UserPoolId": pool}
        )
