"""Per-tenant envelope encryption of PHI fields with AES-256-GCM.

Scheme (docs/key-scheme.md): every encrypted field gets its own data key from the
tenant's KMS key. The KMS encryption context names the tenant, the conversation, the
record and the field, so each decryption is a CloudTrail event that names exactly
which record was opened, by which role, when. The GCM associated data binds the same
location plus the format version, so a ciphertext copied to another row fails.
A data key encrypts exactly one plaintext, far below AES-GCM's 2^32 random-nonce limit.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Protocol, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from functions.core.concurrency import run_concurrently
from functions.core.errors import (
    DecryptionError,
    MalformedRecordError,
    UnsupportedVersionError,
)

FORMAT_VERSION = 1
_MAGIC = b"QLE"
_AAD_PREFIX = b"quietline"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_DATA_KEY_BYTES = 32
# Big-endian, as in the stored format; both raise struct.error when out of range.
_U8 = struct.Struct(">B").pack
_U16 = struct.Struct(">H").pack
_VERSION_AND_U16 = struct.Struct(">BH").pack
# magic (3) | version (1) | key_id length (2): the fixed part every record starts with.
_HEADER_BYTES = 6


@dataclass(frozen=True)
class FieldLocation:
    """Where an encrypted value lives; bound into both the KMS context and the GCM AAD."""

    tenant_id: str
    conversation_id: str
    record_id: str
    field: str

    def encryption_context(self) -> dict[str, str]:
        # Strings only, compared exactly by KMS on decrypt (and visible in CloudTrail).
        return {
            "tenant_id": self.tenant_id,
            "conversation_id": self.conversation_id,
            "record_id": self.record_id,
            "field": self.field,
        }

    def associated_data(self, version: int) -> bytes:
        """b"quietline" || version:u8 || (length:u16 || UTF-8) of tenant, conversation,
        record and field; length-prefixed so no two distinct locations serialize alike.

        Not cached on the instance: in service a location is built per request and used
        once, so a cache would only flatter the benchmark, which reuses one location.
        """
        tenant = self.tenant_id.encode()
        conversation = self.conversation_id.encode()
        record = self.record_id.encode()
        field = self.field.encode()
        return b"".join(
            (
                _AAD_PREFIX,
                _U8(version),
                _U16(len(tenant)),
                tenant,
                _U16(len(conversation)),
                conversation,
                _U16(len(record)),
                record,
                _U16(len(field)),
                field,
            )
        )


@dataclass(frozen=True)
class DataKey:
    key_id: str
    plaintext: bytes
    wrapped: bytes


class DataKeyProvider(Protocol):
    """Port to the tenant's KMS key (adapter: functions.dal.kms_keys.KmsDataKeyProvider)."""

    def generate_data_key(self, tenant_id: str, context: Mapping[str, str]) -> DataKey: ...

    def decrypt_data_key(
        self, tenant_id: str, key_id: str, wrapped: bytes, context: Mapping[str, str]
    ) -> bytes: ...


_Fields = tuple[int, str, bytes, bytes, bytes]
_R = TypeVar("_R")


@dataclass(frozen=True, slots=True)
class EncryptedRecord:
    """The stored form of one encrypted field: typed, versioned, self-describing.

    "QLE" | version:u8 | key_id_len:u16 | key_id | wrapped_len:u16 | wrapped | nonce(12)
    | ciphertext || tag(16)
    """

    version: int
    key_id: str
    wrapped_key: bytes
    nonce: bytes
    ciphertext: bytes  # includes the 16-byte GCM tag

    def to_bytes(self) -> bytes:
        key_id = self.key_id.encode()
        return b"".join(
            (
                _MAGIC,
                _VERSION_AND_U16(self.version, len(key_id)),
                key_id,
                _U16(len(self.wrapped_key)),
                self.wrapped_key,
                self.nonce,
                self.ciphertext,
            )
        )

    @classmethod
    def from_bytes(cls, blob: bytes) -> EncryptedRecord:
        return cls(*_parse(blob))


def _parse(blob: bytes) -> _Fields:
    """Strict parse: wrong magic, any truncation or a key id that is not UTF-8 is
    malformed, an unknown version unsupported. Offsets only grow, so a bounds check before
    reading the wrapped key's length and one at the end cover every part."""
    if type(blob) is not bytes:
        blob = bytes(blob)  # bytearray / memoryview from a caller: slice real bytes
    size = len(blob)
    if size < _HEADER_BYTES or blob[:3] != _MAGIC:
        raise MalformedRecordError("not an encrypted record")
    version = blob[3]
    if version != FORMAT_VERSION:
        raise UnsupportedVersionError(f"record format version {version} is not supported")
    key_id_end = _HEADER_BYTES + (blob[4] << 8 | blob[5])
    wrapped_start = key_id_end + 2
    if wrapped_start > size:
        raise MalformedRecordError("record is truncated")
    wrapped_end = wrapped_start + (blob[key_id_end] << 8 | blob[key_id_end + 1])
    nonce_end = wrapped_end + _NONCE_BYTES
    if nonce_end + _TAG_BYTES > size or key_id_end == _HEADER_BYTES or wrapped_end == wrapped_start:
        raise MalformedRecordError("record is truncated")
    try:
        key_id = blob[_HEADER_BYTES:key_id_end].decode()
    except UnicodeDecodeError:
        raise MalformedRecordError("record key id is not text") from None
    return (
        version,
        key_id,
        blob[wrapped_start:wrapped_end],
        blob[wrapped_end:nonce_end],
        blob[nonce_end:],
    )


