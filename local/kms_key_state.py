"""Make moto's KMS refuse cryptographic calls on keys that are not enabled, as AWS does.

moto 5 tracks key state but does not enforce it: Decrypt after DisableKey or
ScheduleKeyDeletion still succeeds there, while real KMS raises DisabledException
(disabled key) or KMSInvalidStateException (pending deletion). Crypto-shredding is only
provable with the real behaviour, so local mode and the tests install this hook.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any

from botocore.hooks import BaseEventHooks

_CRYPTO_OPERATIONS = (
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncrypt",
)


class _ErrorResponse:
    status_code = 400
    headers: dict[str, str] = {}  # noqa: RUF012 - mimics botocore's response attribute


def _key_id_from_request(operation: str, body: dict[str, Any]) -> str | None:
    if body.get("KeyId"):
        return str(body["KeyId"])
    if operation == "ReEncrypt" and body.get("DestinationKeyId"):
        return str(body["DestinationKeyId"])
    blob = body.get("CiphertextBlob") or body.get("SourceCiphertextBlob")
    if blob:
        # moto's own ciphertext format carries the key id; real KMS's does too.
        from moto.kms.utils import _deserialize_ciphertext_blob  # noqa: PLC0415

        return str(_deserialize_ciphertext_blob(base64.b64decode(blob)).key_id)
    return None


def _refusal(code: str, message: str) -> tuple[_ErrorResponse, dict[str, Any]]:
    return _ErrorResponse(), {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }


def install(events: BaseEventHooks, describe_key: Callable[[str], Mapping[str, Any]]) -> None:
    """Register on a botocore event emitter (a session's or a client's `meta.events`).

    `describe_key(key_id)` returns KeyMetadata; it must not itself go through the hook.
    """

    def check_key_state(model: Any, params: dict[str, Any], **_: Any) -> Any:
        operation = model.name
        if operation not in _CRYPTO_OPERATIONS:
            return None
        raw = params.get("body") or b"{}"
        body = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        key_id = _key_id_from_request(operation, body)
        if key_id is None:
            return None
        state = describe_key(key_id).get("KeyState", "Enabled")
        if state == "Disabled":
            return _refusal("DisabledException", f"{key_id} is disabled.")
        if state != "Enabled":
            return _refusal("KMSInvalidStateException", f"{key_id} is pending deletion.")
        return None

    events.register("before-call.kms", check_key_state, unique_id="quietline-kms-key-state")
