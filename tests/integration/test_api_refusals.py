"""What the staff API's refusals say: enough for the caller to act on, nothing they may
not see (a hidden conversation's id, another practice's staff), never an input value."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api_harness import ApiResponse, Caller, call
from tests.integration.conftest import StaffApi
from tests.phi_samples import CLIENT_PHONE

pytestmark = pytest.mark.integration

ASSIGNMENT = "/conversations/{conversation_id}/assignment"


def _new_contact(caller: Caller) -> ApiResponse:
    return call(
        caller,
        "POST",
        "/contacts",
        body={
            "phone_number": CLIENT_PHONE,
            "consent": {"mode": "plain_sms", "wording_version": "v1"},
        },
    )


def _assign(caller: Caller, conversation_id: str, user_id: str | None) -> ApiResponse:
    return call(
        caller,
        "PUT",
        ASSIGNMENT,
        path_params={"conversation_id": conversation_id},
        body={"user_id": user_id},
    )


def _invite(caller: Caller, email: str) -> ApiResponse:
    return call(caller, "POST", "/users", body={"email": email, "role": "clinician"})


# --- POST /contacts: a client already in the practice ---------------------------------------
def test_a_duplicate_contact_hidden_from_the_clinician_is_refused_without_its_id(
    staff_api: StaffApi,
) -> None:
    # Given a client assigned to a colleague
    contact = staff_api.contact(staff_api.admin, CLIENT_PHONE)
    assert _assign(staff_api.admin, contact, staff_api.other_clinician.user_id).status == 204

    # When the clinician adds the same number
    refused = _new_contact(staff_api.clinician)

    # Then the conflict is answered, but the thread's id is not handed over
    assert refused.status == 409
    assert refused.json == {"error": "conflict", "detail": "contact already exists"}
    assert contact not in refused.text


def test_a_duplicate_contact_the_caller_can_open_is_named(staff_api: StaffApi) -> None:
    # Given a client assigned to the clinician
    contact = staff_api.contact(staff_api.admin, CLIENT_PHONE)
    assert _assign(staff_api.admin, contact, staff_api.clinician.user_id).status == 204

    # When the clinician, and an admin, add the same number
    answers = [_new_contact(staff_api.clinician), _new_contact(staff_api.admin)]

    # Then each is told which contact it is
    for answer in answers:
        assert answer.status == 409
        assert answer.json["detail"] == f"contact already exists: {contact}"


# --- POST /users: an address that cannot be invited ------------------------------------------
def test_another_practices_staff_address_is_answered_like_any_uninvitable_one(
    staff_api: StaffApi,
) -> None:
    # Given an address that is staff at another practice, and one that is no address at all
    # When an admin invites each
    taken = _invite(staff_api.admin, "admin@cedar.quietline.local")
    malformed = _invite(staff_api.admin, "not-an-address")

    # Then both get the same answer, which says nothing of the other practice
    assert (taken.status, taken.json) == (malformed.status, malformed.json)
    assert taken.status == 422
    assert [e["field"] for e in taken.json["errors"]] == ["email"]
    assert "cedar" not in taken.text
    # And the other practice's account is untouched
    theirs = call(staff_api.other_tenant_admin, "GET", "/users").json["items"]
    assert "admin@cedar.quietline.local" in {u["email"] for u in theirs if u["enabled"]}


def test_inviting_someone_already_on_the_practices_staff_says_so(staff_api: StaffApi) -> None:
    # When an admin invites a colleague who is already on the staff (any letter case)
    answer = _invite(staff_api.admin, "Clinician@Harbor.Quietline.Local")

    # Then the conflict names the reason
    assert answer.status == 409
    assert answer.json == {
        "error": "conflict",
        "detail": "this address is already on this practice's staff",
    }


# --- PUT /conversations/{id}/assignment: only to enabled staff of the practice ---------------
def _assignee_refused(staff_api: StaffApi, user_id: str) -> tuple[ApiResponse, dict[str, Any]]:
    contact = staff_api.contact(staff_api.admin, CLIENT_PHONE)
    staff_api.audit.clear()
    answer = _assign(staff_api.admin, contact, user_id)
    thread = call(
        staff_api.admin,
        "GET",
        "/conversations/{conversation_id}",
        path_params={"conversation_id": contact},
    )
    return answer, thread.json


@pytest.mark.parametrize("who", ["unknown", "disabled", "other_tenant"])
def test_a_conversation_is_assigned_only_to_enabled_staff_of_the_practice(
    staff_api: StaffApi, who: str
) -> None:
    # Given an id that is no one, a disabled colleague, or another practice's staff
    if who == "disabled":
        user_id = staff_api.other_clinician.user_id
        disabled = call(
            staff_api.admin, "POST", "/users/{user_id}/disable", path_params={"user_id": user_id}
        )
        assert disabled.status == 204
    else:
        user_id = {
            "unknown": "9d1c7a0e-0000-4000-8000-000000000000",
            "other_tenant": staff_api.other_tenant_admin.user_id,
        }[who]

    # When an admin assigns a conversation to it
    answer, conversation = _assignee_refused(staff_api, user_id)

    # Then the field is refused, by name only, audited, and nothing changed
    assert answer.status == 422
    assert answer.json["errors"] == [
        {"field": "user_id", "problem": "must be an enabled staff member of this practice"}
    ]
    assert user_id not in answer.text
    assert conversation["assigned_to"] is None
    refusal = staff_api.audit.events[0]
    assert (refusal.action, refusal.outcome.value) == ("conversation.assign", "invalid")


def test_a_clinician_assigning_someone_else_is_forbidden_before_the_id_is_checked(
    staff_api: StaffApi,
) -> None:
    # Authorization before validation: a clinician learns nothing about the id it sent.
    contact = staff_api.contact(staff_api.admin, CLIENT_PHONE)
    answer = _assign(staff_api.clinician, contact, "9d1c7a0e-0000-4000-8000-000000000000")
    assert answer.status == 403
