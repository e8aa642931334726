"""Envelope encryption: round trips, and every tampering or relocation fails typed."""

from __future__ import annotations

import dataclasses
import os
import struct
from collections.abc import Mapping

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from functions.core.errors import (
    DecryptionError,
    KeyUnavailableError,
    MalformedRecordError,
    UnsupportedVersionError,
)
from functions.crypto.envelope import (
    DataKey,
    EncryptedRecord,
    EnvelopeCipher,
    FieldLocation,
)
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
    assert parsed.version == 1  # the first record format
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


def test_decrypt_many_of_one_item_checks_its_location(cipher: EnvelopeCipher) -> None:
    record = cipher.encrypt(HERE, BODY)
    assert cipher.decrypt_many([(HERE, record)]) == [BODY]
    assert cipher.decrypt_many([]) == []
    with pytest.raises(DecryptionError):
        cipher.decrypt_many([(dataclasses.replace(HERE, record_id="r2"), record)])


# --- Pinned bytes: records already stored must keep decrypting ----------------------
# A format-1 record sealed by the original implementation, with a fixed key and nonce.
VECTOR_KEY = bytes(range(32))
VECTOR_NONCE = bytes(range(100, 112))
VECTOR_KEY_ID = "arn:aws:kms:us-east-1:111122223333:key/vector"
VECTOR_WRAPPED = b"wrapped-data-key"
VECTOR_TEXT = "known-answer vector: caf\u00e9 \U0001f642"
VECTOR_SEALED = bytes.fromhex(
    "2375b11117c437f04d153a9afa130f9e36ad7430ab0f921464788cb8643a27e16462c4a1c7a7e3b1ba01033b908550"
)
VECTOR_RECORD = (
    b"QLE\x01\x00\x2d"
    + VECTOR_KEY_ID.encode()
    + b"\x00\x10"
    + VECTOR_WRAPPED
    + VECTOR_NONCE
    + VECTOR_SEALED
)
TYPED_FAILURES = (MalformedRecordError, UnsupportedVersionError, DecryptionError)


class VectorKeyProvider:
    """Hands out the vector's data key; unwraps only the vector's key in HERE's context."""

    def generate_data_key(self, tenant_id: str, context: Mapping[str, str]) -> DataKey:
        return DataKey(VECTOR_KEY_ID, VECTOR_KEY, VECTOR_WRAPPED)

    def decrypt_data_key(
        self, tenant_id: str, key_id: str, wrapped: bytes, context: Mapping[str, str]
    ) -> bytes:
        if (key_id, wrapped, dict(context)) != (
            VECTOR_KEY_ID,
            VECTOR_WRAPPED,
            HERE.encryption_context(),
        ):
            raise DecryptionError("not the vector's key")
        return VECTOR_KEY


def test_the_gcm_associated_data_bytes_are_pinned() -> None:
    assert HERE.associated_data(1) == (
        b"quietline\x01\x00\x06harbor\x00\x05conv1\x00\x1a01JMSG0000000000000000000A\x00\x04body"
    )


def test_the_associated_data_prefixes_utf8_byte_lengths_not_characters() -> None:
    location = FieldLocation("t", "c", "r", "caf\u00e9")
    assert location.associated_data(1) == (
        b"quietline\x01\x00\x01t\x00\x01c\x00\x01r\x00\x05caf\xc3\xa9"
    )


def test_the_kms_encryption_context_is_pinned() -> None:
    assert HERE.encryption_context() == {
        "tenant_id": "harbor",
        "conversation_id": "conv1",
        "record_id": "01JMSG0000000000000000000A",
        "field": "body",
    }


def test_the_record_layout_is_pinned() -> None:
    record = EncryptedRecord(1, VECTOR_KEY_ID, VECTOR_WRAPPED, VECTOR_NONCE, VECTOR_SEALED)
    assert record.to_bytes() == VECTOR_RECORD
    assert EncryptedRecord.from_bytes(VECTOR_RECORD) == record


def test_a_stored_format_1_record_still_decrypts() -> None:
    cipher = EnvelopeCipher(VectorKeyProvider())
    assert cipher.decrypt(HERE, VECTOR_RECORD) == VECTOR_TEXT
    assert cipher.decrypt(HERE, EncryptedRecord.from_bytes(VECTOR_RECORD)) == VECTOR_TEXT


