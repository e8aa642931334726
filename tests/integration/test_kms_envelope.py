"""Envelope encryption against moto KMS: context binding, tenant isolation, crypto-shredding."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from functions.core.errors import DecryptionError, KeyUnavailableError
from functions.crypto.envelope import EnvelopeCipher, FieldLocation
from functions.dal.kms_keys import KmsDataKeyProvider
from tests.phi_samples import BODY, OTHER_BODY

pytestmark = pytest.mark.integration

HARBOR = FieldLocation("harbor", "conv1", "01JMSG0000000000000000000A", "body")
CEDAR = FieldLocation("cedar", "conv9", "01JMSG0000000000000000000Z", "body")


def test_a_body_round_trips_under_the_tenants_own_key(
    cipher: EnvelopeCipher, tenant_keys: dict[str, str]
) -> None:
    record = cipher.encrypt(HARBOR, BODY)
    assert tenant_keys["harbor"] in record.key_id
    assert cipher.decrypt(HARBOR, record.to_bytes()) == BODY


def test_kms_refuses_a_different_encryption_context(cipher: EnvelopeCipher) -> None:
    blob = cipher.encrypt(HARBOR, BODY).to_bytes()
    with pytest.raises(DecryptionError):
        cipher.decrypt(dataclasses.replace(HARBOR, record_id="01JMSG0000000000000000000B"), blob)


def test_a_record_copied_into_another_tenant_cannot_be_read_there(cipher: EnvelopeCipher) -> None:
    blob = cipher.encrypt(HARBOR, BODY).to_bytes()
    with pytest.raises(DecryptionError):
        cipher.decrypt(dataclasses.replace(HARBOR, tenant_id="cedar"), blob)


def test_a_record_claiming_another_tenants_key_fails(
    cipher: EnvelopeCipher, tenant_keys: dict[str, str]
) -> None:
    record = cipher.encrypt(HARBOR, BODY)
    forged = dataclasses.replace(record, key_id=tenant_keys["cedar"])
    with pytest.raises(DecryptionError):
        cipher.decrypt(HARBOR, forged.to_bytes())


@pytest.mark.parametrize("shred", ["disable_key", "schedule_key_deletion"])
def test_crypto_shredding_one_tenant_leaves_the_other_readable(
    kms: Any, tenant_keys: dict[str, str], cipher: EnvelopeCipher, shred: str
) -> None:
    harbor_blob = cipher.encrypt(HARBOR, BODY).to_bytes()
    cedar_blob = cipher.encrypt(CEDAR, OTHER_BODY).to_bytes()

    if shred == "disable_key":
        kms.disable_key(KeyId=tenant_keys["harbor"])
    else:
        kms.schedule_key_deletion(KeyId=tenant_keys["harbor"], PendingWindowInDays=7)

    with pytest.raises(KeyUnavailableError):
        cipher.decrypt(HARBOR, harbor_blob)
    with pytest.raises(KeyUnavailableError):
        cipher.encrypt(HARBOR, "new message after the wipe")
    assert cipher.decrypt(CEDAR, cedar_blob) == OTHER_BODY


def test_cancelling_a_scheduled_deletion_restores_access(
    kms: Any, tenant_keys: dict[str, str], cipher: EnvelopeCipher
) -> None:
    blob = cipher.encrypt(HARBOR, BODY).to_bytes()
    kms.schedule_key_deletion(KeyId=tenant_keys["harbor"], PendingWindowInDays=7)
    kms.cancel_key_deletion(KeyId=tenant_keys["harbor"])
    kms.enable_key(KeyId=tenant_keys["harbor"])  # cancelling leaves the key disabled in AWS
    assert cipher.decrypt(HARBOR, blob) == BODY


def test_the_wrapped_key_is_not_the_plaintext_key(kms: Any, tenant_keys: dict[str, str]) -> None:
    provider = KmsDataKeyProvider(kms)
    data_key = provider.generate_data_key("harbor", HARBOR.encryption_context())
    assert len(data_key.plaintext) == 32
    assert data_key.plaintext not in data_key.wrapped
    record = EnvelopeCipher(provider).encrypt(HARBOR, BODY)
    assert data_key.wrapped != record.wrapped_key
