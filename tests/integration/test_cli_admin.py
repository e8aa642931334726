"""The admin commands against moto: wipe, crypto-shred, retention, export round trip, import."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from cli import main as cli_main
from functions.core.errors import KeyUnavailableError
from functions.crypto.contexts import body_location
from tests.integration.api_harness import call
from tests.integration.conftest import StaffApi
from tests.phi_samples import BODY, CLIENT_PHONE, OTHER_CLIENT_PHONE

pytestmark = pytest.mark.integration


def _run(*args: str) -> Any:
    return CliRunner().invoke(cli_main.main, ["--stack", "Quietline", *args])


def _conversation(staff: StaffApi, phone: str = CLIENT_PHONE) -> str:
    contact = staff.contact(staff.admin, phone)
    sent = call(
        staff.admin,
        "POST",
        "/conversations/{conversation_id}/messages",
        path_params={"conversation_id": contact},
        body={"body": BODY},
    )
    assert sent.status == 202
    return contact


def test_export_round_trip_gives_back_every_message_as_fhir(
    deployed: StaffApi, tmp_path: Path
) -> None:
    contact = _conversation(deployed)
    sealed = tmp_path / "harbor.qlx"
    assert _run("export", "create", "--tenant", "harbor", "--output", str(sealed)).exit_code == 0
    assert BODY not in sealed.read_text() and CLIENT_PHONE not in sealed.read_text()
    opened = tmp_path / "harbor.json"
    result = _run("export", "open", str(sealed), "--output", str(opened))
    assert result.exit_code == 0, result.output
    bundle = json.loads(opened.read_text())
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert kinds == ["Patient", "Communication"]
    patient, message = (entry["resource"] for entry in bundle["entry"])
    assert patient["id"] == contact and patient["telecom"] == [
        {"system": "sms", "value": CLIENT_PHONE}
    ]
    assert message["payload"] == [{"contentString": BODY}] and message["status"] == "in-progress"
    actions = [e.action for e in deployed.audit.events]
    assert "export.create" in actions


def test_a_tampered_export_does_not_open(deployed: StaffApi, tmp_path: Path) -> None:
    _conversation(deployed)
    sealed = tmp_path / "harbor.qlx"
    _run("export", "create", "--tenant", "harbor", "--output", str(sealed))
    header = json.loads(sealed.read_text())
    header["tenant_id"] = "cedar"
    sealed.write_text(json.dumps(header))
    result = _run("export", "open", str(sealed))
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_wiping_a_thread_deletes_it_and_the_audit_chain_keeps_the_fact(deployed: StaffApi) -> None:
    contact = _conversation(deployed)
    other = _conversation(deployed, OTHER_CLIENT_PHONE)
    result = _run("wipe", "thread", "--tenant", "harbor", "--contact", contact)
    assert result.exit_code == 0 and "1 message(s)" in result.output
    gone = call(
        deployed.admin,
        "GET",
        "/conversations/{conversation_id}/messages",
        path_params={"conversation_id": contact},
    )
    assert gone.status == 404
    kept = call(
        deployed.admin,
        "GET",
        "/conversations/{conversation_id}/messages",
        path_params={"conversation_id": other},
    )
    assert kept.status == 200
    wipes = [e for e in deployed.audit.events if e.action == "thread.wipe"]
    assert len(wipes) == 1 and wipes[0].target["contact_id"] == contact


def test_wiping_a_tenant_needs_the_typed_confirmation(deployed: StaffApi) -> None:
    result = _run("wipe", "tenant", "--tenant", "harbor", "--confirm", "harbour", "--days", "7")
    assert result.exit_code == 1 and "confirmation" in result.output
    assert call(deployed.admin, "GET", "/conversations").status == 200


def test_crypto_shredding_a_tenant_makes_its_records_unreadable_and_refuses_it_at_once(
    deployed: StaffApi,
) -> None:
    contact = _conversation(deployed)
    other_tenant_contact = deployed.contact(deployed.other_tenant_admin, CLIENT_PHONE)
    message = deployed.messaging.store.list_messages("harbor", contact).items[0]
    result = _run("wipe", "tenant", "--tenant", "harbor", "--confirm", "harbor", "--days", "7")
    assert result.exit_code == 0, result.output
    assert "will be deleted on" in result.output
    # The API refuses the tenant at once...
    assert call(deployed.admin, "GET", "/conversations").status == 403
    # ...and its stored records no longer decrypt (KMS refuses a key pending deletion).
    with pytest.raises(KeyUnavailableError):
        deployed.runtime.cipher().decrypt(
            body_location("harbor", contact, message.message_id), message.body_record
        )
    # Another tenant is untouched.
    assert (
        call(
            deployed.other_tenant_admin,
            "GET",
            "/contacts/{contact_id}",
            path_params={"contact_id": other_tenant_contact},
        ).status
        == 200
    )
    kms = boto3.client("kms")
    state = kms.describe_key(KeyId="alias/quietline/harbor")["KeyMetadata"]["KeyState"]
    assert state == "PendingDeletion"
    harbor = [(e.action, e.outcome.value) for e in deployed.audit.events if e.tenant_id == "harbor"]
    assert ("tenant.wipe", "success") in harbor
    assert harbor[-1] == ("conversation.list", "denied")  # the refused request after the wipe


def test_retention_change_applies_to_new_messages_and_is_audited(deployed: StaffApi) -> None:
    result = _run("tenants", "retention", "--tenant", "harbor", "30")
    assert result.exit_code == 0, result.output
    contact = _conversation(deployed)
    (message,) = deployed.messaging.store.list_messages("harbor", contact).items
    sent_at = deployed.messaging.clock.now().timestamp()
    assert message.expires_at == pytest.approx(sent_at + 30 * 86400, abs=2)
    change = next(e for e in deployed.audit.events if e.action == "tenant.retention_change")
    assert change.target == {"from_days": "2555", "to_days": "30"}


def test_import_reports_bad_rows_by_line_and_imports_the_good_ones(
    deployed: StaffApi, tmp_path: Path
) -> None:
    rows = [
        "phone_number,display_name,consent_mode,consent_wording_version",
        f"{CLIENT_PHONE},Jamie,plain_sms,v1",
        "not-a-number,Alex,plain_sms,v1",
        f"{OTHER_CLIENT_PHONE},Sam,carrier_pigeon,v1",
        f"{CLIENT_PHONE},Jamie again,secure_link,v1",
        "+13125550177,,secure_link,",
        "+13125550178,Robin,secure_link,v2",
    ]
    source = tmp_path / "contacts.csv"
    source.write_text("\n".join(rows) + "\n")
    result = _run("contacts", "import", "--tenant", "harbor", str(source))
    assert result.exit_code == 1
    assert "imported 2, already present 0, rejected 4" in result.output
    for line, field in (
        (3, "phone_number"),
        (4, "consent_mode"),
        (5, "phone_number"),
        (6, "consent_wording_version"),
    ):
        assert f"line {line}: {field}:" in result.output
    assert "not-a-number" not in result.output and "Alex" not in result.output
    listing = call(deployed.admin, "GET", "/conversations").json["items"]
    assert sorted(c["display_name"] for c in listing) == ["Jamie", "Robin"]


def test_import_of_a_file_without_the_columns_writes_nothing(
    deployed: StaffApi, tmp_path: Path
) -> None:
    source = tmp_path / "contacts.csv"
    source.write_text(f"phone\n{CLIENT_PHONE}\n")
    result = _run("contacts", "import", "--tenant", "harbor", str(source))
    assert result.exit_code == 1 and "missing column(s)" in result.output
    assert call(deployed.admin, "GET", "/conversations").json["items"] == []


def test_users_disable_cuts_off_a_lost_device(deployed: StaffApi) -> None:
    # The CLI runs on the real clock: the clinician signed in a minute ago, real time.
    now = datetime.now(UTC)
    deployed.messaging.clock.current = now
    assert deployed.clinician.claims is not None
    signed_in = {**deployed.clinician.claims, "auth_time": str(int(now.timestamp()) - 60)}
    clinician = dataclasses.replace(deployed.clinician, claims=signed_in)
    assert call(clinician, "GET", "/me").status == 200
    result = _run("users", "disable", "--tenant", "harbor", clinician.user_id)
    assert result.exit_code == 0, result.output
    assert call(clinician, "GET", "/me").status == 401
    listing = _run("users", "list", "--tenant", "harbor")
    assert "DISABLED" in listing.output


def test_an_unknown_user_is_a_one_line_error(deployed: StaffApi) -> None:
    result = _run("users", "disable", "--tenant", "harbor", "no-such-user")
    assert result.exit_code == 1 and result.output.strip().count("\n") == 0
    assert "user not found" in result.output


def test_users_revoke_passkeys_removes_a_lost_phones_passkeys(deployed: StaffApi) -> None:
    from tests.webauthn_fakes import SoftAuthenticator

    browser = {"Host": "inbox.test", "Origin": "http://inbox.test"}
    phone = SoftAuthenticator(origin="http://inbox.test", rp_id="inbox.test")
    options = call(deployed.clinician, "POST", "/me/passkeys/options", headers=browser).json
    enrolled = call(
        deployed.clinician,
        "POST",
        "/me/passkeys",
        body={"credential": phone.create(options)},
        headers=browser,
    )
    assert enrolled.status == 201
    deployed.audit.clear()
    result = _run("users", "revoke-passkeys", "--tenant", "harbor", deployed.clinician.user_id)
    assert result.exit_code == 0, result.output
    assert "1 removed" in result.output
    assert call(deployed.clinician, "GET", "/me/passkeys").json["items"] == []
    assert [e.action for e in deployed.audit.events] == ["passkey.revoke"]
