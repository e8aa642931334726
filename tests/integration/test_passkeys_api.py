"""Passkeys through the staff API on moto: enrol, list, unlock, remove, an admin's revoke."""

from __future__ import annotations

from typing import Any

import pytest

from functions.logic.audit import Outcome
from tests.integration.api_harness import ApiResponse, Caller, call
from tests.integration.conftest import StaffApi
from tests.webauthn_fakes import SoftAuthenticator

pytestmark = pytest.mark.integration

BROWSER = {"Host": "inbox.test", "Origin": "http://inbox.test"}


def _post(caller: Caller, path: str, body: Any = None) -> ApiResponse:
    return call(caller, "POST", path, body=body, headers=BROWSER)


def _enrol(caller: Caller, device: SoftAuthenticator, name: str = "My phone") -> ApiResponse:
    options = _post(caller, "/me/passkeys/options")
    assert options.status == 200, options.text
    return _post(caller, "/me/passkeys", {"credential": device.create(options.json), "name": name})


def _unlock(caller: Caller, device: SoftAuthenticator) -> ApiResponse:
    options = _post(caller, "/me/unlock/options")
    assert options.status == 200, options.text
    return _post(caller, "/me/unlock/passkey", {"credential": device.get(options.json)})


@pytest.fixture
def phone() -> SoftAuthenticator:
    return SoftAuthenticator(origin="http://inbox.test", rp_id="inbox.test")


def test_enrol_list_and_unlock_with_a_passkey(
    staff_api: StaffApi, phone: SoftAuthenticator
) -> None:
    staff_api.audit.clear()
    enrolled = _enrol(staff_api.clinician, phone)
    assert enrolled.status == 201 and enrolled.json["name"] == "My phone"
    listed = call(staff_api.clinician, "GET", "/me/passkeys").json["items"]
    assert [p["credential_id"] for p in listed] == [enrolled.json["credential_id"]]
    assert "public_key" not in listed[0]
    assert _unlock(staff_api.clinician, phone).status == 204
    assert [(e.action, e.outcome) for e in staff_api.audit.events] == [
        ("passkey.enrol", Outcome.SUCCESS),
        ("passkey.unlock", Outcome.SUCCESS),
    ]


def test_a_passkey_from_another_origin_is_refused(staff_api: StaffApi) -> None:
    elsewhere = SoftAuthenticator(origin="http://evil.test", rp_id="inbox.test")
    assert _enrol(staff_api.clinician, elsewhere).status == 422
    # ... and a page on another origin cannot even ask for options
    refused = call(
        staff_api.clinician,
        "POST",
        "/me/passkeys/options",
        headers={"Host": "inbox.test", "Origin": "http://evil.test"},
    )
    assert refused.status == 403


def test_removing_my_passkey(staff_api: StaffApi, phone: SoftAuthenticator) -> None:
    credential_id = _enrol(staff_api.clinician, phone).json["credential_id"]
    path = "/me/passkeys/{credential_id}"
    params = {"credential_id": credential_id}
    # a colleague cannot remove it: it is not theirs to see
    assert call(staff_api.other_clinician, "DELETE", path, path_params=params).status == 404
    assert call(staff_api.clinician, "DELETE", path, path_params=params).status == 204
    assert call(staff_api.clinician, "GET", "/me/passkeys").json["items"] == []
    assert _post(staff_api.clinician, "/me/unlock/options").status == 404


def test_an_admin_revokes_a_lost_phones_passkeys(
    staff_api: StaffApi, phone: SoftAuthenticator
) -> None:
    _enrol(staff_api.clinician, phone)
    path, params = "/users/{user_id}/passkeys", {"user_id": staff_api.clinician.user_id}
    # another practice's admin learns nothing and changes nothing
    assert call(staff_api.other_tenant_admin, "DELETE", path, path_params=params).status == 404
    revoked = call(staff_api.admin, "DELETE", path, path_params=params)
    assert revoked.status == 200 and revoked.json == {"revoked": 1}
    assert _post(staff_api.clinician, "/me/unlock/options").status == 404
