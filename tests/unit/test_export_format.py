"""The sealed FHIR export file is a stored format: its header, context and bytes are pinned.

The expected record was computed outside the code under test: AES-256-GCM over the
compact bundle JSON with the export location's AAD (built with printf | xxd), laid out
by hand as "QLE" | 1 | key id | wrapped key | nonce | ciphertext+tag.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

import pytest

from functions.core.errors import DecryptionError, MalformedRecordError
from functions.crypto.envelope import DataKey, EnvelopeCipher
from functions.logic.export import open_sealed, seal

pytestmark = pytest.mark.unit

KEY = bytes(range(32))
NONCE = bytes(range(100, 112))
KEY_ID = "arn:aws:kms:us-east-1:111122223333:key/vector"
WRAPPED = b"wrapped-data-key"
EXPORT_ID = "01JEXP0000000000000000000B"
BUNDLE = {
    "resourceType": "Bundle",
    "type": "collection",
    "timestamp": "2026-11-30T15:00:00Z",
    "entry": [],
}
EXPORT_CONTEXT = {
    "tenant_id": "harbor",
    "conversation_id": "export",
    "record_id": "01JEXP0000000000000000000B",
    "field": "fhir_bundle",
}
RECORD_B64 = (
    "UUxFAQAtYXJuOmF3czprbXM6dXMtZWFzdC0xOjExMTEyMjIyMzMzMzprZXkvdmVjdG9yABB3cmFwcGVkLWRh"
    "dGEta2V5ZGVmZ2hpamtsbW5vMzmsAwqGI+xdBwuRqgBIx2CAc2TvAJZQi/PYMYvGh3K2ii+sIHf4cJScFh3R"
    "YL6mdj7rk0EnMQrA057m3beIuzmh6D6Ceg4/u1/XcyHQE8pGHXFA1byv/ISsS7mY++0zAHqM5Khsdhqr78E="
)
SEALED_FILE = (
    "{\n"
    '  "format": "quietline-export",\n'
    '  "version": 1,\n'
    '  "tenant_id": "harbor",\n'
    '  "export_id": "01JEXP0000000000000000000B",\n'
    '  "content_type": "application/fhir+json",\n'
    f'  "record": "{RECORD_B64}"\n'
    "}"
)


class ExportKeyProvider:
    """Hands out the vector's key; unwraps it only under the export's exact context."""

    def __init__(self) -> None:
        self.contexts: list[dict[str, str]] = []

    def generate_data_key(self, tenant_id: str, context: Mapping[str, str]) -> DataKey:
        self.contexts.append(dict(context))
        return DataKey(KEY_ID, KEY, WRAPPED)

    def decrypt_data_key(
        self, tenant_id: str, key_id: str, wrapped: bytes, context: Mapping[str, str]
    ) -> bytes:
        if (tenant_id, key_id, wrapped, dict(context)) != (
            "harbor",
            KEY_ID,
            WRAPPED,
            EXPORT_CONTEXT,
        ):
            raise DecryptionError("not the vector's key")
        return KEY


def test_given_a_fixed_key_and_nonce_sealing_yields_the_pinned_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "urandom", lambda n: NONCE[:n])
    keys = ExportKeyProvider()

    sealed = seal(EnvelopeCipher(keys), "harbor", EXPORT_ID, BUNDLE)

    assert sealed == SEALED_FILE
    assert keys.contexts == [EXPORT_CONTEXT]


def test_a_stored_export_file_still_opens() -> None:
    assert open_sealed(EnvelopeCipher(ExportKeyProvider()), SEALED_FILE) == BUNDLE


def test_an_export_whose_header_names_another_export_does_not_open() -> None:
    # The header's ids are bound into the key's context: editing them cannot re-home a file.
    moved = SEALED_FILE.replace(EXPORT_ID, "01JEXP0000000000000000000C")
    with pytest.raises(DecryptionError):
        open_sealed(EnvelopeCipher(ExportKeyProvider()), moved)


@pytest.mark.parametrize(
    ("field", "value"), [("format", "quietline-backup"), ("version", 2)], ids=["format", "version"]
)
def test_a_file_of_another_format_or_version_is_malformed(field: str, value: object) -> None:
    header = json.loads(SEALED_FILE)
    header[field] = value
    with pytest.raises(MalformedRecordError):
        open_sealed(EnvelopeCipher(ExportKeyProvider()), json.dumps(header))
