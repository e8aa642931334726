"""The `quietline` command as people run it: the installed executable, a clean environment
(no AWS credentials, no PYTHONPATH), against local mode started as `make run` starts it.

Every command of the README's table that acts on a tenant runs here for real; a failed
command is one line on stderr and leaves no file behind.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.config import REPO_ROOT
from local.process import RuntimeProcess
from tests.phi_samples import CLIENT_PHONE, OTHER_CLIENT_PHONE

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local-runtime")]

QUIETLINE = Path(sys.executable).parent / "quietline"  # installed by `make` into the venv
SECOND_TENANT = "cedar"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-as-run")


@pytest.fixture(scope="module")
def local_mode(workdir: Path) -> Iterator[dict[str, Any]]:
    """Local mode with the sample practice plus a second tenant (to crypto-shred)."""
    config = json.loads((REPO_ROOT / "quietline.config.json").read_text(encoding="utf-8"))
    second = {**config["tenants"][0], "id": SECOND_TENANT, "business_numbers": ["+12065550111"]}
    config["tenants"].append(second)
    config_file = workdir / "quietline.config.json"
    config_file.write_text(json.dumps(config), encoding="utf-8")
    runtime = RuntimeProcess(workdir / "state", env={"QUIETLINE_CONFIG": str(config_file)})
    (workdir / "state").mkdir()
    state = runtime.start()
    yield {**state, "config_file": str(config_file), "state_dir": str(workdir / "state")}
    runtime.stop()


def quietline(
    local_mode: dict[str, Any], cwd: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """`quietline --local ARGS` in a clean environment: what the product must set up itself."""
    env = {
        "PATH": f"{QUIETLINE.parent}:/usr/bin:/bin",
        "HOME": str(cwd),
        "LANG": "C.UTF-8",
        "QUIETLINE_STATE_DIR": local_mode["state_dir"],
        "QUIETLINE_CONFIG": local_mode["config_file"],
    }
    return subprocess.run(  # noqa: S603 - our own installed command
        [str(QUIETLINE), "--local", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("quietline: "), lines
    assert "Traceback" not in result.stderr
    return lines[0]


def _import(local_mode: dict[str, Any], cwd: Path, rows: list[str]) -> Any:
    csv_file = cwd / "contacts.csv"
    header = "phone_number,display_name,consent_mode,consent_wording_version"
    csv_file.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return quietline(local_mode, cwd, "contacts", "import", "--tenant", "harbor", str(csv_file))


def _conversation_ids(local_mode: dict[str, Any], cwd: Path) -> list[str]:
    listed = quietline(local_mode, cwd, "conversations", "--tenant", "harbor")
    assert listed.returncode == 0, listed.stderr
    return [json.loads(line)["conversation_id"] for line in listed.stdout.splitlines()]


def test_without_local_mode_the_cli_says_how_to_start_it_in_one_line(workdir: Path) -> None:
    nowhere = {"state_dir": str(workdir / "no-state"), "config_file": "quietline.config.json"}
    line = one_line_error(quietline(nowhere, workdir, "users", "list", "--tenant", "harbor"))
    assert "make run" in line


def test_users_invite_list_disable_enable_and_sign_out(
    local_mode: dict[str, Any], workdir: Path
) -> None:
    listed = quietline(local_mode, workdir, "users", "list", "--tenant", "harbor")
    assert listed.returncode == 0, listed.stderr
    assert "admin@harbor.quietline.local" in listed.stdout

    invited = quietline(
        local_mode,
        workdir,
        "users",
        "invite",
        "--tenant",
        "harbor",
        "--email",
        "new.clinician@harbor.example",
        "--role",
        "clinician",
    )
    assert invited.returncode == 0, invited.stderr
    user_id = invited.stdout.split()[1]
    assert invited.stdout.startswith(f"invited {user_id} (clinician)")

    def state_of(uid: str) -> str:
        rows = quietline(local_mode, workdir, "users", "list", "--tenant", "harbor").stdout
        (row,) = [r for r in rows.splitlines() if r.startswith(uid)]
        return row.split()[2]

    assert state_of(user_id) == "enabled"
    for verb, expected in (("disable", "DISABLED"), ("enable", "enabled")):
        done = quietline(local_mode, workdir, "users", verb, "--tenant", "harbor", user_id)
        assert done.returncode == 0 and f"{verb}: done for {user_id}" in done.stdout
        assert state_of(user_id) == expected
    signed_out = quietline(local_mode, workdir, "users", "sign-out", "--tenant", "harbor", user_id)
    assert signed_out.returncode == 0, signed_out.stderr


def test_a_user_of_another_tenant_cannot_be_disabled_from_this_one(
    local_mode: dict[str, Any], workdir: Path
) -> None:
    rows = quietline(local_mode, workdir, "users", "list", "--tenant", SECOND_TENANT).stdout
    other = rows.splitlines()[0].split()[0]
    line = one_line_error(
        quietline(local_mode, workdir, "users", "disable", "--tenant", "harbor", other)
    )
    assert "not found" in line


def test_contacts_import_takes_good_rows_and_names_bad_ones_by_line_without_values(
    local_mode: dict[str, Any], workdir: Path
) -> None:
    seeded = set(_conversation_ids(local_mode, workdir))  # local mode's demo conversations
    result = _import(
        local_mode,
        workdir,
        [
            f"{CLIENT_PHONE},Jamie,plain_sms,v1",
            "not-a-number,Robin,plain_sms,v1",
            f"{OTHER_CLIENT_PHONE},Alex,secure_link,v1",
            "+12065550188,Jamie again,carrier_pigeon,v1",
        ],
    )
    assert result.returncode == 1  # some rows were rejected
    assert "imported 2, already present 0, rejected 2" in result.stdout
    rejected = result.stderr.strip().splitlines()
    assert [line.split(":")[0].strip() for line in rejected] == ["line 3", "line 5"]
    assert "phone_number" in rejected[0] and "consent_mode" in rejected[1]
    assert "not-a-number" not in result.stderr and "carrier_pigeon" not in result.stderr
    assert len(set(_conversation_ids(local_mode, workdir)) - seeded) == 2


def test_export_create_then_open_gives_back_the_thread_as_fhir(
    local_mode: dict[str, Any], workdir: Path
) -> None:
    before = set(_conversation_ids(local_mode, workdir))
    _import(local_mode, workdir, ["+12065550166,Sam,plain_sms,v1"])
    (contact,) = set(_conversation_ids(local_mode, workdir)) - before
    sent = quietline(
        local_mode, workdir, "send", "--tenant", "harbor", "--contact", contact, "See you at 3"
    )
    assert sent.returncode == 0 and sent.stdout.startswith("queued "), sent.stderr

    sealed, opened = workdir / "harbor.export", workdir / "harbor.fhir.json"
    created = quietline(
        local_mode, workdir, "export", "create", "--tenant", "harbor", "--output", str(sealed)
    )
    assert created.returncode == 0, created.stderr
    assert "See you at 3" not in sealed.read_text(encoding="utf-8")  # encrypted at rest
    reopened = quietline(
        local_mode, workdir, "export", "open", str(sealed), "--output", str(opened)
    )
    assert reopened.returncode == 0, reopened.stderr
    bundle = json.loads(opened.read_text(encoding="utf-8"))
    assert bundle["resourceType"] == "Bundle"
    texts = json.dumps(bundle)
    assert "See you at 3" in texts


def test_a_failed_export_leaves_no_file_and_says_one_line(
    local_mode: dict[str, Any], workdir: Path
) -> None:
    folder = workdir / "failed-export"
    folder.mkdir()
    result = quietline(
        local_mode,
        workdir,
        "export",
        "create",
        "--tenant",
        "no-such-practice",
        "--output",
        str(folder / "out.export"),
    )
    one_line_error(result)
    assert list(folder.iterdir()) == []


def test_tenants_retention_and_wipe_thread(local_mode: dict[str, Any], workdir: Path) -> None:
    retention = quietline(local_mode, workdir, "tenants", "retention", "--tenant", "harbor", "400")
    assert retention.returncode == 0, retention.stderr
    assert "new messages kept 400 days" in retention.stdout

    _import(local_mode, workdir, [f"{OTHER_CLIENT_PHONE},Alex,plain_sms,v1"])
    before = _conversation_ids(local_mode, workdir)
    wiped = quietline(
        local_mode, workdir, "wipe", "thread", "--tenant", "harbor", "--contact", before[-1]
    )
    assert wiped.returncode == 0, wiped.stderr
    assert wiped.stdout.startswith("deleted the contact and ")
    assert before[-1] not in _conversation_ids(local_mode, workdir)


def test_wipe_tenant_refuses_the_tenant_at_once_and_leaves_others(
    local_mode: dict[str, Any], workdir: Path
) -> None:
    mistyped = quietline(
        local_mode, workdir, "wipe", "tenant", "--tenant", SECOND_TENANT, "--confirm", "harbor"
    )
    one_line_error(mistyped)
    wiped = quietline(
        local_mode,
        workdir,
        "wipe",
        "tenant",
        "--tenant",
        SECOND_TENANT,
        "--confirm",
        SECOND_TENANT,
        "--days",
        "7",
    )
    assert wiped.returncode == 0, wiped.stderr
    assert "will be deleted on" in wiped.stdout
    refused = quietline(local_mode, workdir, "conversations", "--tenant", SECOND_TENANT)
    one_line_error(refused)
    assert quietline(local_mode, workdir, "conversations", "--tenant", "harbor").returncode == 0


def test_status_and_audit_read_the_same_local_deployment(
    local_mode: dict[str, Any], workdir: Path
) -> None:
    status = quietline(local_mode, workdir, "status")
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith("local mode")
    exported = quietline(
        local_mode,
        workdir,
        "audit",
        "export",
        "--tenant",
        "harbor",
        "--from",
        "2000-01-01",
        "--to",
        "2100-01-01",
        "--format",
        "json",
    )
    assert exported.returncode == 0, exported.stderr
    verified = quietline(local_mode, workdir, "audit", "verify", "--tenant", "harbor")
    assert verified.returncode == 0, verified.stdout + verified.stderr
