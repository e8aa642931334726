"""Local mode as a dependable stand-in across restarts, started as `make run` starts it
(`python -m local.runtime` from a bare environment, QUIETLINE_PORT=0, its own state dir):
data and demo credentials kept, demo conversations seeded once, Ctrl-C quick and clean,
Cognito's revocations honoured, and `quietline local reset` for a fresh start."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from functions.dal.audit_log import DynamoDbAuditLog
from functions.logic.audit_chain import verify_tenant
from infra.config import REPO_ROOT
from local.demo_seed import DEMO_CLIENTS
from local.identity import DemoUser, sign_in
from local.persistence import STATE_FILE
from local.process import RuntimeDidNotStart, RuntimeProcess
from tests.conftest import phi_found

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local-runtime")]

SENT_BEFORE_RESTART = "See you next week - bring the sleep diary."


def _start(runtime: RuntimeProcess) -> dict[str, Any]:
    try:
        return runtime.start(timeout=90)
    except RuntimeDidNotStart as error:
        pytest.fail(str(error))


def _stop_and_scan(runtime: RuntimeProcess) -> str:
    runtime.stop()
    log = runtime.log()
    assert phi_found(log) == [], "the local runtime logged PHI"
    return log


def _cognito(state: dict[str, Any]) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name=state["region"]
    )
    return session.client("cognito-idp", endpoint_url=state["aws_endpoint_url"])


def _user(state: dict[str, Any], role: str) -> DemoUser:
    return DemoUser(**next(u for u in state["users"] if u["role"] == role))


def _tokens(state: dict[str, Any], role: str) -> dict[str, str]:
    return sign_in(_cognito(state), state["user_pool_client_id"], _user(state, role))


def _api(
    state: dict[str, Any], token: str, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    request = urllib.request.Request(
        state["api_base_url"] + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": token, "Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, None


def _conversations(state: dict[str, Any], token: str) -> list[dict[str, Any]]:
    status, page = _api(state, token, "GET", "/conversations?limit=50")
    assert status == 200
    return list(page["items"])


def _thread(state: dict[str, Any], token: str, conversation_id: str) -> list[dict[str, Any]]:
    status, page = _api(state, token, "GET", f"/conversations/{conversation_id}/messages")
    assert status == 200
    return list(page["items"])


def _audit_report(state: dict[str, Any]) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name=state["region"]
    )
    table = session.resource("dynamodb", endpoint_url=state["aws_endpoint_url"]).Table(
        state["audit_table_name"]
    )
    log = DynamoDbAuditLog(table, retention_days=2190)
    deadline = time.monotonic() + 30
    report = verify_tenant(log, state["tenant_id"], datetime.now(UTC))
    while report.unsealed and time.monotonic() < deadline:  # the sealer runs off the request
        time.sleep(0.5)
        report = verify_tenant(log, state["tenant_id"], datetime.now(UTC))
    return report


@dataclass
class TwoRuns:
    state_dir: Path
    copy_dir: Path  # the first run's saved data, copied before the second run started
    first: dict[str, Any]
    first_log: str
    first_conversations: list[dict[str, Any]]
    seeded_directions: dict[str, list[str]]  # display name -> its thread's directions
    first_sealed: int
    sent_to: str  # conversation id
    stop_seconds: float
    exit_code: int | None
    second: dict[str, Any]
    second_log_path: Path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoRuns]:
    """A fresh start, used, stopped with Ctrl-C while busy, then started again."""
    state_dir = tmp_path_factory.mktemp("quietline-restart")
    first_runtime = RuntimeProcess(state_dir, inherit_environment=False)
    first = _start(first_runtime)
    token = _tokens(first, "clinician")["IdToken"]
    conversations = _conversations(first, token)
    seeded = {
        c["display_name"]: [m["direction"] for m in _thread(first, token, c["conversation_id"])]
        for c in conversations
    }
    sent_to = conversations[0]["conversation_id"]
    status, _ = _api(
        first, token, "POST", f"/conversations/{sent_to}/messages", {"body": SENT_BEFORE_RESTART}
    )
    assert status == 202
    sealed = _audit_report(first).sealed

    # Ctrl-C with requests in flight.
    with ThreadPoolExecutor(max_workers=6) as pool:
        busy = [pool.submit(_conversations, first, token) for _ in range(12)]
        time.sleep(0.05)
        started = time.monotonic()
        assert first_runtime.process is not None
        first_runtime.process.send_signal(signal.SIGINT)
        try:
            exit_code: int | None = first_runtime.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            exit_code = None
        stop_seconds = time.monotonic() - started
        for future in busy:
            future.exception()  # answered or cut off: either is fine while stopping
    first_log = _stop_and_scan(first_runtime)
    copy_dir = tmp_path_factory.mktemp("quietline-restart-copy")
    shutil.copy2(state_dir / STATE_FILE, copy_dir / STATE_FILE)

    second_runtime = RuntimeProcess(state_dir, inherit_environment=False)
    second = _start(second_runtime)
    yield TwoRuns(
        state_dir,
        copy_dir,
        first,
        first_log,
        conversations,
        seeded,
        sealed,
        sent_to,
        stop_seconds,
        exit_code,
        second,
        second_runtime.log_path,
    )
    _stop_and_scan(second_runtime)


def test_the_first_start_names_the_directory_that_keeps_the_data(runs: TwoRuns) -> None:
    (line,) = [line for line in runs.first_log.splitlines() if "Local data is kept in" in line]
    assert str(runs.state_dir) in line and "fresh start" in line


def test_ctrl_c_exits_cleanly_within_seconds_with_requests_in_flight(runs: TwoRuns) -> None:
    assert runs.exit_code == 0
    assert runs.stop_seconds < 10
    assert "Quietline stopped; local data saved" in runs.first_log


def test_the_saved_data_is_private_to_its_owner(runs: TwoRuns) -> None:
    assert (runs.state_dir / STATE_FILE).stat().st_mode & 0o077 == 0


def test_the_demo_clinician_sees_seeded_conversations_on_a_fresh_start(runs: TwoRuns) -> None:
    assert set(runs.seeded_directions) == {client.display_name for client in DEMO_CLIENTS}
    for client in DEMO_CLIENTS:
        expected = sorted("inbound" if text.inbound else "outbound" for text in client.texts)
        assert sorted(runs.seeded_directions[client.display_name]) == expected


def test_a_restart_says_it_restored_the_data(runs: TwoRuns) -> None:
    log = runs.second_log_path.read_text(encoding="utf-8")
    assert f"Local data is kept in {runs.state_dir} (restored from the last run)" in log


def test_a_restart_keeps_a_sent_message_readable_through_the_api(runs: TwoRuns) -> None:
    token = _tokens(runs.second, "clinician")["IdToken"]
    bodies = [m["body"] for m in _thread(runs.second, token, runs.sent_to)]
    assert SENT_BEFORE_RESTART in bodies


def test_a_restart_keeps_the_audit_chain_verifiable(runs: TwoRuns) -> None:
    report = _audit_report(runs.second)
    assert report.ok, report
    assert report.sealed >= runs.first_sealed and report.unsealed == 0


def test_a_restart_keeps_the_demo_credentials(runs: TwoRuns) -> None:
    assert runs.second["users"] == runs.first["users"]
    assert runs.second["user_pool_id"] == runs.first["user_pool_id"]
    assert runs.second["twilio_auth_token"] == runs.first["twilio_auth_token"]


def test_a_restart_does_not_seed_again(runs: TwoRuns) -> None:
    token = _tokens(runs.second, "clinician")["IdToken"]
    ids = [c["conversation_id"] for c in _conversations(runs.second, token)]
    assert sorted(ids) == sorted(c["conversation_id"] for c in runs.first_conversations)


def _refresh(state: dict[str, Any], refresh_token: str) -> Any:
    return _cognito(state).initiate_auth(
        ClientId=state["user_pool_client_id"],
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": refresh_token},
    )


def test_a_refresh_after_sign_out_everywhere_is_refused(runs: TwoRuns) -> None:
    # Given a signed-in admin whose refresh token works
    tokens = _tokens(runs.second, "admin")
    assert _refresh(runs.second, tokens["RefreshToken"])["AuthenticationResult"]["IdToken"]

    # When they sign out everywhere (AdminUserGlobalSignOut behind the API)
    assert _api(runs.second, tokens["IdToken"], "POST", "/me/sign-out")[0] == 204

    # Then the refresh token is refused, as Cognito refuses it
    with pytest.raises(ClientError) as refused:
        _refresh(runs.second, tokens["RefreshToken"])
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_a_disabled_users_refresh_is_refused(runs: TwoRuns) -> None:
    state = runs.second
    tokens = _tokens(state, "clinician")
    cognito = _cognito(state)
    email = _user(state, "clinician").email
    cognito.admin_disable_user(UserPoolId=state["user_pool_id"], Username=email)
    try:
        with pytest.raises(ClientError) as refused:
            _refresh(state, tokens["RefreshToken"])
    finally:
        cognito.admin_enable_user(UserPoolId=state["user_pool_id"], Username=email)
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"


def _reset(state_dir: Path) -> subprocess.CompletedProcess[str]:
    """`quietline local reset` from this checkout, in a bare environment."""
    return subprocess.run(
        [sys.executable, "-m", "cli", "local", "reset"],
        cwd=REPO_ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(state_dir),
            "QUIETLINE_STATE_DIR": str(state_dir),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_reset_refuses_while_local_mode_runs(runs: TwoRuns) -> None:
    result = _reset(runs.state_dir)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "quietline: local mode is running; stop it (Ctrl-C) before `quietline local reset`"
    ]
    assert (runs.state_dir / STATE_FILE).exists()


def test_reset_makes_the_next_start_fresh(runs: TwoRuns) -> None:
    # Given a stopped local mode's saved data
    assert (runs.copy_dir / STATE_FILE).exists()

    # When it is reset and started again
    result = _reset(runs.copy_dir)
    assert result.returncode == 0, result.stderr
    runtime = RuntimeProcess(runs.copy_dir, inherit_environment=False)
    state = _start(runtime)
    try:
        token = _tokens(state, "clinician")["IdToken"]
        names = {c["display_name"] for c in _conversations(state, token)}
    finally:
        log = _stop_and_scan(runtime)

    # Then it starts fresh: new random credentials, the demo conversations only
    assert f"Local data is kept in {runs.copy_dir} (fresh start)" in log
    assert state["users"] != runs.first["users"]
    assert names == {client.display_name for client in DEMO_CLIENTS}
