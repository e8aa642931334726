"""Practice admins manage their own staff: invite, disable, enable, sign out everywhere."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from functions.core.errors import ConflictError, ValidationError
from functions.core.models import StaffUser
from functions.logic.access import Principal, Role, SessionGuard, require_admin

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,63}$")
# One answer for every address that cannot be invited: malformed, refused by the pool, or
# in use by another practice's staff (one pool serves every tenant of a deployment, and
# an e-mail signs in to one account). Telling the last apart would let any practice's
# admin probe which addresses work at another practice.
UNINVITABLE = "cannot be invited; check the address or use another one"


class UserDirectory(Protocol):
    def list_users(self, tenant_id: str) -> list[StaffUser]: ...
    def invite(self, tenant_id: str, email: str, role: str) -> StaffUser: ...
    def disable(self, tenant_id: str, user_id: str) -> None: ...
    def enable(self, tenant_id: str, user_id: str) -> None: ...
    def sign_out_everywhere(self, tenant_id: str, user_id: str) -> None: ...
    def is_staff(self, tenant_id: str, email: str) -> bool: ...


@dataclass
class StaffAdminService:
    users: UserDirectory
    guard: SessionGuard

    def list_users(self, principal: Principal) -> list[StaffUser]:
        require_admin(principal)
        return self.users.list_users(principal.tenant_id)

    def invite(self, principal: Principal, email: str, role: Role) -> StaffUser:
        require_admin(principal)
        address = email.lower()
        if not _EMAIL.match(address):
            raise ValidationError("email", UNINVITABLE)
        try:
            return self.users.invite(principal.tenant_id, address, role.value)
        except (ConflictError, ValidationError):
            if self.users.is_staff(principal.tenant_id, address):
                raise ConflictError("this address is already on this practice's staff") from None
            raise ValidationError("email", UNINVITABLE) from None

    def disable(self, principal: Principal, user_id: str) -> None:
        """A lost device or a departing employee: no new sign-in, every session ended."""
        require_admin(principal)
        self.users.disable(principal.tenant_id, user_id)
        self.sign_out(principal, user_id)

    def enable(self, principal: Principal, user_id: str) -> None:
        require_admin(principal)
        self.users.enable(principal.tenant_id, user_id)

    def sign_out(self, principal: Principal, user_id: str) -> None:
        if user_id != principal.user_id:
            require_admin(principal)
        self.users.sign_out_everywhere(principal.tenant_id, user_id)
        self.guard.sign_out_everywhere(principal.tenant_id, user_id)