def test_given_the_vectors_key_and_nonce_encryption_yields_the_stored_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "urandom", lambda n: VECTOR_NONCE[:n])
    record = EnvelopeCipher(VectorKeyProvider()).encrypt(HERE, VECTOR_TEXT)
    assert record.to_bytes() == VECTOR_RECORD


def test_key_ids_and_wrapped_keys_longer_than_255_bytes_round_trip() -> None:
    # Both lengths are u16: KMS ciphertext blobs may exceed 255 bytes.
    record = EncryptedRecord(1, "k" * 300, bytes(range(256)) * 2, VECTOR_NONCE, VECTOR_SEALED)
    assert EncryptedRecord.from_bytes(record.to_bytes()) == record


@pytest.mark.parametrize(
    ("key_id", "wrapped"), [("", VECTOR_WRAPPED), (VECTOR_KEY_ID, b"")], ids=["key-id", "wrapped"]
)
def test_a_record_with_an_empty_key_id_or_wrapped_key_is_malformed(
    key_id: str, wrapped: bytes
) -> None:
    blob = EncryptedRecord(1, key_id, wrapped, VECTOR_NONCE, VECTOR_SEALED).to_bytes()
    with pytest.raises(MalformedRecordError):
        EncryptedRecord.from_bytes(blob)


def test_a_record_of_a_later_version_is_unsupported_whatever_its_length() -> None:
    # Old code reading a newer record must say "upgrade", not "corrupt", even for a bare header.
    newer = b"QLE\x02" + VECTOR_RECORD[4:]
    for keep in range(6, len(newer) + 1):
        with pytest.raises(UnsupportedVersionError):
            EncryptedRecord.from_bytes(newer[:keep])


def test_a_record_parsed_from_a_callers_buffer_does_not_change_with_that_buffer() -> None:
    buffer = bytearray(VECTOR_RECORD)
    record = EncryptedRecord.from_bytes(memoryview(buffer))
    buffer[-1] ^= 0xFF  # the caller reuses its buffer
    assert record == EncryptedRecord.from_bytes(VECTOR_RECORD)
    assert record.to_bytes() == VECTOR_RECORD


# --- Every tampering fails typed -------------------------------------------------------
def test_every_single_bit_flip_of_a_record_fails_typed(cipher: EnvelopeCipher) -> None:
    blob = cipher.encrypt(HERE, BODY).to_bytes()
    for index in range(len(blob)):
        for bit in range(8):
            tampered = blob[:index] + bytes([blob[index] ^ (1 << bit)]) + blob[index + 1 :]
            with pytest.raises(TYPED_FAILURES):
                cipher.decrypt(HERE, tampered)


def test_every_truncation_of_a_record_fails_typed(cipher: EnvelopeCipher) -> None:
    blob = cipher.encrypt(HERE, BODY).to_bytes()
    for keep in range(len(blob)):
        with pytest.raises((MalformedRecordError, DecryptionError)):
            cipher.decrypt(HERE, blob[:keep])


def test_bytes_appended_to_a_record_fail_authentication(cipher: EnvelopeCipher) -> None:
    blob = cipher.encrypt(HERE, BODY).to_bytes()
    with pytest.raises(DecryptionError):
        cipher.decrypt(HERE, blob + b"\x00")


def test_a_key_id_that_is_not_utf8_is_malformed(cipher: EnvelopeCipher) -> None:
    blob = bytearray(cipher.encrypt(HERE, BODY).to_bytes())
    blob[6] = 0xFF  # first byte of the key id
    with pytest.raises(MalformedRecordError):
        cipher.decrypt(HERE, bytes(blob))


def test_a_record_object_of_an_unknown_version_is_refused(cipher: EnvelopeCipher) -> None:
    record = dataclasses.replace(cipher.encrypt(HERE, BODY), version=2)
    with pytest.raises(UnsupportedVersionError):
        cipher.decrypt(HERE, record)


# --- Properties --------------------------------------------------------------------------
_PART = st.text(max_size=40)


@given(
    location=st.builds(FieldLocation, _PART, _PART, _PART, _PART),
    text=st.text(max_size=400),
)
def test_any_text_at_any_location_round_trips(location: FieldLocation, text: str) -> None:
    cipher = EnvelopeCipher(FakeKeyProvider())
    blob = cipher.encrypt(location, text).to_bytes()
    assert cipher.decrypt(location, blob) == text


