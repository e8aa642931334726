"""Blind indexes: look a client up by phone number without storing the number in a key.

Keys appear in CloudTrail data events and in every index; an HMAC under a per-tenant
secret (itself wrapped by the tenant's KMS key) keeps them free of PHI, and crypto-
shredding the tenant key makes the index unlinkable too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

INDEX_KEY_BYTES = 32


def blind_index(index_key: bytes, purpose: str, value: str) -> str:
    """26 base32 characters (130 bits) of HMAC-SHA256(key, purpose || value)."""
    if len(index_key) != INDEX_KEY_BYTES:
        raise ValueError("index key must be 32 bytes")
    digest = hmac.new(index_key, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().rstrip("=")[:26].lower()


def contact_phone_index(index_key: bytes, phone_e164: str) -> str:
    """A client's conversation (and contact) id: stored as a key, so its purpose string is
    part of the stored format (pinned by tests/unit/test_blind_index.py)."""
    return blind_index(index_key, "contact_phone", phone_e164)
