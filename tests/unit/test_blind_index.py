"""Blind indexes are stored as conversation and contact ids: their bytes are a stored format.

Expected values were computed outside Python: printf 'PURPOSE\\0VALUE' | openssl dgst
-sha256 -mac HMAC -macopt hexkey:000102..1f -binary | base32, first 26 characters, lowercased.
"""

from __future__ import annotations

import pytest

from functions.crypto.blind_index import blind_index, contact_phone_index
from tests.phi_samples import CLIENT_PHONE

pytestmark = pytest.mark.unit

KEY = bytes(range(32))


def test_a_client_numbers_conversation_id_is_pinned() -> None:
    assert contact_phone_index(KEY, CLIENT_PHONE) == "jdwaa5v5ckyaf6j5pq4ieenmft"


def test_the_indexed_value_is_hashed_as_utf8_after_a_nul_separated_purpose() -> None:
    assert blind_index(KEY, "contact_phone", "caf\u00e9") == "pnk4msuo6r4casb7bgbdxwsbop"


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_an_index_key_of_any_size_but_32_bytes_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        blind_index(bytes(size), "contact_phone", CLIENT_PHONE)
