"""KMS adapter for envelope encryption: data keys from the tenant's customer-managed key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.core.errors import DecryptionError, KeyUnavailableError, QuietlineError
from functions.crypto.envelope import DataKey
from functions.dal import aws
from functions.dal.schema import tenant_key_alias

# The key is disabled, pending deletion or gone: for a wiped tenant that is the point.
_KEY_STATE_CODES = frozenset(
    {
        "KMSInvalidStateException",
        "DisabledException",
        "NotFoundException",
        "KeyUnavailableException",
    }
)
# Wrong context, wrong key, or a key policy that refuses this tenant's context.
_AUTH_CODES = frozenset(
    {"InvalidCiphertextException", "IncorrectKeyException", "AccessDeniedException"}
)


def _translate(error: ClientError | BotoCoreError, operation: str) -> QuietlineError:
    if isinstance(error, ClientError):
        code = aws.error_code(error)
        if code in _KEY_STATE_CODES:
            return KeyUnavailableError(f"{operation}: {code}")
        if code in _AUTH_CODES:
            return DecryptionError(f"{operation}: {code}")
    return aws.translate(error, operation)


class KmsDataKeyProvider:
    """Implements functions.crypto.envelope.DataKeyProvider over AWS KMS."""

    def __init__(self, kms_client: Any) -> None:
        self.kms = kms_client

    def generate_data_key(self, tenant_id: str, context: Mapping[str, str]) -> DataKey:
        try:
            response = self.kms.generate_data_key(
                KeyId=tenant_key_alias(tenant_id),
                KeySpec="AES_256",
                EncryptionContext=dict(context),
            )
        except (ClientError, BotoCoreError) as error:
            raise _translate(error, "kms:GenerateDataKey") from None
        return DataKey(response["KeyId"], response["Plaintext"], response["CiphertextBlob"])

    def decrypt_data_key(
        self, tenant_id: str, key_id: str, wrapped: bytes, context: Mapping[str, str]
    ) -> bytes:
        try:
            response = self.kms.decrypt(
                KeyId=key_id, CiphertextBlob=wrapped, EncryptionContext=dict(context)
            )
        except (ClientError, BotoCoreError) as error:
            raise _translate(error, "kms:Decrypt") from None
        return bytes(response["Plaintext"])


class KmsKeyAdmin:
    """Key lifecycle for crypto-shredding: schedule (and cancel) a tenant key's deletion."""

    def __init__(self, kms_client: Any) -> None:
        self.kms = kms_client

    def schedule_deletion(self, tenant_id: str, days: int) -> str:
        """Returns the deletion date; until then `aws kms cancel-key-deletion` can undo it."""
        try:
            key_id = self.kms.describe_key(KeyId=tenant_key_alias(tenant_id))["KeyMetadata"][
                "KeyId"
            ]
            response = self.kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=days)
        except (ClientError, BotoCoreError) as error:
            raise _translate(error, "kms:ScheduleKeyDeletion") from None
        return str(response["DeletionDate"].isoformat())
