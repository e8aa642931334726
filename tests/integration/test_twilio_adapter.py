"""The Twilio adapter against a real HTTP server on 127.0.0.1 standing in for api.twilio.com."""

from __future__ import annotations

import base64
import json
import socket
import threading
import urllib.parse
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from functions.carriers.models import OutboundSms
from functions.carriers.twilio import TwilioCarrier
from functions.core.errors import (
    CarrierError,
    PermanentCarrierError,
    TransientCarrierError,
    ValidationError,
)
from tests.phi_samples import BODY, BUSINESS_NUMBER, CLIENT_PHONE

pytestmark = pytest.mark.integration

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "0123456789abcdef0123456789abcdef"
STATUS_URL = "https://quietline.example/twilio/status?tenant=harbor"
SMS = OutboundSms(BUSINESS_NUMBER, CLIENT_PHONE, BODY, "harbor/conv-1/01JDQ3Z8", "harbor")


@dataclass
class Reply:
    status: int = 201
    body: bytes = b'{"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued"}'
    hang: bool = False  # hold the request until the test ends (a timeout)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, list[str]]


@dataclass
class FakeTwilio:
    base_url: str
    replies: deque[Reply] = field(default_factory=deque)
    seen: list[Seen] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: FakeTwilio

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out leaves a broken pipe behind; nothing to print."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        api = self.server.api
        length = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
        api.seen.append(Seen("POST", self.path, dict(self.headers.items()), form))
        reply = api.replies.popleft() if api.replies else Reply()
        if reply.hang:
            api.release.wait(5)
            return
        self.send_response(reply.status)
        if 300 <= reply.status < 400:
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request line is nobody's business in test output."""


@pytest.fixture
def api() -> Iterator[FakeTwilio]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.api = FakeTwilio(base_url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield server.api
    server.api.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def carrier(api: FakeTwilio, **kwargs: Any) -> TwilioCarrier:
    return TwilioCarrier(ACCOUNT_SID, AUTH_TOKEN, base_url=api.base_url, **kwargs)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's HTTP(S)_PROXY must not route 127.0.0.1 elsewhere."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_given_a_text_when_sent_then_it_posts_the_form_to_the_messages_resource(
    api: FakeTwilio,
) -> None:
    result = carrier(api, status_callback_url=STATUS_URL).send(SMS)

    assert result.carrier_message_id == "SM0123456789abcdef0123456789abcdef"
    [request] = api.seen
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.form == {
        "From": [BUSINESS_NUMBER],
        "To": [CLIENT_PHONE],
        "Body": [BODY],
        "StatusCallback": [STATUS_URL],
    }


def test_given_a_text_when_sent_then_it_authenticates_with_http_basic(api: FakeTwilio) -> None:
    carrier(api).send(SMS)

    scheme, _, encoded = api.seen[0].headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == f"{ACCOUNT_SID}:{AUTH_TOKEN}"


def test_given_no_status_callback_when_sent_then_none_is_requested(api: FakeTwilio) -> None:
    carrier(api).send(SMS)

    assert "StatusCallback" not in api.seen[0].form


def test_given_a_messaging_service_as_sender_when_sent_then_it_is_named_as_such(
    api: FakeTwilio,
) -> None:
    service_sms = OutboundSms("MG0123456789abcdef", CLIENT_PHONE, BODY, "m-1", "harbor")

    carrier(api).send(service_sms)

    assert api.seen[0].form["MessagingServiceSid"] == ["MG0123456789abcdef"]
    assert "From" not in api.seen[0].form


def _error(status: int, code: int | None = None) -> Reply:
    payload: dict[str, Any] = {"status": status, "more_info": "https://www.twilio.com/docs/errors"}
    if code is not None:
        payload["code"] = code
        payload["message"] = f"The 'To' number {CLIENT_PHONE} is not a valid phone number."
    return Reply(status=status, body=json.dumps(payload).encode())


