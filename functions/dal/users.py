"""Cognito adapter for staff accounts: each user has one tenant and one role.

Tenant and role are custom attributes the app client cannot write (only admins, through
these calls), so they arrive in every ID token as trusted claims. A group per tenant
lets admins list their own staff (Cognito cannot filter users by custom attributes).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.core.errors import ConflictError, NotFoundError, ValidationError
from functions.core.models import StaffUser
from functions.dal import aws

TENANT_ATTRIBUTE = "custom:tenant_id"
ROLE_ATTRIBUTE = "custom:role"


def tenant_group(tenant_id: str) -> str:
    return f"tenant-{tenant_id}"


def _attributes(raw: list[dict[str, str]]) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in raw}


def _user(raw: dict[str, Any], attributes_key: str = "Attributes") -> StaffUser:
    attributes = _attributes(raw.get(attributes_key, []))
    return StaffUser(
        attributes.get("sub", ""),
        attributes.get("email", ""),
        attributes.get(ROLE_ATTRIBUTE, ""),
        bool(raw.get("Enabled", True)),
        str(raw.get("UserStatus", "")),
    )


class CognitoUserDirectory:
    def __init__(self, user_pool_id: str, client: Any) -> None:
        self._pool = user_pool_id
        self.cognito = client

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.cognito, operation)(UserPoolId=self._pool, **kwargs)
        except ClientError as error:
            code = aws.error_code(error)
            if code == "UserNotFoundException":
                raise NotFoundError("user not found") from None
            if code == "UsernameExistsException":
                raise ConflictError("a user with that e-mail exists") from None
            if code == "InvalidParameterException" and operation == "admin_create_user":
                raise ValidationError("email", "refused by the user pool") from None
            raise aws.translate(error, f"cognito:{operation}") from None
        except BotoCoreError as error:
            raise aws.translate(error, f"cognito:{operation}") from None

    def list_users(self, tenant_id: str) -> list[StaffUser]:
        users: list[StaffUser] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"GroupName": tenant_group(tenant_id), "Limit": 60}
            if token:
                kwargs["NextToken"] = token
            response = self._call("list_users_in_group", **kwargs)
            users += [_user(u) for u in response.get("Users", [])]
            token = response.get("NextToken")
            if not token:
                return users

    def _by_sub(self, user_id: str) -> dict[str, Any] | None:
        escaped = user_id.replace("\\", "").replace('"', "")
        found = self._call("list_users", Filter=f'sub = "{escaped}"', Limit=1).get("Users", [])
        return dict(found[0]) if found else None

    def _username(self, tenant_id: str, user_id: str) -> str:
        """The Cognito username of `user_id` in this tenant; NotFoundError otherwise."""
        found = self._by_sub(user_id)
        if not found or _attributes(found.get("Attributes", [])).get(TENANT_ATTRIBUTE) != tenant_id:
            raise NotFoundError("user not found")
        return str(found["Username"])

    def is_member(self, tenant_id: str, user_id: str) -> bool:
        """True for a user of this tenant, enabled or not (a disabled user's passkeys can
        still be revoked)."""
        found = self._by_sub(user_id)
        return found is not None and (
            _attributes(found.get("Attributes", [])).get(TENANT_ATTRIBUTE) == tenant_id
        )

    def is_active_staff(self, tenant_id: str, user_id: str) -> bool:
        """True only for an enabled user of this tenant."""
        found = self._by_sub(user_id)
        return (
            found is not None
            and _attributes(found.get("Attributes", [])).get(TENANT_ATTRIBUTE) == tenant_id
            and bool(found.get("Enabled", False))
        )

    def is_staff(self, tenant_id: str, email: str) -> bool:
        """True if `email` belongs to a user of this tenant (enabled or not)."""
        escaped = email.replace("\\", "").replace('"', "")
        found = self._call("list_users", Filter=f'email = "{escaped}"').get("Users", [])
        return any(
            _attributes(u.get("Attributes", [])).get(TENANT_ATTRIBUTE) == tenant_id for u in found
        )

    def invite(self, tenant_id: str, email: str, role: str) -> StaffUser:
        """Cognito e-mails a temporary password; MFA enrollment happens at first sign-in."""
        created = self._call(
            "admin_create_user",
            Username=email,
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": TENANT_ATTRIBUTE, "Value": tenant_id},
                {"Name": ROLE_ATTRIBUTE, "Value": role},
            ],
            DesiredDeliveryMediums=["EMAIL"],
        )["User"]
        self._call(
            "admin_add_user_to_group",
            Username=created["Username"],
            GroupName=tenant_group(tenant_id),
        )
        return _user(created)

    def disable(self, tenant_id: str, user_id: str) -> None:
        self._call("admin_disable_user", Username=self._username(tenant_id, user_id))

    def enable(self, tenant_id: str, user_id: str) -> None:
        self._call("admin_enable_user", Username=self._username(tenant_id, user_id))

    def sign_out_everywhere(self, tenant_id: str, user_id: str) -> None:
        """Revokes the user's refresh tokens; access/ID tokens die within their lifetime,
        and at once at our API (the session guard refuses tokens issued before this)."""
        self._call("admin_user_global_sign_out", Username=self._username(tenant_id, user_id))
