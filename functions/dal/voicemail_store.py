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
