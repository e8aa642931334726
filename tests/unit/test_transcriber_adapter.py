"""The Amazon Transcribe adapter against the real service models (botocore's Stubber):
exact requests (ids-only names and keys, SSE-KMS staging, KMS-encrypted output), the
output read back, cleanup, and error codes mapped to our errors."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from functions.core.errors import DependencyError, NotFoundError, ThrottledError
from functions.dal.transcriber import AwsTranscriber
from functions.logic.transcription import JobState

pytestmark = pytest.mark.unit

BUCKET = "quietline-transcription"
KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
JOB = "quietline-vm-01JCAL0000000000000000000C-1"
AUDIO = b"RIFF....WAVEfmt fake"


def _client(service: str) -> Any:
    return boto3.client(
        service,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def clients() -> tuple[Any, Any]:
    return _client("s3"), _client("transcribe")


def _adapter(clients: tuple[Any, Any]) -> AwsTranscriber:
    s3, transcribe = clients
    return AwsTranscriber(BUCKET, KEY_ARN, s3, transcribe)


def _job(status: str) -> dict[str, Any]:
    return {"TranscriptionJob": {"TranscriptionJobName": JOB, "TranscriptionJobStatus": status}}


def test_start_stages_the_audio_under_kms_and_writes_the_output_under_kms(
    clients: tuple[Any, Any],
) -> None:
    s3, transcribe = clients
    with Stubber(s3) as s3_stub, Stubber(transcribe) as stub:
        s3_stub.add_response(
            "put_object",
            {},
            {
                "Bucket": BUCKET,
                "Key": f"staging/{JOB}.wav",
                "Body": AUDIO,
                "ServerSideEncryption": "aws:kms",
                "SSEKMSKeyId": KEY_ARN,
            },
        )
        stub.add_response(
            "start_transcription_job",
            _job("QUEUED"),
            {
                "TranscriptionJobName": JOB,
                "LanguageCode": "en-US",
                "MediaFormat": "wav",
                "Media": {"MediaFileUri": f"s3://{BUCKET}/staging/{JOB}.wav"},
                "OutputBucketName": BUCKET,
                "OutputKey": f"output/{JOB}.json",
                "OutputEncryptionKMSKeyId": KEY_ARN,
            },
        )
        _adapter(clients).start(JOB, AUDIO, "audio/wav")
        s3_stub.assert_no_pending_responses()
        stub.assert_no_pending_responses()


def test_a_start_repeated_after_the_job_exists_is_not_an_error(clients: tuple[Any, Any]) -> None:
    s3, transcribe = clients
    with Stubber(s3) as s3_stub, Stubber(transcribe) as stub:
        s3_stub.add_response("put_object", {}, None)
        stub.add_client_error("start_transcription_job", "ConflictException", http_status_code=409)
        _adapter(clients).start(JOB, AUDIO, "audio/wav")
        stub.assert_no_pending_responses()


def test_a_completed_job_gives_the_text_from_our_encrypted_output(
    clients: tuple[Any, Any],
) -> None:
    s3, transcribe = clients
    document = json.dumps(
        {
            "jobName": JOB,
            "results": {"transcripts": [{"transcript": "Please call me back."}], "items": []},
            "status": "COMPLETED",
        }
    ).encode()
    body = StreamingBody(io.BytesIO(document), len(document))
    with Stubber(s3) as s3_stub, Stubber(transcribe) as stub:
        stub.add_response("get_transcription_job", _job("COMPLETED"), {"TranscriptionJobName": JOB})
        s3_stub.add_response(
            "get_object", {"Body": body}, {"Bucket": BUCKET, "Key": f"output/{JOB}.json"}
        )
        result = _adapter(clients).result(JOB)
    assert (result.state, result.text) == (JobState.COMPLETED, "Please call me back.")
    assert "Please" not in repr(result)


@pytest.mark.parametrize(
    ("status", "state"),
    [("QUEUED", JobState.RUNNING), ("IN_PROGRESS", JobState.RUNNING), ("FAILED", JobState.FAILED)],
)
def test_job_states_map_without_reading_any_output(
    clients: tuple[Any, Any], status: str, state: JobState
) -> None:
    _, transcribe = clients
    with Stubber(transcribe) as stub:
        stub.add_response("get_transcription_job", _job(status), {"TranscriptionJobName": JOB})
        assert _adapter(clients).result(JOB).state is state


@pytest.mark.parametrize("code", ["BadRequestException", "NotFoundException"])
def test_an_unknown_job_is_not_found(clients: tuple[Any, Any], code: str) -> None:
    _, transcribe = clients
    with Stubber(transcribe) as stub:
        stub.add_client_error("get_transcription_job", code, http_status_code=400)
        with pytest.raises(NotFoundError):
            _adapter(clients).result(JOB)


def test_throttling_is_a_retryable_error(clients: tuple[Any, Any]) -> None:
    _, transcribe = clients
    with Stubber(transcribe) as stub:
        stub.add_client_error(
            "get_transcription_job", "LimitExceededException", http_status_code=429
        )
        with pytest.raises(ThrottledError):
            _adapter(clients).result(JOB)


def test_discard_deletes_the_job_its_output_and_every_staged_format(
    clients: tuple[Any, Any],
) -> None:
    s3, transcribe = clients
    with Stubber(s3) as s3_stub, Stubber(transcribe) as stub:
        stub.add_response("delete_transcription_job", {}, {"TranscriptionJobName": JOB})
        s3_stub.add_response(
            "delete_objects",
            {"Deleted": []},
            {
                "Bucket": BUCKET,
                "Delete": {
                    "Objects": [
                        {"Key": f"output/{JOB}.json"},
                        {"Key": f"staging/{JOB}.mp3"},
                        {"Key": f"staging/{JOB}.ogg"},
                        {"Key": f"staging/{JOB}.wav"},
                    ],
                    "Quiet": True,
                },
            },
        )
        _adapter(clients).discard(JOB)
        s3_stub.assert_no_pending_responses()
        stub.assert_no_pending_responses()


def test_discard_of_a_job_already_gone_still_deletes_the_objects(
    clients: tuple[Any, Any],
) -> None:
    s3, transcribe = clients
    with Stubber(s3) as s3_stub, Stubber(transcribe) as stub:
        stub.add_client_error(
            "delete_transcription_job", "BadRequestException", http_status_code=400
        )
        s3_stub.add_response("delete_objects", {"Deleted": []}, {"Bucket": BUCKET, "Delete": ANY})
        _adapter(clients).discard(JOB)
        s3_stub.assert_no_pending_responses()


def test_an_object_that_would_not_delete_fails_the_discard(clients: tuple[Any, Any]) -> None:
    s3, transcribe = clients
    with Stubber(s3) as s3_stub, Stubber(transcribe) as stub:
        stub.add_response("delete_transcription_job", {}, {"TranscriptionJobName": JOB})
        s3_stub.add_response(
            "delete_objects",
            {"Errors": [{"Key": f"output/{JOB}.json", "Code": "AccessDenied"}]},
            None,
        )
        with pytest.raises(DependencyError):
            _adapter(clients).discard(JOB)