@pytest.mark.parametrize(
    ("reply", "error_type", "reason", "opted_out"),
    [
        (_error(429, 20429), TransientCarrierError, "twilio:20429", False),
        (_error(500), TransientCarrierError, "twilio:http-500", False),
        (_error(503, 20503), TransientCarrierError, "twilio:20503", False),
        (_error(400, 21211), PermanentCarrierError, "twilio:21211", False),
        (_error(400, 21610), PermanentCarrierError, "twilio:21610", True),
        (_error(401, 20003), PermanentCarrierError, "twilio:20003", False),
        (Reply(404, b"<html>not found</html>"), PermanentCarrierError, "twilio:http-404", False),
        (Reply(302, b""), PermanentCarrierError, "twilio:http-302", False),
    ],
)
def test_given_a_twilio_error_when_sent_then_it_maps_by_status_and_code(
    api: FakeTwilio,
    reply: Reply,
    error_type: type[CarrierError],
    reason: str,
    opted_out: bool,
) -> None:
    api.replies.append(reply)

    with pytest.raises(error_type) as caught:
        carrier(api).send(SMS)

    assert caught.value.reason == reason
    assert getattr(caught.value, "recipient_opted_out", False) is opted_out


def test_given_an_error_body_quoting_the_number_when_mapped_then_it_is_not_repeated(
    api: FakeTwilio,
) -> None:
    api.replies.append(_error(400, 21211))

    with pytest.raises(PermanentCarrierError) as caught:
        carrier(api).send(SMS)

    assert CLIENT_PHONE not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_given_twilio_hangs_when_sent_then_the_timeout_is_transient(api: FakeTwilio) -> None:
    api.replies.append(Reply(hang=True))

    with pytest.raises(TransientCarrierError) as caught:
        carrier(api, timeout=0.2).send(SMS)

    assert caught.value.reason == "twilio:unreachable"


def test_given_nothing_listening_when_sent_then_it_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = TwilioCarrier(ACCOUNT_SID, AUTH_TOKEN, base_url=f"http://127.0.0.1:{port}")

    with pytest.raises(TransientCarrierError):
        closed.send(SMS)


def test_given_a_success_without_a_sid_when_sent_then_it_fails_rather_than_resend(
    api: FakeTwilio,
) -> None:
    api.replies.append(Reply(201, b'{"status": "queued"}'))

    with pytest.raises(PermanentCarrierError) as caught:
        carrier(api).send(SMS)

    assert caught.value.reason == "twilio:unreadable-response"


@pytest.mark.parametrize(
    "base_url", ["http://api.twilio.com", "ftp://127.0.0.1", "http://10.0.0.5:8080"]
)
def test_given_a_base_url_without_tls_off_loopback_when_constructed_then_refused(
    base_url: str,
) -> None:
    with pytest.raises(ValidationError) as caught:
        TwilioCarrier(ACCOUNT_SID, AUTH_TOKEN, base_url=base_url)

    assert caught.value.field == "base_url"


@pytest.mark.parametrize("sid", ["", "AC/../../Accounts", "AC 123"])
def test_given_a_malformed_account_sid_when_constructed_then_refused(sid: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TwilioCarrier(sid, AUTH_TOKEN)

    assert caught.value.field == "account_sid"


def test_given_the_default_base_url_when_constructed_then_it_is_twilio_over_https() -> None:
    twilio_carrier = TwilioCarrier(ACCOUNT_SID, AUTH_TOKEN)

    assert twilio_carrier.messages_url == (
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    )
    assert twilio_carrier.name == "twilio"


def test_given_a_redirect_when_sent_then_it_is_not_followed_with_our_credentials(
    api: FakeTwilio,
) -> None:
    api.replies.append(Reply(302, b""))

    with pytest.raises(PermanentCarrierError):
        carrier(api).send(SMS)

    assert len(api.seen) == 1
