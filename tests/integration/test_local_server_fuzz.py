"""Local mode's HTTP adapter (local/server.py) under malformed HTTP, over a real socket.

Non-numeric, negative, duplicate or lying Content-Lengths, chunked bodies, bodies that are
not UTF-8, JSON 10,000 deep, lone surrogates, huge bodies: every request gets a complete
HTTP answer, a 4xx unless the request was good, never a dropped connection; a refusal stores
nothing; and the runtime's log holds no traceback (nor PHI) when it stops.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from local.identity import totp
from local.process import RuntimeDidNotStart, RuntimeProcess
from tests.conftest import phi_found
from tests.integration.hostile import DEEP_ARRAY, LONE_SURROGATE, NOT_UTF8, bodies

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local-runtime")]

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HUGE = b"x" * 2_000_000  # twice the adapter's limit


@dataclass
class Local:
    """The running local mode: where it listens, a signed-in admin, and its table."""

    host: str
    port: int
    admin_token: str
    table: Any

    def stored(self) -> int:
        return int(self.table.scan(Select="COUNT")["Count"])


def _sign_in_admin(state: dict[str, Any], session: boto3.session.Session) -> str:
    cognito = session.client("cognito-idp", endpoint_url=state["aws_endpoint_url"])
    admin = next(u for u in state["users"] if u["role"] == "admin")
    challenge = cognito.initiate_auth(
        ClientId=state["user_pool_client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": admin["email"], "PASSWORD": admin["password"]},
    )
    tokens = cognito.respond_to_auth_challenge(
        ClientId=state["user_pool_client_id"],
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=challenge["Session"],
        ChallengeResponses={
            "USERNAME": admin["email"],
            "SOFTWARE_TOKEN_MFA_CODE": totp(admin["totp_secret"]),
        },
    )["AuthenticationResult"]
    return str(tokens["IdToken"])


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    runtime = RuntimeProcess(tmp_path_factory.mktemp("quietline-fuzz"))
    try:
        state = runtime.start(timeout=60)
    except RuntimeDidNotStart as error:
        pytest.fail(str(error))
    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name=state["region"]
    )
    table = session.resource("dynamodb", endpoint_url=state["aws_endpoint_url"]).Table(
        state["table_name"]
    )
    base = urlsplit(state["base_url"])
    assert base.hostname and base.port
    local = Local(base.hostname, base.port, _sign_in_admin(state, session), table)
    # The admin's first request creates their session: made here, not by a fuzzed request.
    assert _exchange(local, _request("GET", "/me", local, b"", length="auto"))[0] == 200
    yield local
    runtime.stop()
    log = runtime.log()
    assert "GET /me -> 200" in log, "the scan must see the runtime's own log lines"
    assert "Traceback" not in log and "handler raised" not in log
    assert phi_found(log) == [], "the local runtime logged PHI"


def _request(
    method: str,
    path: str,
    local: Local,
    body: bytes,
    *,
    length: str,
    content_type: str | None = "application/json",
) -> bytes:
    """One raw HTTP/1.1 request, with the admin's token. `length`: "auto" (the true one),
    "none", "chunked", or raw Content-Length values ("|" between repeated headers)."""
    headers = [("Host", f"{local.host}:{local.port}"), ("Authorization", local.admin_token)]
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    if length == "auto":
        headers.append(("Content-Length", str(len(body))))
    elif length == "chunked":
        headers.append(("Transfer-Encoding", "chunked"))
    elif length != "none":
        headers += [("Content-Length", value) for value in length.split("|")]
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    return (head + "\r\n").encode("latin-1") + body


def _exchange(local: Local, request: bytes) -> tuple[int, bytes]:
    """Send `request`, then read the whole answer; a dropped connection fails the test."""
    with socket.create_connection((local.host, local.port), timeout=20) as connection:
        connection.sendall(request)
        connection.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, separator, body = received.partition(b"\r\n\r\n")
    assert separator, f"no complete HTTP answer (got {len(received)} bytes)"
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    assert status_line.startswith("HTTP/1."), status_line
    return int(status_line.split()[1]), body


# Not one plain decimal (of at most 18 digits): the adapter must not guess a length.
MALFORMED_LENGTHS = ("abc", "-5", "+5", "1e3", "0x10", "", " ", "5|7", "9" * 20)
# "auto": the true length; "none" and "3" lie about the body; "chunked" sends no length.
_lengths = st.sampled_from(("auto", "none", "3", "chunked", *MALFORMED_LENGTHS))
TOKEN = "t" * 32  # no such link: its routes refuse after the body's checks
ROUTES = (
    ("POST", "/webhooks/twilio/sms"),
    ("POST", "/webhooks/twilio/status"),
    ("POST", "/local/aws-sms/inbound"),
    ("POST", f"/secure/{TOKEN}/verify"),
    ("POST", f"/secure/{TOKEN}/reply"),
    ("POST", f"/secure/{TOKEN}/challenge"),
    ("GET", f"/secure/{TOKEN}/message"),
    ("POST", "/templates"),
    ("PUT", "/settings"),
)
# What a good request may get: stored SNS text (202), a saved template or settings (200/201).
SUCCESS = {200, 201, 202}


@pytest.mark.parametrize(
    ("method", "path"), ROUTES, ids=[f"{m} {p.replace(TOKEN, '{token}')}" for m, p in ROUTES]
)
@FUZZ
@example(body=b'{"a": 1}', length="abc", content_type="application/json")
@example(body=DEEP_ARRAY.encode(), length="auto", content_type="application/json")
@example(body=LONE_SURROGATE.encode(), length="auto", content_type="application/json")
@example(body=NOT_UTF8, length="auto", content_type="application/json")
@example(body=HUGE, length="auto", content_type="application/json")
@given(
    body=bodies,
    length=_lengths,
    content_type=st.sampled_from([None, "application/json", "text/plain; charset=utf-8"]),
)
def test_malformed_http_gets_a_4xx_answer_and_stores_nothing(
    local: Local, method: str, path: str, body: bytes, length: str, content_type: str | None
) -> None:
    before = local.stored()

    status, answer = _exchange(
        local, _request(method, path, local, body, length=length, content_type=content_type)
    )

    assert 400 <= status < 500 or status in SUCCESS, (status, answer[:200])
    assert b"Traceback" not in answer
    if status >= 400:
        assert phi_found(answer.decode("utf-8", "replace")) == []
        assert local.stored() == before, "a refusal stored data"
    if length in MALFORMED_LENGTHS:
        assert status == 400, "a Content-Length that is not one number is refused"
    if length == "chunked":
        assert status == 411


def test_a_non_numeric_content_length_is_a_400_not_a_dropped_connection(local: Local) -> None:
    request = _request("POST", "/templates", local, b'{"name": "a"}', length="twelve")

    status, answer = _exchange(local, request)

    assert status == 400 and json.loads(answer) == {
        "error": "Content-Length must be a non-negative integer"
    }
