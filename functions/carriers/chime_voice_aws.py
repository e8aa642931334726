"""Amazon Chime SDK PSTN audio, the boto3 side: click-to-call through
CreateSipMediaApplicationCall, the RecordAudio staging bucket, and the sweep that retries
staged voicemails (functions/carriers/chime_voice.py has the call control)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.carriers.chime_voice import (
    ARGUMENT_CALL_ID,
    CARRIER,
    STAGING_PREFIX,
    ChimeCallControl,
    call_id_of_staged,
)
from functions.core.errors import (
    NotFoundError,
    PermanentCarrierError,
    QuietlineError,
    TransientCarrierError,
    ValidationError,
)
from functions.core.observability import logger
from functions.core.phone import require_e164
from functions.core.voice import OutboundCallRequest, PlacedCall, require_call_id
from functions.dal import aws

_TRANSIENT_CODES = frozenset(
    {"ThrottledClientException", "ServiceUnavailableException", "ServiceFailureException"}
)


def _translate(error: ClientError | BotoCoreError) -> PermanentCarrierError | TransientCarrierError:
    if isinstance(error, BotoCoreError):
        return TransientCarrierError("chime-sdk-voice unreachable")
    code = aws.error_code(error) or "UnknownError"
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in _TRANSIENT_CODES or (isinstance(status, int) and (status >= 500 or status == 429)):
        return TransientCarrierError(code)
    return PermanentCarrierError(code)


class S3StagingObjects:
    """The staging bucket: RecordAudio's objects, read once and deleted."""

    def __init__(self, bucket: str, s3_client: Any) -> None:
        self.bucket = bucket
        self._s3 = s3_client

    def read(self, key: str) -> bytes:
        try:
            return bytes(self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except ClientError as error:
            if aws.error_code(error) in {"NoSuchKey", "404"}:
                raise NotFoundError("staged recording not found") from None
            raise aws.translate(error, "s3:GetObject staging") from None
        except BotoCoreError as error:
            raise aws.translate(error, "s3:GetObject staging") from None

    def delete(self, key: str) -> None:
        try:
            self._s3.delete_object(Bucket=self.bucket, Key=key)  # absent: S3 answers 204
        except (ClientError, BotoCoreError) as error:
            raise aws.translate(error, "s3:DeleteObject staging") from None

    def staged_keys(self, *, older_than_ms: int) -> list[str]:
        """Staged recordings last modified before `older_than_ms` (the sweep's work)."""
        keys: list[str] = []
        try:
            pages = self._s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=f"{STAGING_PREFIX}/"
            )
            for page in pages:
                for item in page.get("Contents", []):
                    if item["LastModified"].timestamp() * 1000 < older_than_ms:
                        keys.append(item["Key"])
        except (ClientError, BotoCoreError) as error:
            raise aws.translate(error, "s3:ListObjectsV2 staging") from None
        return keys


class ChimeVoiceCarrier:
    """VoiceCarrier over chime-sdk-voice: click-to-call and the staged copy's deletion."""

    name = CARRIER

    def __init__(self, client: Any, sip_media_application_id: str, staging: S3StagingObjects):
        self._client = client
        self._sma_id = sip_media_application_id
        self._staging = staging

    def place_call(self, request: OutboundCallRequest) -> PlacedCall:
        """Ring the clinician's cell from the business number; the SMA's Lambda screens
        them and bridges to the client. Only our call id rides along (ArgumentsMap shows
        up in every Lambda event): the client's number is fetched when it is dialled."""
        require_e164(request.caller_id, field="caller_id")
        require_e164(request.clinician_number, field="clinician_number")
        try:
            response = self._client.create_sip_media_application_call(
                FromPhoneNumber=request.caller_id,
                ToPhoneNumber=request.clinician_number,
                SipMediaApplicationId=self._sma_id,
                ArgumentsMap={ARGUMENT_CALL_ID: require_call_id(request.call_id)},
            )
        except (ClientError, BotoCoreError) as error:
            raise _translate(error) from None
        call = response.get("SipMediaApplicationCall") or {}
        transaction_id = call.get("TransactionId")
        if not isinstance(transaction_id, str) or not transaction_id:
            raise ValidationError("TransactionId", "is required")
        return PlacedCall(transaction_id)

    def delete_recording(self, carrier_recording_id: str) -> None:
        self._staging.delete(carrier_recording_id)


def sweep_staged(
    control: ChimeCallControl, staging: S3StagingObjects, *, older_than_ms: int
) -> tuple[int, int]:
    """Retry staged recordings the call-control path could not store (a fault, or the
    caller hanging up mid-recording). Returns (stored, failed); never logs a key's owner."""
    stored = failed = 0
    for key in staging.staged_keys(older_than_ms=older_than_ms):
        try:
            control.store_staged(call_id_of_staged(key), key)
        except NotFoundError:
            staging.delete(key)  # its call is gone (shredded tenant): nothing to keep
        except QuietlineError as error:
            failed += 1
            logger.warning("staged voicemail not stored", extra={"error": type(error).__name__})
        else:
            stored += 1
    return stored, failed