# A tiny alphabet, with the length-prefix bytes in it, makes near-collisions common.
_TINY = st.text(alphabet="a\x00\x01\x02", max_size=3)


@given(
    first=st.builds(FieldLocation, _TINY, _TINY, _TINY, _TINY),
    second=st.builds(FieldLocation, _TINY, _TINY, _TINY, _TINY),
)
def test_distinct_locations_never_share_associated_data(
    first: FieldLocation, second: FieldLocation
) -> None:
    assert (first.associated_data(1) == second.associated_data(1)) == (first == second)


@given(
    blob=st.one_of(
        st.binary(max_size=80),
        st.binary(max_size=80).map(lambda tail: b"QLE\x01" + tail),
        st.tuples(st.integers(0, 20), st.binary(max_size=80)).map(
            lambda t: b"QLE\x01" + struct.pack(">H", t[0]) + t[1]
        ),
    )
)
def test_parsing_arbitrary_bytes_yields_a_faithful_record_or_a_typed_error(blob: bytes) -> None:
    try:
        record = EncryptedRecord.from_bytes(blob)
    except (MalformedRecordError, UnsupportedVersionError):
        return
    assert record.to_bytes() == blob


# --- Data keys of the wrong size ---------------------------------------------------------
class SizedKeyProvider:
    """Hands out (and unwraps to) a key of `size` bytes: an AES-128/192 key is a bug."""

    def __init__(self, size: int) -> None:
        self.key = bytes(range(size))

    def generate_data_key(self, tenant_id: str, context: Mapping[str, str]) -> DataKey:
        return DataKey(VECTOR_KEY_ID, self.key, VECTOR_WRAPPED)

    def decrypt_data_key(
        self, tenant_id: str, key_id: str, wrapped: bytes, context: Mapping[str, str]
    ) -> bytes:
        return self.key


@pytest.mark.parametrize("size", [16, 24, 31, 33])
def test_a_data_key_of_the_wrong_size_is_refused_for_encryption(size: int) -> None:
    with pytest.raises(DecryptionError):
        EnvelopeCipher(SizedKeyProvider(size)).encrypt(HERE, BODY)


@pytest.mark.parametrize("size", [16, 24])
def test_a_record_that_an_aes_128_or_192_key_would_open_is_refused(size: int) -> None:
    # Given a record sealed correctly (right AAD, right layout) under a short key,
    key = bytes(range(size))
    sealed = AESGCM(key).encrypt(VECTOR_NONCE, BODY.encode(), HERE.associated_data(1))
    record = EncryptedRecord(1, VECTOR_KEY_ID, VECTOR_WRAPPED, VECTOR_NONCE, sealed)
    # when the key provider unwraps that short key, the cipher refuses rather than decrypt.
    with pytest.raises(DecryptionError):
        EnvelopeCipher(SizedKeyProvider(size)).decrypt(HERE, record.to_bytes())


def test_encrypt_many_spends_one_data_key_per_field_and_keeps_order(
    keys: FakeKeyProvider, cipher: EnvelopeCipher
) -> None:
    # Given three fields of one write (a body, a number, a reply)
    locations = [dataclasses.replace(HERE, record_id=f"r{i}") for i in range(3)]
    texts = [BODY, OTHER_BODY, LONG_BODY]

    # When they are encrypted in one wave
    records = cipher.encrypt_many(list(zip(locations, texts, strict=True)))

    # Then each decrypts at its own location, under a data key of its own
    assert [cipher.decrypt(loc, rec) for loc, rec in zip(locations, records, strict=True)] == texts
    assert keys.generated == 3
    assert len({record.wrapped_key for record in records}) == 3
    assert cipher.encrypt_many([]) == []


def test_encrypt_many_raises_the_first_failure_in_order(
    keys: FakeKeyProvider, cipher: EnvelopeCipher
) -> None:
    keys.disabled.add("cedar")
    items = [
        (HERE, BODY),
        (dataclasses.replace(HERE, tenant_id="cedar"), OTHER_BODY),
        (dataclasses.replace(HERE, record_id="other"), LONG_BODY),
    ]
    with pytest.raises(KeyUnavailableError):
        cipher.encrypt_many(items)
