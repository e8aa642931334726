"""Amazon Transcribe batch jobs for voicemail transcription (docs/voice.md, "Transcription").

One bucket, two prefixes, both SSE-KMS under the platform key and expired by lifecycle:
    staging/<job name>.<ext>   the voicemail's plaintext audio, for Transcribe to read
    output/<job name>.json     Transcribe's transcript (OutputEncryptionKMSKeyId)
Object keys and job names are ids only. Both objects are deleted with the job as soon as
the transcript is sealed under the tenant's key (`discard`).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.core.errors import DependencyError, NotFoundError, ValidationError
from functions.dal import aws
from functions.logic.transcription import JobResult, JobState

# Voicemail content types (functions/core/voice.py) -> Transcribe's MediaFormat.
MEDIA_FORMATS = {"audio/wav": "wav", "audio/x-wav": "wav", "audio/mpeg": "mp3", "audio/ogg": "ogg"}
LANGUAGE = "en-US"
STAGING_PREFIX = "staging/"
OUTPUT_PREFIX = "output/"
# GetTranscriptionJob / DeleteTranscriptionJob answer an unknown job name with
# BadRequestException (NotFoundException is also documented): our names are valid by
# construction, so either code means "no such job".
_NO_JOB_CODES = frozenset({"NotFoundException", "BadRequestException"})
_STATES = {
    "QUEUED": JobState.RUNNING,
    "IN_PROGRESS": JobState.RUNNING,
    "COMPLETED": JobState.COMPLETED,
    "FAILED": JobState.FAILED,
}


def staging_key(job_name: str, content_type: str) -> str:
    return f"{STAGING_PREFIX}{job_name}.{MEDIA_FORMATS[content_type]}"


def output_key(job_name: str) -> str:
    return f"{OUTPUT_PREFIX}{job_name}.json"


class AwsTranscriber:
    def __init__(self, bucket: str, kms_key_id: str, s3_client: Any, transcribe: Any) -> None:
        self._bucket = bucket
        self._key = kms_key_id  # the platform key: staging objects and Transcribe's output
        self._s3 = s3_client
        self._transcribe = transcribe

    def start(self, job_name: str, audio: bytes, content_type: str) -> None:
        if content_type not in MEDIA_FORMATS:
            raise ValidationError("content_type", "cannot be transcribed")
        staged = staging_key(job_name, content_type)
        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=staged,
                Body=audio,
                ServerSideEncryption="aws:kms",
                SSEKMSKeyId=self._key,
            )
        except (ClientError, BotoCoreError) as error:
            raise aws.translate(error, "s3:PutObject transcription staging") from None
        try:
            self._transcribe.start_transcription_job(
                TranscriptionJobName=job_name,
                LanguageCode=LANGUAGE,
                MediaFormat=MEDIA_FORMATS[content_type],
                Media={"MediaFileUri": f"s3://{self._bucket}/{staged}"},
                OutputBucketName=self._bucket,
                OutputKey=output_key(job_name),
                OutputEncryptionKMSKeyId=self._key,
            )
        except ClientError as error:
            if aws.error_code(error) == "ConflictException":
                return  # a job of that name exists: this start already happened
            raise aws.translate(error, "transcribe:StartTranscriptionJob") from None
        except BotoCoreError as error:
            raise aws.translate(error, "transcribe:StartTranscriptionJob") from None

    def result(self, job_name: str) -> JobResult:
        try:
            job = self._transcribe.get_transcription_job(TranscriptionJobName=job_name)[
                "TranscriptionJob"
            ]
        except ClientError as error:
            if aws.error_code(error) in _NO_JOB_CODES:
                raise NotFoundError("no such transcription job") from None
            raise aws.translate(error, "transcribe:GetTranscriptionJob") from None
        except BotoCoreError as error:
            raise aws.translate(error, "transcribe:GetTranscriptionJob") from None
        state = _STATES.get(str(job.get("TranscriptionJobStatus")), JobState.RUNNING)
        if state is not JobState.COMPLETED:
            return JobResult(state)  # FailureReason is not read: it could quote the media
        return JobResult(JobState.COMPLETED, self._read_output(job_name))

    def _read_output(self, job_name: str) -> str:
        try:
            body = self._s3.get_object(Bucket=self._bucket, Key=output_key(job_name))["Body"]
            document = json.loads(body.read())
        except ClientError as error:
            raise aws.translate(error, "s3:GetObject transcription output") from None
        except BotoCoreError as error:
            raise aws.translate(error, "s3:GetObject transcription output") from None
        except ValueError:
            raise DependencyError("transcription output is not JSON") from None
        try:
            transcripts = document["results"]["transcripts"]
            return " ".join(str(t["transcript"]) for t in transcripts).strip()
        except (KeyError, TypeError):
            raise DependencyError("transcription output has no transcript") from None

    def discard(self, job_name: str) -> None:
        try:
            self._transcribe.delete_transcription_job(TranscriptionJobName=job_name)
        except ClientError as error:
            if aws.error_code(error) not in _NO_JOB_CODES:
                raise aws.translate(error, "transcribe:DeleteTranscriptionJob") from None
        except BotoCoreError as error:
            raise aws.translate(error, "transcribe:DeleteTranscriptionJob") from None
        # The staged audio's extension is not known here: delete every format's key (a
        # missing key is not an error for DeleteObjects).
        keys = [output_key(job_name)] + [
            f"{STAGING_PREFIX}{job_name}.{ext}" for ext in sorted(set(MEDIA_FORMATS.values()))
        ]
        try:
            answer = self._s3.delete_objects(
                Bucket=self._bucket,
                Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True},
            )
        except (ClientError, BotoCoreError) as error:
            raise aws.translate(error, "s3:DeleteObjects transcription") from None
        if answer.get("Errors"):
            raise DependencyError("transcription objects not deleted")
