"""Staff identity: the Cognito user pool, built from functions/dal/schema.py USER_POOL.

Local mode creates its moto pool from the same spec (local/identity.py), so the password
policy, custom attributes and token lifetimes cannot drift. Every staff member is a named
user (164.312(a)(2)(i) unique user identification) with a TOTP second factor
(164.312(d) person authentication), invited by an admin; nobody signs themselves up.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from constructs import Construct

from functions.dal.schema import USER_POOL, UserPoolSpec
from functions.dal.users import tenant_group
from infra.config import QuietlineConfig
from infra.nag import acknowledge

# Exactly the Cognito calls functions/dal/users.py makes for the staff API: list a
# tenant's staff, find one by `sub`, invite, disable/enable, sign out everywhere.
# CreateGroup is not among them: each tenant's group is deployed below.
ADMIN_ACTIONS = (
    "cognito-idp:ListUsersInGroup",
    "cognito-idp:ListUsers",
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminAddUserToGroup",
    "cognito-idp:AdminDisableUser",
    "cognito-idp:AdminEnableUser",
    "cognito-idp:AdminUserGlobalSignOut",
)
# How long an invitation's temporary password works before an admin must re-invite.
TEMPORARY_PASSWORD_DAYS = 3


def _invitation(practice_name: str) -> cognito.UserInvitationConfig:
    # No PHI: the practice's name, the sign-in e-mail and a temporary password only.
    return cognito.UserInvitationConfig(
        email_subject=f"Your Quietline account at {practice_name}",
        email_body=(
            f"An administrator at {practice_name} invited you to Quietline.<br/>"
            "Sign in with {username} and the temporary password {####} within"
            f" {TEMPORARY_PASSWORD_DAYS} days. You will choose a new password and set up"
            " an authenticator app; both are needed at every sign-in."
        ),
    )


def _verification(practice_name: str) -> cognito.UserVerificationConfig:
    return cognito.UserVerificationConfig(
        email_subject=f"Your Quietline verification code ({practice_name})",
        email_body="Your Quietline verification code is {####}.",
        email_style=cognito.VerificationEmailStyle.CODE,
    )


class StaffIdentity(Construct):
    """The user pool, the inbox's app client and one group per tenant."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: QuietlineConfig,
        spec: UserPoolSpec = USER_POOL,
    ) -> None:
        super().__init__(scope, id)
        self.user_pool = self._user_pool(config, spec)
        self.client = self._client(spec)
        self.groups = {
            tenant.id: cognito.CfnUserPoolGroup(
                self,
                f"Group-{tenant.id}",
                user_pool_id=self.user_pool.user_pool_id,
                group_name=tenant_group(tenant.id),
                # Tenant ids are configuration slugs, not PHI.
                description=f"Staff of tenant {tenant.id}",
            )
            for tenant in config.tenants
        }
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG8",
            "The pool uses the Essentials feature plan: threat protection (adaptive"
            " authentication, compromised-credential checks) needs the Plus plan, billed per"
            " monthly active user on top of Essentials, a cost left to the practice. Without"
            " it every sign-in still needs a 14+ character password and a TOTP code, only"
            " admins create accounts, user-existence errors are hidden and tokens last 15"
            " minutes.",
        )

    def _user_pool(self, config: QuietlineConfig, spec: UserPoolSpec) -> cognito.UserPool:
        return cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"{config.stack_name}-staff",
            # Admin invitation only (functions/dal/users.py invite): no self sign-up.
            self_sign_up_enabled=False,
            user_invitation=_invitation(config.practice_name),
            user_verification=_verification(config.practice_name),
            # Staff sign in with their e-mail address; it is their username.
            sign_in_aliases=cognito.SignInAliases(email=True, username=False),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            # Tenant and role: set by admins, read from every ID token as trusted claims.
            # Mutable so an admin can change a role; the app client cannot write them.
            custom_attributes={
                name: cognito.StringAttribute(min_len=1, max_len=64, mutable=True)
                for name in spec.custom_attributes
            },
            # 164.312(d): a second factor at every sign-in, from an authenticator app
            # only; SMS codes (SIM swap) and e-mail codes are not offered.
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True, email=False),
            password_policy=cognito.PasswordPolicy(
                min_length=spec.password_min_length,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=cdk.Duration.days(TEMPORARY_PASSWORD_DAYS),
            ),
            # A forgotten password is reset through the verified e-mail, never by SMS.
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            # The staff accounts are the audit trail's actors: never deleted with the stack.
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _client(self, spec: UserPoolSpec) -> cognito.UserPoolClient:
        custom = spec.custom_attributes
        return self.user_pool.add_client(
            "InboxClient",
            user_pool_client_name="quietline-inbox",
            # A browser app cannot keep a secret.
            generate_secret=False,
            # The inbox signs in with USER_PASSWORD_AUTH (web/app/cognito.js), as local
            # mode and the tests do: the password travels only over TLS to Cognito, and
            # the TOTP challenge follows; or with a passkey, through the custom flow whose
            # triggers accept nothing but one user-verified passkey answer
            # (infra/constructs/passkey_sign_in.py). No other flow is allowed (least
            # privilege). Refresh tokens are always allowed (the inbox renews its ID
            # token with one).
            auth_flows=cognito.AuthFlow(user_password=True, custom=True),
            # No hosted UI / OAuth redirect flows: nothing to redirect a token to.
            disable_o_auth=True,
            # HIPAA automatic logoff: short tokens plus the server-side idle timeout.
            id_token_validity=cdk.Duration.minutes(spec.id_token_minutes),
            access_token_validity=cdk.Duration.minutes(spec.access_token_minutes),
            refresh_token_validity=cdk.Duration.hours(spec.refresh_token_hours),
            # Sign-in failures do not tell whether an address has an account.
            prevent_user_existence_errors=True,
            # "Sign out everywhere" revokes refresh tokens (AdminUserGlobalSignOut).
            enable_token_revocation=True,
            read_attributes=cognito.ClientAttributes()
            .with_standard_attributes(email=True, email_verified=True, fullname=True)
            .with_custom_attributes(*custom),
            # A staff member may set a display name; never their e-mail (the sign-in
            # identity) and never tenant_id or role, which only admins set.
            write_attributes=cognito.ClientAttributes().with_standard_attributes(fullname=True),
        )

    @property
    def user_pool_arn(self) -> str:
        return self.user_pool.user_pool_arn

    def grant_staff_lookup(self, grantee: iam.IGrantable) -> iam.Grant:
        """Whether a user is enabled staff of a tenant (ListUsers), on this pool only: the
        voice functions ring only live staff."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["cognito-idp:ListUsers"], resource_arns=[self.user_pool_arn]
        )

    def grant_staff_admin(self, grantee: iam.IGrantable) -> iam.Grant:
        """The staff API's user management calls, on this pool only."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=list(ADMIN_ACTIONS), resource_arns=[self.user_pool_arn]
        )
