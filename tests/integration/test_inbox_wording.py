"""What the inbox tells staff (#15): the conversation list names a client by name, or else by
their number masked to the last four digits (rows read "Unnamed client (…7mj7)", which told
staff nothing); the settings show the keyword wording in effect when none is customised."""

from __future__ import annotations

import pytest

from tests.integration.api_harness import call
from tests.integration.conftest import StaffApi
from tests.phi_samples import CLIENT_PHONE, OTHER_CLIENT_PHONE

pytestmark = pytest.mark.integration


def _create(staff: StaffApi, phone: str, name: str | None) -> str:
    body: dict[str, object] = {
        "phone_number": phone,
        "consent": {"mode": "secure_link", "wording_version": "v1"},
    }
    if name:
        body["display_name"] = name
    created = call(staff.admin, "POST", "/contacts", body=body)
    assert created.status == 201, created.text
    contact_id: str = created.json["contact_id"]
    return contact_id


def test_an_unnamed_client_is_listed_by_the_last_four_digits_of_their_number(
    staff_api: StaffApi,
) -> None:
    # Given one named and one unnamed client
    named = _create(staff_api, CLIENT_PHONE, "Jamie")
    unnamed = _create(staff_api, OTHER_CLIENT_PHONE, None)

    # When staff list the conversations and open the unnamed one
    listed = call(staff_api.admin, "GET", "/conversations")
    one = call(
        staff_api.admin,
        "GET",
        "/conversations/{conversation_id}",
        path_params={"conversation_id": unnamed},
    )

    # Then the named row carries the name only, the unnamed one a masked number only
    rows = {row["conversation_id"]: row for row in listed.json["items"]}
    assert (rows[named]["display_name"], rows[named]["number_hint"]) == ("Jamie", None)
    masked = "…" + OTHER_CLIENT_PHONE[-4:]
    assert (rows[unnamed]["display_name"], rows[unnamed]["number_hint"]) == (None, masked)
    assert one.json["number_hint"] == masked
    assert OTHER_CLIENT_PHONE not in listed.text and OTHER_CLIENT_PHONE[-7:] not in listed.text


def test_the_settings_carry_the_built_in_keyword_wordings_an_empty_reply_means(
    staff_api: StaffApi,
) -> None:
    # Given a practice that customised HELP only
    saved = call(staff_api.admin, "PUT", "/settings", body={"help_reply": "Call the front desk."})
    assert saved.status == 200, saved.text

    # When staff read the settings
    settings = call(staff_api.admin, "GET", "/settings").json

    # Then the empty STOP and START come with the wording texted in their place, naming
    # the practice, next to the customised HELP
    assert (settings["help_reply"], settings["stop_reply"]) == ("Call the front desk.", "")
    defaults = settings["default_replies"]
    assert set(defaults) == {"help_reply", "stop_reply", "start_reply"}
    assert defaults["stop_reply"].startswith("You're unsubscribed from Harbor Counseling texts.")
    assert "Reply STOP" in defaults["start_reply"]
