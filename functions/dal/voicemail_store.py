"""S3 adapter for voicemail audio: sealed bytes only, keys of ids, SSE-KMS on top."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.core.errors import NotFoundError
from functions.dal import aws

# The object is already envelope-encrypted under the tenant's key; SSE-KMS under the
# bucket's key is defence in depth (and what the bucket policy requires).
_SEALED_CONTENT_TYPE = "application/octet-stream"


class S3VoicemailStore:
    def __init__(self, bucket: str, s3_client: Any) -> None:
        self._bucket = bucket
        self._s3 = s3_client

    def put(self, object_key: str, sealed: bytes, *, expires_at: int) -> None:
        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=object_key,
                Body=sealed,
                ContentType=_SEALED_CONTENT_TYPE,
                ServerSideEncryption="aws:kms",
                # The thread's retention, for a lifecycle rule on the tag (docs/voice.md).
                Tagging=f"expires_at={expires_at}",
            )
        except (ClientError, BotoCoreError) as error:
            raise aws.translate(error, "s3:PutObject voicemail") from None

    def get(self, object_key: str) -> bytes:
        try:
            response = self._s3.get_object(Bucket=self._bucket, Key=object_key)
            return bytes(response["Body"].read())
        except ClientError as error:
            if aws.error_code(error) in {"NoSuchKey", "404"}:
                raise NotFoundError("voicemail audio not found") from None
            raise aws.translate(error, "s3:GetObject voicemail") from None
        except BotoCoreError as error:
            raise aws.translate(error, "s3:GetObject voicemail") from None

    def delete(self, object_key: str) -> None:
        try:
            self._s3.delete_object(Bucket=self._bucket, Key=object_key)
        except (ClientError, BotoCoreError) as error:
            raise aws.translate(error, "s3:DeleteObject voicemail") from None


# A presigned greeting URL lives long enough for the carrier to fetch it at once (Twilio
# fetches a <Play> URL as it reads the TwiML), not for the URL to be worth keeping.
GREETING_URL_SECONDS = 300


class S3GreetingStore:
    """The practice's greeting recordings in the voicemail bucket (greetings/<tenant>/<id>.
    <ext>): the practice's words, not PHI, stored as uploaded under SSE-KMS (platform key)
    so a carrier can play them."""

    def __init__(self, bucket: str, s3_client: Any, presigner: Any) -> None:
        self.bucket = bucket
        self._s3 = s3_client
        self._presigner = presigner  # AwsClients.s3_presigner: SigV4 URLs

    def put_greeting(self, object_key: str, audio: bytes, *, content_type: str) -> None:
        try:
            self._s3.put_object(
                Bucket=self.bucket,
                Key=object_key,
                Body=audio,
                ContentType=content_type,
                ServerSideEncryption="aws:kms",
            )
        except (ClientError, BotoCoreError) as error:
            raise aws.translate(error, "s3:PutObject greeting") from None

    def delete_greeting(self, object_key: str) -> None:
        try:
            self._s3.delete_object(Bucket=self.bucket, Key=object_key)
        except (ClientError, BotoCoreError) as error:
            raise aws.translate(error, "s3:DeleteObject greeting") from None

    def greeting_url(self, object_key: str, *, expires_in: int = GREETING_URL_SECONDS) -> str:
        """A short-lived GET URL (SigV4, so SSE-KMS objects can be read) for the carrier."""
        try:
            url: str = self._presigner.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": object_key},
                ExpiresIn=expires_in,
            )
        except (ClientError, BotoCoreError) as error:
            raise aws.translate(error, "s3:GetObject greeting presign") from None
        return url
