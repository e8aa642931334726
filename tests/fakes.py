"""Functional fakes for the ports (no network): they behave like the real adapters."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from functions.core.errors import DecryptionError, KeyUnavailableError
from functions.core.voice import OutboundCallRequest, PlacedCall
from functions.crypto.envelope import DataKey


class FakeKeyProvider:
    """Wraps data keys under per-tenant master keys, binding the context like KMS does."""

    def __init__(self) -> None:
        self._masters: dict[str, bytes] = {}
        self.disabled: set[str] = set()
        self.generated = 0
        self.decrypted = 0

    def _master(self, tenant_id: str) -> tuple[str, bytes]:
        if tenant_id in self.disabled:
            raise KeyUnavailableError("key disabled")
        key = self._masters.setdefault(tenant_id, AESGCM.generate_key(256))
        return f"fake-key-{tenant_id}", key

    @staticmethod
    def _context_bytes(context: Mapping[str, str]) -> bytes:
        return json.dumps(dict(context), sort_keys=True).encode()

    def generate_data_key(self, tenant_id: str, context: Mapping[str, str]) -> DataKey:
        key_id, master = self._master(tenant_id)
        plaintext = os.urandom(32)
        nonce = os.urandom(12)
        wrapped = nonce + AESGCM(master).encrypt(nonce, plaintext, self._context_bytes(context))
        self.generated += 1
        return DataKey(key_id, plaintext, wrapped)

    def decrypt_data_key(
        self, tenant_id: str, key_id: str, wrapped: bytes, context: Mapping[str, str]
    ) -> bytes:
        own_key_id, master = self._master(tenant_id)
        if key_id != own_key_id:
            raise DecryptionError("wrong key")
        self.decrypted += 1
        try:
            return AESGCM(master).decrypt(wrapped[:12], wrapped[12:], self._context_bytes(context))
        except (InvalidTag, ValueError):
            raise DecryptionError("context mismatch") from None


class ContextIgnoringKeyProvider(FakeKeyProvider):
    """A provider that does NOT bind the context: proves the GCM AAD binds on its own."""

    @staticmethod
    def _context_bytes(context: Mapping[str, str]) -> bytes:
        return b""


@dataclass
class RecordingVoiceCarrier:
    """A VoiceCarrier that records what it was asked to do (no network)."""

    name: str = "simulated"
    placed: list[OutboundCallRequest] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def place_call(self, request: OutboundCallRequest) -> PlacedCall:
        self.placed.append(request)
        return PlacedCall(f"SIM-CALL-{len(self.placed)}")

    def delete_recording(self, carrier_recording_id: str) -> None:
        self.deleted.append(carrier_recording_id)
