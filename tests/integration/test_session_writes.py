"""A write from a dead session (idled out or signed out) is refused and changes nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from tests.integration.api_harness import Caller, call, claims_for
from tests.integration.conftest import StaffApi
from tests.phi_samples import BODY, CLIENT_PHONE

pytestmark = pytest.mark.integration


def _idle_out(staff_api: StaffApi, caller: Caller) -> None:
    staff_api.messaging.clock.advance(minutes=16)


def _sign_out(staff_api: StaffApi, caller: Caller) -> None:
    assert call(caller, "POST", "/me/sign-out").status == 204


ENDINGS: list[Callable[[StaffApi, Caller], None]] = [_idle_out, _sign_out]
ENDING_IDS = ["idled-out", "signed-out"]


def _signed_in_again(staff_api: StaffApi, caller: Caller) -> Caller:
    """The same user after a new sign-in, a little later: a new session."""
    clock = staff_api.messaging.clock
    clock.advance(seconds=5)
    assert caller.claims is not None
    claims = claims_for(
        caller.user_id,
        caller.tenant_id,
        caller.claims["custom:role"],
        auth_time=int(clock.now().timestamp()),
        session=f"{caller.name}-again",
    )
    return dataclasses.replace(caller, claims=claims)


@pytest.mark.parametrize("end_session", ENDINGS, ids=ENDING_IDS)
def test_a_message_sent_from_a_dead_session_is_neither_stored_nor_queued(
    staff_api: StaffApi, end_session: Callable[[StaffApi, Caller], None]
) -> None:
    contact = staff_api.contact(staff_api.admin, CLIENT_PHONE)
    thread = {"conversation_id": contact}
    clinician = staff_api.clinician
    assert call(clinician, "GET", "/me").status == 200
    end_session(staff_api, clinician)

    refused = call(
        clinician,
        "POST",
        "/conversations/{conversation_id}/messages",
        path_params=thread,
        body={"body": BODY},
    )

    assert refused.status == 401
    again = _signed_in_again(staff_api, clinician)
    read = call(again, "GET", "/conversations/{conversation_id}/messages", path_params=thread)
    assert read.status == 200 and BODY not in read.text
    assert staff_api.messaging.receive(staff_api.messaging.outbound_url) == []


@pytest.mark.parametrize("end_session", ENDINGS, ids=ENDING_IDS)
def test_a_template_saved_from_a_dead_session_does_not_exist(
    staff_api: StaffApi, end_session: Callable[[StaffApi, Caller], None]
) -> None:
    admin = staff_api.admin
    before = call(admin, "GET", "/templates")
    assert before.status == 200
    end_session(staff_api, admin)

    refused = call(admin, "POST", "/templates", body={"name": "Reminder", "body": "See you soon"})

    assert refused.status == 401
    after = call(_signed_in_again(staff_api, admin), "GET", "/templates")
    assert after.status == 200 and after.json == before.json
