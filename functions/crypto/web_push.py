"""Web Push on `cryptography` alone: message encryption (RFC 8291, the aes128gcm content
coding of RFC 8188) and the VAPID signature (RFC 8292).

Written here rather than taken from pywebpush because pywebpush's `http-ece` is published
as a source package only, and the Lambda bundle installs wheels only. What a push carries
is a fixed notice (functions/logic/web_push.py); this module never sees PHI.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
import time
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

RECORD_SIZE = 4096  # RFC 8291 §4: a push message is one record of at most 4096 octets
_TAG_LENGTH = 16
_HEADER_LENGTH = 16 + 4 + 1 + 65  # salt, rs, idlen, the sender's uncompressed P-256 key
# One record, so the plaintext plus its delimiter and the tag must fit the record size.
MAX_PLAINTEXT = RECORD_SIZE - _TAG_LENGTH - 1
_LAST_RECORD = b"\x02"  # RFC 8188 §2: the delimiter of the last (here the only) record
VAPID_LIFETIME_SECONDS = 12 * 3600  # RFC 8292 §2: exp no more than 24 hours ahead


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    """HKDF-SHA-256 (RFC 5869) for outputs of one hash block, as RFC 8291 uses it."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()[:length]


def _uncompressed(public_key: ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def encrypt(
    plaintext: bytes,
    ua_public: bytes,
    auth_secret: bytes,
    *,
    sender_key: ec.EllipticCurvePrivateKey | None = None,
    salt: bytes | None = None,
) -> bytes:
    """The request body for one push: header (salt, rs, the sender's public key) and one
    aes128gcm record. `sender_key` and `salt` are fresh per message; tests pass the RFC's."""
    if len(plaintext) > MAX_PLAINTEXT:
        raise ValueError("push payload too large for one record")
    if len(auth_secret) != 16:
        raise ValueError("auth secret must be 16 bytes")
    receiver = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), ua_public)
    sender = sender_key or ec.generate_private_key(ec.SECP256R1())
    salt = os.urandom(16) if salt is None else salt
    as_public = _uncompressed(sender.public_key())
    ecdh_secret = sender.exchange(ec.ECDH(), receiver)
    # RFC 8291 §3.4: the auth secret and both public keys go into the input keying material.
    key_info = b"WebPush: info\x00" + ua_public + as_public
    ikm = _hkdf(auth_secret, ecdh_secret, key_info, 32)
    cek = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
    # One record: its sequence number is 0, so the nonce is used as derived.
    record = AESGCM(cek).encrypt(nonce, plaintext + _LAST_RECORD, None)
    header = salt + struct.pack("!IB", RECORD_SIZE, len(as_public)) + as_public
    assert len(header) == _HEADER_LENGTH
    return header + record


def load_private_key(pem: str) -> ec.EllipticCurvePrivateKey:
    """The VAPID key from its PEM; ValueError unless it is a P-256 private key."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("the VAPID key must be a P-256 private key")
    return key


def public_key(private_key: ec.EllipticCurvePrivateKey) -> str:
    """The applicationServerKey browsers subscribe with (uncompressed P-256, base64url)."""
    return b64url(_uncompressed(private_key.public_key()))


def new_private_key_pem() -> str:
    """A fresh VAPID key (P-256), PKCS#8 PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def origin(endpoint: str) -> str:
    """RFC 8292 §2: the JWT's audience is the push resource's origin, serialized as RFC 6454
    does (no path, no credentials, no default port)."""
    parts = urlsplit(endpoint)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("push endpoints are https URLs")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = "" if parts.port in (None, 443) else f":{parts.port}"
    return f"https://{host}{port}"


def vapid_authorization(
    private_key: ec.EllipticCurvePrivateKey,
    endpoint: str,
    subject: str,
    *,
    now: float | None = None,
) -> str:
    """`Authorization: vapid t=<ES256 JWT>, k=<public key>` for one push service."""
    issued = int(time.time() if now is None else now)
    claims = {"aud": origin(endpoint), "exp": issued + VAPID_LIFETIME_SECONDS, "sub": subject}
    token = jwt.encode(claims, private_key, algorithm="ES256", headers={"typ": "JWT"})
    return f"vapid t={token}, k={public_key(private_key)}"
