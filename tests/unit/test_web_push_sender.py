"""The push sender's request and its reading of the push service's answer (RFC 8030):
delivered, gone (the subscription is forgotten), throttled, failed, or not set up."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from functions.core.errors import DependencyError, ThrottledError
from functions.core.settings import SettingsError
from functions.crypto.web_push import b64url
from functions.dal.web_push import HttpPushSender, new_vapid_private_key_pem, vapid_public_key
from functions.logic.web_push import NOTICE

pytestmark = pytest.mark.unit

VAPID = new_vapid_private_key_pem()
ENDPOINT = "https://push.example/wpush/device-1"
NOW = 1_800_000_000.0


class FakePushService:
    """Stands in for urlopen: records the request, answers with `status`."""

    def __init__(self, status: int = 201, error: Exception | None = None) -> None:
        self.status = status
        self.error = error
        self.requests: list[tuple[urllib.request.Request, float]] = []

    def __call__(self, request: urllib.request.Request, timeout: float) -> Any:
        self.requests.append((request, timeout))
        if self.error is not None:
            raise self.error
        if self.status >= 400:
            raise urllib.error.HTTPError(ENDPOINT, self.status, "no", {}, io.BytesIO())  # type: ignore[arg-type]
        return io.BytesIO(b"")


def _device() -> tuple[dict[str, Any], ec.EllipticCurvePrivateKey, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    auth = b"0123456789abcdef"
    return (
        {"endpoint": ENDPOINT, "keys": {"p256dh": b64url(public), "auth": b64url(auth)}},
        key,
        auth,
    )


def _sender(service: FakePushService, key: str = VAPID) -> HttpPushSender:
    return HttpPushSender(
        lambda: key, "mailto:alarms@practice.example", opener=service, clock=lambda: NOW
    )


def test_a_delivered_push_is_one_encrypted_record_with_ttl_urgency_and_vapid() -> None:
    # Given a subscribed device and a push service that accepts
    subscription, device_key, auth = _device()
    service = FakePushService(201)
    # When the notice is sent
    assert _sender(service).send(subscription, json.dumps(NOTICE)) is True
    # Then one POST went to the endpoint, with a bounded timeout
    ((request, timeout),) = service.requests
    assert request.full_url == ENDPOINT and request.get_method() == "POST"
    assert 0 < timeout <= 10
    headers = {k.lower(): v for k, v in request.header_items()}
    assert headers["content-encoding"] == "aes128gcm"
    assert headers["ttl"] == "3600"
    assert headers["urgency"] == "normal"
    assert headers["authorization"].startswith("vapid t=")
    assert headers["authorization"].endswith(f", k={vapid_public_key(VAPID)}")
    # And the body is the notice, readable by the device only
    assert isinstance(request.data, bytes) and b"Quietline" not in request.data
    plain = http_ece.decrypt(
        request.data, private_key=device_key, auth_secret=auth, version="aes128gcm"
    )
    assert json.loads(plain) == NOTICE


@pytest.mark.parametrize("status", [404, 410])
def test_a_subscription_the_push_service_no_longer_knows_is_reported_gone(status: int) -> None:
    subscription, _, _ = _device()
    assert _sender(FakePushService(status)).send(subscription, json.dumps(NOTICE)) is False


def test_a_subscription_made_with_a_rotated_out_key_is_reported_gone() -> None:
    """RFC 8292 §4.2: 403 when the VAPID key is not the one the device subscribed with."""
    subscription, _, _ = _device()
    assert _sender(FakePushService(403)).send(subscription, json.dumps(NOTICE)) is False


def test_a_throttled_push_is_a_throttle_not_a_gone_device() -> None:
    subscription, _, _ = _device()
    with pytest.raises(ThrottledError):
        _sender(FakePushService(429)).send(subscription, json.dumps(NOTICE))


@pytest.mark.parametrize(
    "service",
    [
        FakePushService(500),
        FakePushService(401),  # our token refused (a clock far off): not the device's fault
        FakePushService(413),
        FakePushService(error=urllib.error.URLError("refused")),
        FakePushService(error=TimeoutError()),
    ],
)
def test_a_failing_or_silent_push_service_is_a_dependency_failure(service: FakePushService) -> None:
    subscription, _, _ = _device()
    with pytest.raises(DependencyError):
        _sender(service).send(subscription, json.dumps(NOTICE))


def test_the_stacks_placeholder_secret_is_not_a_key_and_nothing_is_sent() -> None:
    # Given the secret as the stack creates it, before `quietline push init`
    subscription, _, _ = _device()
    service = FakePushService(201)
    # When a push is attempted, then it fails as "not set up" and nothing reaches the service
    with pytest.raises(DependencyError, match="no VAPID key"):
        _sender(service, key="Xq3hP0aVplaceholder8sJd2kW9").send(subscription, "{}")
    assert service.requests == []


def test_a_deployment_without_the_secret_setting_is_not_set_up() -> None:
    def missing() -> str:
        raise SettingsError("QUIETLINE_WEB_PUSH_VAPID_SECRET is not set")

    subscription, _, _ = _device()
    with pytest.raises(DependencyError, match="no VAPID key"):
        HttpPushSender(missing, opener=FakePushService()).send(subscription, "{}")


def test_a_device_with_malformed_keys_is_reported_gone_without_a_request() -> None:
    service = FakePushService(201)
    broken = {
        "endpoint": ENDPOINT,
        "keys": {"p256dh": b64url(b"\x04" + b"\x07" * 64), "auth": "AAAA"},
    }
    assert _sender(service).send(broken, "{}") is False
    assert service.requests == []
