"""The app lock through the staff API on moto: set a PIN, unlock, five wrong PINs end the
session on the server, every step audited without the PIN."""

from __future__ import annotations

import json

import pytest

from functions.logic.audit import Outcome
from tests.integration.api_harness import ApiResponse, Caller, call
from tests.integration.conftest import StaffApi
from tests.phi_samples import CLIENT_PHONE

# The passkey routes check the browser's Origin against the inbox's (here: this host's).
BROWSER = {"Host": "inbox.test", "Origin": "http://inbox.test"}

pytestmark = pytest.mark.integration

PIN = "482915"
WRONG = "731604"


def _unlock(caller: Caller, pin: str) -> ApiResponse:
    return call(caller, "POST", "/me/unlock", body={"pin": pin})


def test_a_pin_is_set_then_unlocks_and_is_audited_without_its_digits(
    staff_api: StaffApi,
) -> None:
    # Given no PIN yet, the lock state says so with the practice's default delay
    assert call(staff_api.clinician, "GET", "/me/lock").json == {
        "lock_after_seconds": 120,
        "pin_set": False,
        "require_unlock_method": True,
    }
    staff_api.audit.clear()
    # When the clinician sets a PIN and unlocks with it
    assert call(staff_api.clinician, "PUT", "/me/pin", body={"pin": PIN}).status == 204
    assert call(staff_api.clinician, "GET", "/me/lock").json["pin_set"] is True
    assert _unlock(staff_api.clinician, PIN).status == 204
    # Then both are audited, and no event carries the PIN
    events = staff_api.audit.events
    assert [(e.action, e.outcome) for e in events] == [
        ("pin.set", Outcome.SUCCESS),
        ("pin.unlock", Outcome.SUCCESS),
    ]
    assert all(e.actor == staff_api.clinician.user_id for e in events)
    assert PIN not in json.dumps([repr(e) for e in events])


def test_the_pin_is_stored_as_a_salted_hash_only(staff_api: StaffApi) -> None:
    assert call(staff_api.clinician, "PUT", "/me/pin", body={"pin": PIN}).status == 204
    table = staff_api.runtime.store().table
    item = table.get_item(Key={"pk": f"APPLOCK#harbor#{staff_api.clinician.user_id}", "sk": "PIN"})[
        "Item"
    ]
    assert set(item) >= {"salt", "digest", "n", "r", "p", "failures"}
    assert all(PIN.encode() not in bytes(value) for value in (item["salt"], item["digest"]))
    assert all(PIN not in repr(value) for value in item.values())


def test_a_weak_or_malformed_pin_is_refused_naming_the_field(staff_api: StaffApi) -> None:
    for pin in ("123456", "12345", "abcdef"):
        refused = call(staff_api.clinician, "PUT", "/me/pin", body={"pin": pin})
        assert refused.status == 422
        (problem,) = refused.json["errors"]
        assert problem["field"] in {"pin", "body.pin"}  # the service, or the schema
        assert pin not in refused.text


def test_five_wrong_pins_end_the_session_on_the_server(staff_api: StaffApi) -> None:
    assert call(staff_api.clinician, "PUT", "/me/pin", body={"pin": PIN}).status == 204
    staff_api.audit.clear()
    for left in (4, 3, 2, 1):
        refused = _unlock(staff_api.clinician, WRONG)
        assert refused.status == 422 and f"{left} attempts left" in refused.text
    # The fifth: signed out everywhere, so the same token is refused from now on
    assert _unlock(staff_api.clinician, WRONG).status == 401
    assert call(staff_api.clinician, "GET", "/me").status == 401
    actions = [(e.action, e.outcome) for e in staff_api.audit.events]
    assert ("pin.lockout", Outcome.DENIED) in actions
    assert actions.count(("pin.unlock", Outcome.INVALID)) == 4
    assert WRONG not in json.dumps([repr(e) for e in staff_api.audit.events])


def test_unlocking_without_a_pin_is_a_conflict(staff_api: StaffApi) -> None:
    assert _unlock(staff_api.clinician, PIN).status == 409


