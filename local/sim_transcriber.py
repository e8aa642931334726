"""Voicemail transcription in local mode: the real Amazon Transcribe adapter on moto.

moto's Transcribe backend takes the job (StartTranscriptionJob with our staging object and
output location), advances it QUEUED -> IN_PROGRESS -> COMPLETED on successive
GetTranscriptionJob calls and deletes it, but writes no transcript and recognises nothing.
`MotoTranscriber` plays that last step of the service: when moto reports a job complete it
writes a clearly marked simulated transcript where Transcribe would (output/<job>.json,
SSE-KMS), and everything else goes through `AwsTranscriber` as in AWS. A generated tone has
no words, so the text says what it is, never pretends to be the caller's.
"""

from __future__ import annotations

import io
import json
import wave
from typing import Any

from botocore.exceptions import ClientError

from functions.dal.aws import AwsClients
from functions.dal.transcriber import STAGING_PREFIX, AwsTranscriber, output_key
from functions.logic.transcription import JobResult

TRANSCRIPTION_BUCKET = "quietline-local-transcription"
KEY_ALIAS = "alias/quietline-local-transcription"
SIMULATED_PREFIX = "[Simulated transcript]"


def simulated_text(seconds: float) -> str:
    return (
        f"{SIMULATED_PREFIX} Local mode has no speech recognition: this stands in for the"
        f" words of a {seconds:.0f}-second voicemail."
    )


class MotoTranscriber:
    def __init__(self, clients: AwsClients, bucket: str, key_arn: str) -> None:
        self._s3 = clients.client("s3")
        self._transcribe = clients.client("transcribe")
        self._bucket = bucket
        self._adapter = AwsTranscriber(bucket, key_arn, self._s3, self._transcribe)
        self._key_arn = key_arn

    def start(self, job_name: str, audio: bytes, content_type: str) -> None:
        self._adapter.start(job_name, audio, content_type)

    def result(self, job_name: str) -> JobResult:
        try:
            job = self._transcribe.get_transcription_job(TranscriptionJobName=job_name)
            if job["TranscriptionJob"]["TranscriptionJobStatus"] == "COMPLETED":
                self._write_output(job_name)
        except ClientError:
            pass  # the adapter asks again and maps the error
        return self._adapter.result(job_name)

    def discard(self, job_name: str) -> None:
        self._adapter.discard(job_name)

    def _write_output(self, job_name: str) -> None:
        document = {
            "jobName": job_name,
            "status": "COMPLETED",
            "results": {"transcripts": [{"transcript": simulated_text(self._seconds(job_name))}]},
        }
        self._s3.put_object(
            Bucket=self._bucket,
            Key=output_key(job_name),
            Body=json.dumps(document).encode(),
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=self._key_arn,
        )

    def _seconds(self, job_name: str) -> float:
        """The staged WAV's length (what Transcribe would have listened to)."""
        try:
            staged = self._s3.get_object(Bucket=self._bucket, Key=f"{STAGING_PREFIX}{job_name}.wav")
            with wave.open(io.BytesIO(staged["Body"].read())) as audio:
                frames: int = audio.getnframes()
                return frames / float(audio.getframerate() or 1)
        except (ClientError, wave.Error, EOFError):
            return 0.0


def local_transcriber(clients: AwsClients) -> MotoTranscriber:
    """The transcription bucket and its key in moto (kept between runs), and the
    transcriber over them."""
    s3 = clients.client("s3")
    try:
        s3.create_bucket(Bucket=TRANSCRIPTION_BUCKET)
    except ClientError as error:
        if error.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            raise
    return MotoTranscriber(clients, TRANSCRIPTION_BUCKET, _key_arn(clients.client("kms")))


def _key_arn(kms: Any) -> str:
    try:
        return str(kms.describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]["Arn"])
    except ClientError as error:
        if error.response["Error"]["Code"] != "NotFoundException":
            raise
    metadata = kms.create_key(Description="Quietline local transcription objects")["KeyMetadata"]
    kms.create_alias(AliasName=KEY_ALIAS, TargetKeyId=metadata["KeyId"])
    return str(metadata["Arn"])
