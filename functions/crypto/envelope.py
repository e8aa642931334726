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
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from functions.core.errors import (
    DecryptionError,
    MalformedRecordError,
    UnsupportedVersionError,
)

FORMAT_VERSION = 1
_MAGIC = b"QLE"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_DATA_KEY_BYTES = 32


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
        # Length-prefixed so no two distinct locations serialize to the same bytes.
        parts = (self.tenant_id, self.conversation_id, self.record_id, self.field)
        encoded = b"".join(struct.pack(">H", len(p.encode())) + p.encode() for p in parts)
        return b"quietline" + struct.pack(">B", version) + encoded


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


@dataclass(frozen=True)
class EncryptedRecord:
    """The stored form of one encrypted field: typed, versioned, self-describing."""

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
                struct.pack(">BH", self.version, len(key_id)),
                key_id,
                struct.pack(">H", len(self.wrapped_key)),
                self.wrapped_key,
                self.nonce,
                self.ciphertext,
            )
        )

    @classmethod
    def from_bytes(cls, blob: bytes) -> EncryptedRecord:
        view = memoryview(blob)
        if len(view) < len(_MAGIC) + 3 or bytes(view[:3]) != _MAGIC:
            raise MalformedRecordError("not an encrypted record")
        version, key_id_len = struct.unpack_from(">BH", view, 3)
        if version != FORMAT_VERSION:
            raise UnsupportedVersionError(f"record format version {version} is not supported")
        offset = 6
        key_id = _take(view, offset, key_id_len)
        offset += key_id_len
        (wrapped_len,) = struct.unpack(">H", _take(view, offset, 2))
        offset += 2
        wrapped = _take(view, offset, wrapped_len)
        offset += wrapped_len
        nonce = _take(view, offset, _NONCE_BYTES)
        offset += _NONCE_BYTES
        ciphertext = bytes(view[offset:])
        if len(ciphertext) < _TAG_BYTES or not wrapped or not key_id:
            raise MalformedRecordError("record is truncated")
        return cls(version, key_id.decode(), wrapped, nonce, ciphertext)


def _take(view: memoryview, offset: int, length: int) -> bytes:
    if offset + length > len(view):
        raise MalformedRecordError("record is truncated")
    return bytes(view[offset : offset + length])


class EnvelopeCipher:
    """Encrypts and decrypts PHI fields; never returns unauthenticated plaintext."""

    def __init__(self, keys: DataKeyProvider, *, max_parallel_decrypts: int = 16) -> None:
        self._keys = keys
        self._max_parallel = max_parallel_decrypts

    def encrypt(self, location: FieldLocation, plaintext: str) -> EncryptedRecord:
        data_key = self._keys.generate_data_key(location.tenant_id, location.encryption_context())
        if len(data_key.plaintext) != _DATA_KEY_BYTES:
            raise DecryptionError("key provider returned a key of the wrong size")
        nonce = os.urandom(_NONCE_BYTES)
        # A fresh data key per call: each key seals exactly one plaintext.
        sealed = AESGCM(data_key.plaintext).encrypt(
            nonce, plaintext.encode("utf-8"), location.associated_data(FORMAT_VERSION)
        )
        return EncryptedRecord(FORMAT_VERSION, data_key.key_id, data_key.wrapped, nonce, sealed)

    def decrypt(self, location: FieldLocation, record: EncryptedRecord | bytes) -> str:
        parsed = EncryptedRecord.from_bytes(record) if isinstance(record, bytes) else record
        if parsed.version != FORMAT_VERSION:
            raise UnsupportedVersionError(
                f"record format version {parsed.version} is not supported"
            )
        key = self._keys.decrypt_data_key(
            location.tenant_id, parsed.key_id, parsed.wrapped_key, location.encryption_context()
        )
        try:
            plaintext = AESGCM(key).decrypt(
                parsed.nonce, parsed.ciphertext, location.associated_data(parsed.version)
            )
        except (InvalidTag, ValueError):
            raise DecryptionError("ciphertext failed authentication") from None
        return plaintext.decode("utf-8")

    def decrypt_many(self, items: list[tuple[FieldLocation, EncryptedRecord | bytes]]) -> list[str]:
        """Decrypt in parallel: one KMS round trip per wave, not per message."""
        if len(items) <= 1:
            return [self.decrypt(loc, rec) for loc, rec in items]
        workers = min(self._max_parallel, len(items))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda item: self.decrypt(*item), items))
