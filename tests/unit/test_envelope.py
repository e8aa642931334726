"""Envelope encryption: round trips, and every tampering or relocation fails typed."""

from __future__ import annotations

import dataclasses
import struct

import pytest

from functions.core.errors import (
    DecryptionError,
    KeyUnavailableError,
    MalformedRecordError,
    UnsupportedVersionError,
)
from functions.crypto.envelope import FORMAT_VERSION, EncryptedRecord, EnvelopeCipher, FieldLocation
from tests.fakes import ContextIgnoringKeyProvider, FakeKeyProvider
from tests.phi_samples import BODY, LONG_BODY, OTHER_BODY

pytestmark = pytest.mark.unit

HERE = FieldLocation("harbor", "conv1", "01JMSG0000000000000000000A", "body")


@pytest.fixture
def keys() -> FakeKeyProvider:
    return FakeKeyProvider()


@pytest.fixture
def cipher(keys: FakeKeyProvider) -> EnvelopeCipher:
    return EnvelopeCipher(keys)


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@pytest.mark.parametrize("body", [BODY, LONG_BODY, "", "emoji 🙂 and accents é"])
def test_given_a_body_when_encrypted_then_it_decrypts_to_the_same_text(
    cipher: EnvelopeCipher, body: str
) -> None:
    record = cipher.encrypt(HERE, body)
    assert cipher.decrypt(HERE, record.to_bytes()) == body


def test_the_stored_record_holds_neither_plaintext_nor_the_data_key(
    keys: FakeKeyProvider, cipher: EnvelopeCipher
) -> None:
    captured: list[bytes] = []
    original = keys.generate_data_key

    def spy(tenant_id, context):  # type: ignore[no-untyped-def]
        data_key = original(tenant_id, context)
        captured.append(data_key.plaintext)
        return data_key

    keys.generate_data_key = spy  # type: ignore[method-assign]
    blob = cipher.encrypt(HERE, BODY).to_bytes()
    assert BODY.encode() not in blob
    assert captured and captured[0] not in blob


def test_every_encryption_uses_a_fresh_data_key_and_nonce(
    keys: FakeKeyProvider, cipher: EnvelopeCipher
) -> None:
    first = cipher.encrypt(HERE, BODY)
    second = cipher.encrypt(HERE, BODY)
    assert keys.generated == 2
    assert first.wrapped_key != second.wrapped_key
    assert first.nonce != second.nonce
    assert first.ciphertext != second.ciphertext


def test_record_serialization_round_trips_every_field(cipher: EnvelopeCipher) -> None:
    record = cipher.encrypt(HERE, OTHER_BODY)
    parsed = EncryptedRecord.from_bytes(record.to_bytes())
    assert parsed == record
    assert parsed.version == FORMAT_VERSION
    assert len(parsed.nonce) == 12


@pytest.mark.parametrize(
    "moved",
    [
        dataclasses.replace(HERE, tenant_id="cedar"),
        dataclasses.replace(HERE, conversation_id="conv2"),
        dataclasses.replace(HERE, record_id="01JMSG0000000000000000000B"),
        dataclasses.replace(HERE, field="phone"),
    ],
    ids=["other-tenant", "other-conversation", "other-message", "other-field"],
)
def test_a_record_copied_to_another_location_fails_at_the_key_provider(
    cipher: EnvelopeCipher, moved: FieldLocation
) -> None:
    blob = cipher.encrypt(HERE, BODY).to_bytes()
    with pytest.raises(DecryptionError):
        cipher.decrypt(moved, blob)


@pytest.mark.parametrize(
    "moved",
    [
        dataclasses.replace(HERE, conversation_id="conv2"),
        dataclasses.replace(HERE, record_id="01JMSG0000000000000000000B"),
        dataclasses.replace(HERE, field="phone"),
    ],
    ids=["other-conversation", "other-message", "other-field"],
)
def test_the_gcm_associated_data_alone_rejects_a_relocated_record(moved: FieldLocation) -> None:
    # Even if the key provider ignored the context, AES-GCM's AAD would refuse the move.
    cipher = EnvelopeCipher(ContextIgnoringKeyProvider())
    blob = cipher.encrypt(HERE, BODY).to_bytes()
    with pytest.raises(DecryptionError):
        cipher.decrypt(moved, blob)


def _offsets(record: EncryptedRecord) -> dict[str, int]:
    key_id_end = 6 + len(record.key_id.encode())
    wrapped_start = key_id_end + 2
    nonce_start = wrapped_start + len(record.wrapped_key)
    return {
        "wrapped_key": wrapped_start + 3,
        "nonce": nonce_start + 1,
        "ciphertext": nonce_start + 12 + 1,
        "tag": len(record.to_bytes()) - 1,
    }


@pytest.mark.parametrize("part", ["wrapped_key", "nonce", "ciphertext", "tag"])
def test_a_flipped_bit_anywhere_fails_authentication(cipher: EnvelopeCipher, part: str) -> None:
    record = cipher.encrypt(HERE, BODY)
    tampered = _flip(record.to_bytes(), _offsets(record)[part])
    with pytest.raises(DecryptionError):
        cipher.decrypt(HERE, tampered)


@pytest.mark.parametrize("keep", [0, 2, 5, 20, -17, -1])
def test_a_truncated_record_is_malformed_not_garbage(cipher: EnvelopeCipher, keep: int) -> None:
    blob = cipher.encrypt(HERE, BODY).to_bytes()
    with pytest.raises((MalformedRecordError, DecryptionError)):
        cipher.decrypt(HERE, blob[:keep])


def test_a_record_cut_before_its_tag_is_malformed(cipher: EnvelopeCipher) -> None:
    record = cipher.encrypt(HERE, "")
    with pytest.raises(MalformedRecordError):
        cipher.decrypt(HERE, record.to_bytes()[:-1])


def test_an_unknown_format_version_is_refused(cipher: EnvelopeCipher) -> None:
    blob = bytearray(cipher.encrypt(HERE, BODY).to_bytes())
    blob[3] = 99
    with pytest.raises(UnsupportedVersionError):
        cipher.decrypt(HERE, bytes(blob))


def test_bytes_that_are_not_a_record_are_malformed(cipher: EnvelopeCipher) -> None:
    with pytest.raises(MalformedRecordError):
        cipher.decrypt(HERE, b"XYZ" + struct.pack(">BH", 1, 0))


def test_a_disabled_tenant_key_fails_typed(keys: FakeKeyProvider, cipher: EnvelopeCipher) -> None:
    blob = cipher.encrypt(HERE, BODY).to_bytes()
    keys.disabled.add("harbor")
    with pytest.raises(KeyUnavailableError):
        cipher.decrypt(HERE, blob)


def test_decrypt_many_keeps_order_and_checks_each_location(cipher: EnvelopeCipher) -> None:
    locations = [dataclasses.replace(HERE, record_id=f"r{i}") for i in range(20)]
    records = [cipher.encrypt(loc, f"message {i}") for i, loc in enumerate(locations)]
    assert cipher.decrypt_many(list(zip(locations, records, strict=True))) == [
        f"message {i}" for i in range(20)
    ]
    swapped = list(zip(locations, reversed(records), strict=True))
    with pytest.raises(DecryptionError):
        cipher.decrypt_many(swapped)
