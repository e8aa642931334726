"""Voicemail transcription on moto (DynamoDB, KMS, S3 and moto's Transcribe backend), through
the real adapters: an admin opts in through the API, a voicemail's audio is staged under
SSE-KMS and handed to Transcribe under an ids-only job name, the sweep seals the finished
transcript under the tenant's key on the call item and deletes the job and both objects,
and staff read it through the API, audited.

moto's Transcribe advances a job to COMPLETED as it is polled but writes no transcript, so
the test writes the output document where the service would (output/<job>.json): that is
the one step of the service played here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from functions.core.voice import (
    CallOutcome,
    CallReport,
    IncomingCall,
    VoicemailRecording,
)
from functions.dal.transcriber import output_key
from functions.logic.transcription import TranscriptionService
from functions.logic.voice import VoiceService
from tests.integration.api_harness import call
from tests.integration.conftest import StaffApi, build_staff_api
from tests.integration.test_voice import tiny_wav
from tests.phi_samples import BUSINESS_NUMBER, CLIENT_PHONE

pytestmark = pytest.mark.integration

BUCKET = "quietline-transcription"
SPOKEN = "Hello, it is me, please call me back this afternoon."


@dataclass
class World:
    api: StaffApi
    voice: VoiceService
    transcription: TranscriptionService
    s3: Any
    table: Any

    def opt_in(self) -> None:
        response = call(
            self.api.admin,
            "PUT",
            "/voice-settings",
            body={"enabled": True, "transcribe_voicemail": True},
        )
        assert response.status == 200, response.text
        assert response.json["transcribe_voicemail"] is True

    def voicemail(self) -> tuple[str, str]:
        plan = self.voice.incoming_call(
            IncomingCall("simulated", "CA-T1", BUSINESS_NUMBER, CLIENT_PHONE, "t")
        )
        self.voice.call_finished(CallReport(plan.call_id, CallOutcome.NO_ANSWER))
        self.voice.voicemail_recorded(
            VoicemailRecording(plan.call_id, tiny_wav(), "audio/wav", 1, carrier_recording_id="R")
        )
        _tenant, conversation_id, call_ulid = plan.call_id.split("/")
        return conversation_id, call_ulid

    def keys(self) -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


@pytest.fixture
def world(messaging: Any, staff_pool: Any) -> World:
    clients = messaging.runtime.clients
    kms_key = clients.client("kms").create_key(Description="platform")["KeyMetadata"]["Arn"]
    s3 = clients.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    api = build_staff_api(
        messaging, staff_pool, transcription_bucket=BUCKET, transcription_kms_key_id=kms_key
    )
    return World(
        api,
        api.runtime.voice_service(),
        api.runtime.transcription_service(),
        s3,
        messaging.table,
    )


def test_an_opted_in_voicemail_is_staged_under_kms_and_sent_under_an_ids_only_name(
    world: World,
) -> None:
    world.opt_in()
    _conversation_id, call_ulid = world.voicemail()
    (staged,) = world.keys()
    assert staged == f"staging/quietline-vm-{call_ulid}-1.wav"
    head = world.s3.head_object(Bucket=BUCKET, Key=staged)
    assert head["ServerSideEncryption"] == "aws:kms"
    transcribe = world.api.runtime.clients.client("transcribe")
    job = transcribe.get_transcription_job(TranscriptionJobName=f"quietline-vm-{call_ulid}-1")
    assert job["TranscriptionJob"]["Media"]["MediaFileUri"] == f"s3://{BUCKET}/{staged}"


def test_the_sweep_seals_the_transcript_cleans_up_and_staff_read_it_audited(
    world: World,
) -> None:
    world.opt_in()
    conversation_id, call_ulid = world.voicemail()
    job = f"quietline-vm-{call_ulid}-1"
    # moto: QUEUED -> IN_PROGRESS on the first polls; then the service writes its output.
    assert world.transcription.sweep() == 0
    world.s3.put_object(
        Bucket=BUCKET,
        Key=output_key(job),
        Body=json.dumps({"results": {"transcripts": [{"transcript": SPOKEN}]}}).encode(),
    )
    finished = sum(world.transcription.sweep() for _ in range(3))
    assert finished == 1
    # The job, its output and the staged audio are gone; the call item holds sealed text.
    assert world.keys() == []
    item = world.table.get_item(
        Key={"pk": f"CONV#harbor#{conversation_id}", "sk": f"CALL#{call_ulid}"}
    )["Item"]
    assert item["transcript"]["status"] == "ready"
    assert SPOKEN.encode() not in bytes(item["transcript"]["record"])
    # The call log says a transcript is ready, and never carries its text.
    log = call(
        world.api.clinician,
        "GET",
        "/conversations/{conversation_id}/calls",
        path_params={"conversation_id": conversation_id},
    )
    assert log.json["items"][0]["voicemail"]["transcript"] == "ready"
    assert SPOKEN not in log.text
    # A clinician reads it through the API; the read is audited.
    world.api.audit.clear()
    read = call(
        world.api.clinician,
        "GET",
        "/conversations/{conversation_id}/calls/{call_id}/transcript",
        path_params={"conversation_id": conversation_id, "call_id": call_ulid},
    )
    assert read.status == 200, read.text
    assert read.json == {"status": "ready", "text": SPOKEN}
    assert read.headers["Cache-Control"] == "no-store"
    actions = [(e.action, e.outcome.value) for e in world.api.audit.events]
    assert ("voicemail.transcript_read", "success") in actions
