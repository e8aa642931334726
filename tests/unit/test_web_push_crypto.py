"""Web Push on `cryptography`: RFC 8291's published example reproduced byte for byte, the
same scheme read back by an independent implementation (http_ece), and RFC 8292's VAPID
token as a push service checks it."""

from __future__ import annotations

import json

import http_ece
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from functions.crypto import web_push
from functions.crypto.web_push import b64url, from_b64url

pytestmark = pytest.mark.unit

# RFC 8291 Section 5 (and Appendix A): the example push message, its keys and its salt.
RFC_PLAINTEXT = "When I grow up, I want to be a watermelon"
RFC_AS_PRIVATE = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
RFC_AS_PUBLIC = (
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
)
RFC_UA_PRIVATE = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
RFC_UA_PUBLIC = (
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
)
RFC_SALT = "DGv6ra1nlYgDCS1FRnbzlw"
RFC_AUTH = "BTBZMqHH6r4Tts7J_aSIgg"
RFC_BODY = (
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS"
    "6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qul"
    "cy4a-fN"
)
NOTICE = json.dumps({"title": "New message in Quietline", "body": "Open Quietline to read it."})


def _private(b64: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(from_b64url(b64), "big"), ec.SECP256R1())


def _device() -> tuple[ec.EllipticCurvePrivateKey, bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return key, public, b"sixteen byte key"


def test_the_rfc_8291_example_message_is_reproduced_exactly() -> None:
    # Given the RFC's application server key, the device's keys and the salt
    # When its plaintext is encrypted
    body = web_push.encrypt(
        RFC_PLAINTEXT.encode(),
        from_b64url(RFC_UA_PUBLIC),
        from_b64url(RFC_AUTH),
        sender_key=_private(RFC_AS_PRIVATE),
        salt=from_b64url(RFC_SALT),
    )
    # Then the body is the RFC's, octet for octet (header, rs 4096, key id, one record)
    assert b64url(body) == RFC_BODY


def test_the_rfc_example_key_is_the_sender_public_key_in_the_header() -> None:
    body = from_b64url(RFC_BODY)
    assert web_push.public_key(_private(RFC_AS_PRIVATE)) == RFC_AS_PUBLIC
    assert body[20] == 65 and b64url(body[21:86]) == RFC_AS_PUBLIC


def test_an_independent_implementation_decrypts_what_is_sent() -> None:
    # Given a device's fresh keys
    device_key, device_public, auth = _device()
    # When the notice is encrypted for it (fresh sender key and salt)
    body = web_push.encrypt(NOTICE.encode(), device_public, auth)
    # Then http_ece, with the device's private key, reads exactly the notice
    plain = http_ece.decrypt(body, private_key=device_key, auth_secret=auth, version="aes128gcm")
    assert plain.decode() == NOTICE


def test_the_rfc_device_reads_the_rfc_body_with_http_ece() -> None:
    """The vector itself checked by the independent implementation: our constants are the RFC's."""
    plain = http_ece.decrypt(
        from_b64url(RFC_BODY),
        private_key=_private(RFC_UA_PRIVATE),
        auth_secret=from_b64url(RFC_AUTH),
        version="aes128gcm",
    )
    assert plain.decode() == RFC_PLAINTEXT


def test_two_pushes_of_the_same_notice_share_no_salt_key_or_ciphertext() -> None:
    _, device_public, auth = _device()
    first = web_push.encrypt(NOTICE.encode(), device_public, auth)
    second = web_push.encrypt(NOTICE.encode(), device_public, auth)
    assert first[:16] != second[:16]  # salt
    assert first[21:86] != second[21:86]  # the sender's ephemeral key
    assert first[86:] != second[86:]


def test_a_payload_larger_than_one_record_is_refused() -> None:
    _, device_public, auth = _device()
    web_push.encrypt(b"x" * web_push.MAX_PLAINTEXT, device_public, auth)
    with pytest.raises(ValueError, match="one record"):
        web_push.encrypt(b"x" * (web_push.MAX_PLAINTEXT + 1), device_public, auth)


def test_a_device_key_that_is_not_on_p256_is_refused() -> None:
    with pytest.raises(ValueError):
        web_push.encrypt(b"hi", b"\x04" + b"\x01" * 64, b"sixteen byte key")


def _token_parts(header: str) -> tuple[str, str]:
    scheme, _, rest = header.partition(" ")
    assert scheme == "vapid"
    fields = dict(part.strip().split("=", 1) for part in rest.split(","))
    return fields["t"], fields["k"]


def test_the_vapid_token_verifies_with_the_key_it_names_for_the_push_service_origin() -> None:
    # Given the application server's key and a device's endpoint
    key = web_push.load_private_key(web_push.new_private_key_pem())
    endpoint = "https://fcm.googleapis.com:443/fcm/send/abc:def?x=1"
    # When the Authorization header is built at a known time
    header = web_push.vapid_authorization(
        key, endpoint, "mailto:alarms@practice.example", now=1_800_000_000
    )
    # Then its token verifies (ES256) with the public key in k=, for the endpoint's origin
    token, k = _token_parts(header)
    verifier = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), from_b64url(k))
    claims = jwt.decode(
        token,
        verifier,
        algorithms=["ES256"],
        audience="https://fcm.googleapis.com",
        options={"verify_exp": False},
    )
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    assert claims["sub"] == "mailto:alarms@practice.example"
    # And it expires after the moment it was made, within RFC 8292's 24 hours
    assert 1_800_000_000 < claims["exp"] <= 1_800_000_000 + 24 * 3600


def test_the_audience_is_the_origin_without_path_query_credentials_or_default_port() -> None:
    assert web_push.origin("https://push.example:8443/a") == "https://push.example:8443"
    assert web_push.origin("https://updates.push.services.mozilla.com/wpush/v2/gAAA") == (
        "https://updates.push.services.mozilla.com"
    )
    assert web_push.origin("https://u:p@web.push.apple.com/QK?x") == "https://web.push.apple.com"


def test_a_non_https_endpoint_has_no_audience() -> None:
    with pytest.raises(ValueError, match="https"):
        web_push.origin("http://push.example/device")


def test_a_key_that_is_not_p256_is_not_a_vapid_key() -> None:
    other = ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ValueError, match="P-256"):
        web_push.load_private_key(other.decode())