def test_an_admin_sets_the_practices_lock_delay_and_clinicians_cannot(
    staff_api: StaffApi,
) -> None:
    changed = call(staff_api.admin, "PUT", "/lock-settings", body={"lock_after_seconds": 300})
    assert changed.status == 200
    assert changed.json == {"lock_after_seconds": 300, "require_unlock_method": True}
    assert call(staff_api.clinician, "GET", "/me/lock").json["lock_after_seconds"] == 300
    # another practice keeps its own
    assert call(staff_api.other_tenant_admin, "GET", "/me/lock").json["lock_after_seconds"] == 120
    refused = call(staff_api.clinician, "PUT", "/lock-settings", body={"lock_after_seconds": 60})
    assert refused.status == 403
    out_of_range = call(staff_api.admin, "PUT", "/lock-settings", body={"lock_after_seconds": 5})
    assert out_of_range.status == 422


# --- the lock, enforced by the server -------------------------------------------------------
def _locked(staff_api: StaffApi) -> Caller:
    """The clinician with a PIN, a conversation to read, and the page just locked."""
    me = staff_api.clinician
    staff_api.contact(staff_api.admin, CLIENT_PHONE)
    assert call(me, "PUT", "/me/pin", body={"pin": PIN}).status == 204
    assert call(me, "GET", "/conversations").status == 200
    assert call(me, "POST", "/me/lock").status == 204
    return me


def test_after_the_lock_the_same_token_reads_no_phi(staff_api: StaffApi) -> None:
    # Given a locked session (its ID token has not expired)
    me = _locked(staff_api)
    staff_api.audit.clear()
    # When the token is used for a PHI route
    refused = call(me, "GET", "/conversations")
    # Then it is refused as locked (not signed out), with nothing of the client in it
    assert refused.status == 423
    assert refused.json == {"error": "locked: unlock with your PIN or passkey"}
    assert CLIENT_PHONE not in refused.text
    assert [(e.action, e.outcome) for e in staff_api.audit.events] == [
        ("conversation.list", Outcome.DENIED)
    ]


def test_the_pin_cannot_be_replaced_from_behind_the_lock(staff_api: StaffApi) -> None:
    me = _locked(staff_api)
    assert call(me, "PUT", "/me/pin", body={"pin": WRONG}).status == 423
    assert _unlock(me, WRONG).status == 422  # the old PIN is still the one


def test_the_unlock_routes_sign_out_and_who_am_i_pass_the_lock(staff_api: StaffApi) -> None:
    me = _locked(staff_api)
    assert call(me, "GET", "/me").status == 200
    assert call(me, "GET", "/me/lock").json["pin_set"] is True
    assert call(me, "POST", "/me/unlock/options", headers=BROWSER).status == 404  # no passkey
    assert call(me, "POST", "/me/sign-out").status == 204


def test_a_wrong_pin_leaves_it_locked_and_the_right_one_unlocks(staff_api: StaffApi) -> None:
    me = _locked(staff_api)
    assert _unlock(me, WRONG).status == 422
    assert call(me, "GET", "/conversations").status == 423
    assert _unlock(me, PIN).status == 204
    listing = call(me, "GET", "/conversations")
    assert listing.status == 200 and len(listing.json["items"]) == 1


def test_a_locked_clinicians_colleague_is_not_locked(staff_api: StaffApi) -> None:
    _locked(staff_api)
    assert call(staff_api.admin, "GET", "/conversations").status == 200


def test_an_admin_turns_the_pin_requirement_off_and_on(staff_api: StaffApi) -> None:
    off = call(staff_api.admin, "PUT", "/lock-settings", body={"require_unlock_method": False})
    assert off.json == {"lock_after_seconds": 120, "require_unlock_method": False}
    assert call(staff_api.clinician, "GET", "/me/lock").json["require_unlock_method"] is False
    # another practice keeps the default
    other = call(staff_api.other_tenant_admin, "GET", "/me/lock")
    assert other.json["require_unlock_method"] is True
    refused = call(
        staff_api.clinician, "PUT", "/lock-settings", body={"require_unlock_method": True}
    )
    assert refused.status == 403
