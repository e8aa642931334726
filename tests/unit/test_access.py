"""Who is calling, from the authorizer's claims alone, and what their role lets them see."""

from __future__ import annotations

from typing import Any

import pytest

from functions.core.errors import ForbiddenError, UnauthorizedError
from functions.core.models import Conversation
from functions.logic.access import Principal, Role, can_see, principal_from_claims, require_admin

pytestmark = pytest.mark.unit

SIGNED_IN_AT = 1_796_050_800  # 2026-12-01T15:00:00Z
CLAIMS: dict[str, Any] = {
    "sub": "user-1",
    "token_use": "id",
    "custom:tenant_id": "harbor",
    "custom:role": "clinician",
    "auth_time": str(SIGNED_IN_AT),
    "origin_jti": "origin-1",
    "jti": "jti-1",
    "iat": str(SIGNED_IN_AT + 600),
}


def _claims(**changes: Any) -> dict[str, Any]:
    """CLAIMS with some changed; a value of None removes that claim."""
    merged = {**CLAIMS, **{k.replace("__", ":"): v for k, v in changes.items()}}
    return {k: v for k, v in merged.items() if v is not None}


def test_given_a_staff_id_token_then_the_principal_is_taken_from_its_claims() -> None:
    assert principal_from_claims(CLAIMS) == Principal(
        "user-1", "harbor", Role.CLINICIAN, "origin-1", SIGNED_IN_AT
    )


def test_an_admin_token_gives_an_admin_principal() -> None:
    principal = principal_from_claims(_claims(custom__role="admin"))

    assert principal.role is Role.ADMIN and principal.is_admin


@pytest.mark.parametrize(
    "changes",
    [
        {"sub": None},
        {"sub": ""},
        {"sub": 42},
        {"sub": ["user-1"]},
        {"custom__tenant_id": None},
        {"custom__tenant_id": ""},
        {"custom__tenant_id": 7},
        {"custom__tenant_id": ["harbor"]},
    ],
    ids=[
        "no-sub",
        "empty-sub",
        "numeric-sub",
        "list-sub",
        "no-tenant",
        "empty-tenant",
        "numeric-tenant",
        "list-tenant",
    ],
)
def test_a_token_without_a_user_or_tenant_string_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(UnauthorizedError, match="no user or tenant"):
        principal_from_claims(_claims(**changes))


@pytest.mark.parametrize(
    "changes",
    [{"token_use": "access"}, {"token_use": None}],
    ids=["access-token", "no-token-use"],
)
def test_only_an_id_token_is_accepted(changes: dict[str, Any]) -> None:
    with pytest.raises(UnauthorizedError, match="ID token"):
        principal_from_claims(_claims(**changes))


@pytest.mark.parametrize("role", [None, "", "owner", "ADMIN", "Clinician"])
def test_a_token_naming_no_known_role_is_refused(role: str | None) -> None:
    with pytest.raises(UnauthorizedError, match="role"):
        principal_from_claims(_claims(custom__role=role))


@pytest.mark.parametrize("auth_time", [None, "", "soon", "1.5"])
def test_a_token_without_a_whole_sign_in_time_is_refused(auth_time: str | None) -> None:
    with pytest.raises(UnauthorizedError, match="sign-in time"):
        principal_from_claims(_claims(auth_time=auth_time))


def test_the_session_is_the_origin_jti_which_refreshed_tokens_keep() -> None:
    # A refresh gives a new jti and iat but keeps origin_jti and auth_time: the session,
    # and so its idle timer, must survive the refresh and nothing else.
    refreshed = _claims(jti="jti-2", iat=str(SIGNED_IN_AT + 1800))

    assert principal_from_claims(CLAIMS).session_id == "origin-1"
    assert principal_from_claims(refreshed).session_id == "origin-1"


def test_another_sign_in_is_another_session() -> None:
    again = _claims(origin_jti="origin-2", auth_time=str(SIGNED_IN_AT + 60))

    assert principal_from_claims(again).session_id == "origin-2"


def test_without_an_origin_jti_the_sign_in_time_names_the_session_never_the_jti() -> None:
    principal = principal_from_claims(_claims(origin_jti=None))

    assert principal.session_id == str(SIGNED_IN_AT)


def test_the_sign_in_time_is_auth_time_not_the_tokens_issue_time() -> None:
    assert principal_from_claims(CLAIMS).auth_time == SIGNED_IN_AT


# --- roles ---------------------------------------------------------------------------------
ADMIN = Principal("admin-1", "harbor", Role.ADMIN, "s-a", SIGNED_IN_AT)
CLINICIAN = Principal("user-1", "harbor", Role.CLINICIAN, "s-c", SIGNED_IN_AT)


def _conversation(assigned_to: str | None) -> Conversation:
    return Conversation("harbor", "conv1", b"", "2026-12-01T15:00:00.000Z", assigned_to=assigned_to)


def test_admin_only_actions_refuse_a_clinician_and_allow_an_admin() -> None:
    with pytest.raises(ForbiddenError):
        require_admin(CLINICIAN)
    require_admin(ADMIN)


@pytest.mark.parametrize(
    ("assigned_to", "visible"),
    [(None, True), ("user-1", True), ("user-2", False)],
    ids=["unassigned", "own", "colleagues"],
)
def test_a_clinician_sees_own_and_unassigned_conversations_only(
    assigned_to: str | None, visible: bool
) -> None:
    assert can_see(CLINICIAN, _conversation(assigned_to)) is visible


def test_an_admin_sees_every_conversation() -> None:
    assert can_see(ADMIN, _conversation("user-2")) is True
