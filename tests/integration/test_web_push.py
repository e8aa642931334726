"""Web Push: the sender over real HTTP to a local fake push service (the payload decrypts to
the no-PHI notice), sealed subscriptions on moto, and gone devices forgotten."""

from __future__ import annotations

import base64
import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from functions.crypto.envelope import EnvelopeCipher
from functions.dal.web_push import (
    DynamoDbPushStore,
    HttpPushSender,
    new_vapid_private_key_pem,
    vapid_public_key,
)
from functions.logic.access import Principal, Role
from functions.logic.web_push import NOTICE, WebPushService
from tests.phi_samples import BODY, CLIENT_PHONE

pytestmark = pytest.mark.integration

CLINICIAN = Principal("user-1", "harbor", Role.CLINICIAN, "s-1", 0)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class FakePushService:
    """Answers like a browser vendor's push service: 201, or 410 for a gone device."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.gone: set[str] = set()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                outer.received.append((self.path, headers, body))
                self.send_response(410 if self.path in outer.gone else 201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def sender(self, vapid: str) -> HttpPushSender:
        """Our sender, its https endpoints answered by this plain-HTTP fake (no TLS here)."""

        def opener(request: urllib.request.Request, timeout: float) -> Any:
            path = request.full_url.removeprefix(PUSH_ORIGIN)
            local = urllib.request.Request(
                self.base + path,
                data=request.data,
                headers=dict(request.header_items()),
                method=request.get_method(),
            )
            return urllib.request.urlopen(local, timeout=timeout)

        return HttpPushSender(lambda: vapid, opener=opener)


PUSH_ORIGIN = "https://push.example"


@pytest.fixture
def push_service() -> Iterator[FakePushService]:
    service = FakePushService()
    yield service
    service.server.shutdown()


def _device(endpoint: str) -> tuple[dict[str, Any], ec.EllipticCurvePrivateKey, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    auth = b"0123456789abcdef"
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {"endpoint": endpoint, "keys": {"p256dh": _b64(public), "auth": _b64(auth)}}, key, auth


def test_the_pushed_payload_decrypts_to_the_notice_and_nothing_else(
    push_service: FakePushService,
) -> None:
    # Given a device subscribed at the (fake) push service
    subscription, key, auth = _device(PUSH_ORIGIN + "/device-1")
    vapid = new_vapid_private_key_pem()
    # When Quietline pushes to it
    assert push_service.sender(vapid).send(subscription, json.dumps(NOTICE)) is True
    # Then the push service got ciphertext that only the device can read: the notice
    ((path, headers, body),) = push_service.received
    assert path == "/device-1" and headers["content-encoding"] == "aes128gcm"
    plain = http_ece.decrypt(body, private_key=key, auth_secret=auth, version="aes128gcm")
    assert json.loads(plain) == {"title": "New message in Quietline", "body": NOTICE["body"]}
    assert CLIENT_PHONE.encode() not in plain and BODY.encode() not in plain
    assert b"New message" not in body  # encrypted on the wire
    # And it was signed with the VAPID key browsers subscribe with
    assert f"k={vapid_public_key(vapid)}" in headers["authorization"]


def test_a_device_the_push_service_calls_gone_is_reported_gone(
    push_service: FakePushService,
) -> None:
    subscription, _, _ = _device(PUSH_ORIGIN + "/gone")
    push_service.gone.add("/gone")
    vapid = new_vapid_private_key_pem()
    assert push_service.sender(vapid).send(subscription, json.dumps(NOTICE)) is False


class RecordingSender:
    def __init__(self, gone: set[str] | None = None) -> None:
        self.sent: list[tuple[dict[str, Any], str]] = []
        self.gone = gone or set()

    def send(self, subscription: dict[str, Any], payload: str) -> bool:
        if subscription["endpoint"] in self.gone:
            return False
        self.sent.append((subscription, payload))
        return True


def test_a_subscription_is_stored_sealed_and_used_for_its_tenant_only(
    table: Any, cipher: EnvelopeCipher
) -> None:
    # Given a clinician's device subscribed
    sender = RecordingSender()
    service = WebPushService(DynamoDbPushStore(table), cipher, sender)
    subscription, _, _ = _device("https://push.example/device-1")
    service.subscribe(CLINICIAN, subscription)
    # Then its endpoint (a capability URL) is not readable in the table
    stored = json.dumps([str(i) for i in table.scan()["Items"]])
    assert "push.example" not in stored
    # When texts arrive for another tenant, then for its own
    assert service.notify(["cedar"]) == 0
    assert service.notify(["harbor", "harbor"]) == 1
    # Then the device got the notice once
    assert sender.sent == [(subscription, json.dumps(NOTICE))]


def test_a_gone_device_is_forgotten(table: Any, cipher: EnvelopeCipher) -> None:
    sender = RecordingSender(gone={"https://push.example/old"})
    store = DynamoDbPushStore(table)
    service = WebPushService(store, cipher, sender)
    service.subscribe(CLINICIAN, _device("https://push.example/old")[0])
    service.subscribe(CLINICIAN, _device("https://push.example/new")[0])
    assert service.notify(["harbor"]) == 1
    assert len(store.subscriptions("harbor")) == 1