class EnvelopeCipher:
    """Encrypts and decrypts PHI fields; never returns unauthenticated plaintext."""

    def __init__(self, keys: DataKeyProvider, *, max_parallel_decrypts: int = 16) -> None:
        self._keys = keys
        self._max_parallel = max_parallel_decrypts

    def encrypt(self, location: FieldLocation, plaintext: str) -> EncryptedRecord:
        return self.encrypt_bytes(location, plaintext.encode())

    def encrypt_bytes(self, location: FieldLocation, plaintext: bytes) -> EncryptedRecord:
        """`encrypt` for binary PHI (voicemail audio): the same record format and key use."""
        data_key = self._keys.generate_data_key(location.tenant_id, location.encryption_context())
        if len(data_key.plaintext) != _DATA_KEY_BYTES:
            raise DecryptionError("key provider returned a key of the wrong size")
        # Random although the key is single-use: should a provider ever hand out a key
        # twice (a cache, a bug), a fixed nonce would be catastrophic for GCM.
        nonce = os.urandom(_NONCE_BYTES)
        # A fresh data key per call: each key seals exactly one plaintext.
        sealed = AESGCM(data_key.plaintext).encrypt(
            nonce, plaintext, location.associated_data(FORMAT_VERSION)
        )
        return EncryptedRecord(FORMAT_VERSION, data_key.key_id, data_key.wrapped, nonce, sealed)

    def decrypt(self, location: FieldLocation, record: EncryptedRecord | bytes) -> str:
        return self.decrypt_bytes(location, record).decode()

    def decrypt_bytes(self, location: FieldLocation, record: EncryptedRecord | bytes) -> bytes:
        """`decrypt` for binary PHI: authenticated plaintext bytes, never unverified ones."""
        if isinstance(record, EncryptedRecord):
            if record.version != FORMAT_VERSION:
                raise UnsupportedVersionError(
                    f"record format version {record.version} is not supported"
                )
            version, key_id, wrapped, nonce, ciphertext = (
                record.version,
                record.key_id,
                record.wrapped_key,
                record.nonce,
                record.ciphertext,
            )
        else:
            version, key_id, wrapped, nonce, ciphertext = _parse(record)
        key = self._keys.decrypt_data_key(
            location.tenant_id, key_id, wrapped, location.encryption_context()
        )
        if len(key) != _DATA_KEY_BYTES:  # AES-GCM would take a 16- or 24-byte key silently
            raise DecryptionError("key provider returned a key of the wrong size")
        try:
            plaintext = AESGCM(key).decrypt(nonce, ciphertext, location.associated_data(version))
        except (InvalidTag, ValueError):
            raise DecryptionError("ciphertext failed authentication") from None
        return plaintext

    def encrypt_many(self, items: Sequence[tuple[FieldLocation, str]]) -> list[EncryptedRecord]:
        """Encrypt several fields in one KMS round trip: a GenerateDataKey each, all at once.

        For a write that needs several new fields together (an inbound text's body, a
        first contact's number, the reply): still a data key per field, never one ahead
        of need. The first failing item (in order) raises its typed error.
        """
        return self._waves([partial(self.encrypt, loc, text) for loc, text in items])

    def decrypt_many(self, items: list[tuple[FieldLocation, EncryptedRecord | bytes]]) -> list[str]:
        """Decrypt in parallel: one KMS round trip per wave of `max_parallel_decrypts`.

        The first failing item (in order) raises its typed error, as a serial loop would.
        """
        return self._waves([partial(self.decrypt, loc, rec) for loc, rec in items])

    def _waves(self, calls: list[Callable[[], _R]]) -> list[_R]:
        """The cipher's one place of parallel I/O: KMS calls in waves of `max_parallel`.

        On the process-wide pool (functions/core/concurrency.py): its threads outlive the
        request, so a wave's calls start together instead of one thread start at a time.
        """
        if len(calls) <= 1:
            return [call() for call in calls]
        results: list[_R] = []
        for start in range(0, len(calls), self._max_parallel):
            results.extend(run_concurrently(*calls[start : start + self._max_parallel]))
        return results
