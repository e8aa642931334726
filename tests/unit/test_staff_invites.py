"""An address the user pool refuses is answered like any other address that cannot be
invited: one 422 on `email`, never a 503 or a message of the pool's."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from functions.core.clock import SystemClock
from functions.core.errors import ValidationError
from functions.dal.users import CognitoUserDirectory
from functions.logic.access import Principal, Role, SessionGuard
from functions.logic.staff_users import UNINVITABLE, StaffAdminService

pytestmark = pytest.mark.unit

ADMIN = Principal("admin-1", "harbor", Role.ADMIN, "session-1", 1_700_000_000)


class _PoolRefusingTheAddress:
    """A Cognito client whose pool refuses the address (as it does some odd ones)."""

    def admin_create_user(self, **_: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "InvalidParameterException", "Message": "Invalid email"}},
            "AdminCreateUser",
        )

    def list_users(self, **_: Any) -> Any:
        return {"Users": []}


class _NoSessions:
    def touch_session(self, *args: Any, **kwargs: Any) -> bool:
        raise AssertionError("an invite touches no session")

    def revoke_sessions(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("an invite signs no one out")


def test_an_address_the_pool_refuses_gets_the_uninvitable_answer() -> None:
    # Given an address that passes our check but the pool refuses
    users = CognitoUserDirectory("us-east-1_pool", _PoolRefusingTheAddress())
    unused_by_invites = SessionGuard(sessions=_NoSessions(), clock=SystemClock())
    service = StaffAdminService(users, guard=unused_by_invites)

    # When an admin invites it
    with pytest.raises(ValidationError) as refused:
        service.invite(ADMIN, "someone@odd.example", Role.CLINICIAN)

    # Then it is the one answer every uninvitable address gets
    assert (refused.value.field, refused.value.problem) == ("email", UNINVITABLE)
