"""Numbers people type (the inbox, a contact import, the CLI) are read in the practice's
phone_region and stored as E.164; letters, other scripts' digits and extensions are
refused, naming the field and never echoing the value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main as cli_main
from functions.core.errors import NotFoundError
from functions.dal.store import MessageStore
from local.identity import LocalPool
from tests.integration.api_harness import ApiResponse, Caller, call
from tests.integration.conftest import Messaging, StaffApi, build_staff_api
from tests.phi_samples import CLIENT_PHONE, OTHER_CLIENT_PHONE
from tests.phone_samples import NOT_A_NUMBER_PEOPLE_TYPE, TYPED_FORMS_OF_CLIENT_PHONE

pytestmark = pytest.mark.integration

NATIONAL = TYPED_FORMS_OF_CLIENT_PHONE["us national with parentheses"]


def _create(caller: Caller, phone: str) -> ApiResponse:
    return call(
        caller,
        "POST",
        "/contacts",
        body={
            "phone_number": phone,
            "display_name": "Jamie",
            "consent": {"mode": "plain_sms", "wording_version": "v1"},
        },
    )


# --- the inbox: POST /contacts ----------------------------------------------------------------
def test_given_a_us_national_number_when_staff_add_a_contact_then_it_is_stored_as_e164(
    staff_api: StaffApi,
) -> None:
    created = _create(staff_api.admin, NATIONAL)

    assert created.status == 201, created.text
    assert created.json["phone_number"] == CLIENT_PHONE
    # The same client typed in E.164 is the same contact.
    assert _create(staff_api.admin, CLIENT_PHONE).status == 409


def test_given_another_practice_region_when_staff_type_a_national_number_then_it_is_read_there(
    messaging: Messaging, staff_pool: LocalPool
) -> None:
    london_national, london_e164 = "020 7946 0018", "+442079460018"
    in_london = build_staff_api(messaging, staff_pool, phone_region="GB")

    created = _create(in_london.admin, london_national)

    assert created.status == 201, created.text
    assert created.json["phone_number"] == london_e164


@pytest.mark.parametrize(
    "typed", NOT_A_NUMBER_PEOPLE_TYPE.values(), ids=NOT_A_NUMBER_PEOPLE_TYPE.keys()
)
def test_given_letters_other_digits_or_an_extension_when_staff_add_a_contact_then_422(
    staff_api: StaffApi, typed: str
) -> None:
    refused = _create(staff_api.admin, typed)

    # The staff API's answer to any invalid field (functions/handlers/api/errors.py).
    assert refused.status == 422
    assert [e["field"] for e in refused.json["errors"]] == ["phone_number"]
    assert typed not in refused.text and CLIENT_PHONE not in refused.text
    assert call(staff_api.admin, "GET", "/conversations").json["items"] == []


# --- the CLI: contacts import and numbers assign -------------------------------------------
def _run(*args: str) -> Any:
    return CliRunner().invoke(cli_main.main, ["--stack", "Quietline", *args])


def test_given_national_numbers_in_a_csv_when_imported_then_they_are_stored_as_e164(
    deployed: StaffApi, tmp_path: Path
) -> None:
    area, exchange, line = OTHER_CLIENT_PHONE[2:5], OTHER_CLIENT_PHONE[5:8], OTHER_CLIENT_PHONE[8:]
    other_national = f"{area}-{exchange}-{line}"
    source = tmp_path / "contacts.csv"
    source.write_text(
        "phone_number,display_name,consent_mode,consent_wording_version\n"
        f"{NATIONAL},Jamie,plain_sms,v1\n"
        f"{other_national},Sam,secure_link,v1\n"
        # The first row again, typed another way: one client, reported as a repeat.
        f"{CLIENT_PHONE},Jamie again,plain_sms,v1\n"
    )

    result = _run("contacts", "import", "--tenant", "harbor", str(source))

    assert "imported 2, already present 0, rejected 1" in result.output
    assert "line 4: phone_number: appears twice" in result.output
    listing = call(deployed.admin, "GET", "/conversations").json["items"]
    phones = {
        call(
            deployed.admin,
            "GET",
            "/contacts/{contact_id}",
            path_params={"contact_id": c["conversation_id"]},
        ).json["phone_number"]
        for c in listing
    }
    assert phones == {CLIENT_PHONE, OTHER_CLIENT_PHONE}


def test_given_a_vanity_number_in_a_csv_when_imported_then_the_row_is_refused_by_field(
    deployed: StaffApi, tmp_path: Path
) -> None:
    source = tmp_path / "contacts.csv"
    vanity = NOT_A_NUMBER_PEOPLE_TYPE["vanity letters"]
    source.write_text(
        "phone_number,display_name,consent_mode,consent_wording_version\n"
        f"{vanity},Flowers,plain_sms,v1\n"
    )

    result = _run("contacts", "import", "--tenant", "harbor", str(source))

    assert result.exit_code == 1
    assert "line 2: phone_number:" in result.output and vanity not in result.output
    assert call(deployed.admin, "GET", "/conversations").json["items"] == []


def test_given_a_national_number_when_an_operator_assigns_it_then_it_is_stored_as_e164(
    deployed: StaffApi, table: Any
) -> None:
    result = _run("numbers", "assign", "--tenant", "cedar", "(312) 555-0100")

    assert result.exit_code == 0, result.output
    assert "+13125550100 now belongs to tenant cedar" in result.output
    assert MessageStore(table).tenant_id_for_number("+13125550100") == "cedar"


def test_given_an_extension_when_an_operator_assigns_a_number_then_it_is_refused_by_field(
    deployed: StaffApi, table: Any
) -> None:
    result = _run("numbers", "assign", "--tenant", "cedar", "(312) 555-0100 ext. 7")

    assert result.exit_code == 1
    assert "number:" in result.output and "555-0100" not in result.output
    with pytest.raises(NotFoundError):
        MessageStore(table).tenant_id_for_number("+13125550100")
