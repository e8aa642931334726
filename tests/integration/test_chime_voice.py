"""The Chime call-control handler on moto (DynamoDB + KMS + S3): a missed call goes to
voicemail, RecordAudio's staged WAV is read, sealed under the tenant's key into the
voicemail bucket and the staged copy deleted at once; when storing fails the staged copy
stays and the scheduled sweep stores it later (nothing lost, nothing left in plaintext)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from functions.carriers.chime_voice_aws import ChimeVoiceCarrier, S3StagingObjects
from functions.handlers import chime_call_control
from local.apigw import LambdaContext
from tests.integration.conftest import VOICEMAIL_BUCKET as BUCKET
from tests.integration.conftest import Messaging, build_staff_api
from tests.integration.test_voice import (
    CLINICIAN_CELL,
    Voice,
    _enable_voice,
    tiny_wav,
)

pytestmark = pytest.mark.integration

STAGING = "quietline-voice-staging"
EVENTS = Path(__file__).resolve().parent.parent / "events"


def sma_event(name: str, attributes: dict[str, str] | None = None) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"chime_{name}.json").read_text())
    if attributes:
        loaded["CallDetails"]["TransactionAttributes"] = attributes
    return loaded


@pytest.fixture
def chime(messaging: Messaging, staff_pool: Any) -> tuple[Voice, Any]:
    s3 = messaging.runtime.clients.client("s3")
    s3.create_bucket(Bucket=STAGING)
    staging = S3StagingObjects(STAGING, s3)
    carrier = ChimeVoiceCarrier(None, "sma-id", staging)
    messaging.runtime.ports = replace(messaging.runtime.ports, voice_carrier=carrier)
    api = build_staff_api(
        messaging, staff_pool, voicemail_bucket=BUCKET, voice_staging_bucket=STAGING
    )
    voice = Voice(api, api.runtime.voice_service(), None, s3)  # type: ignore[arg-type]
    bound = chime_call_control.handler.bound(api.runtime)

    def handler(event: dict[str, Any], _: None) -> Any:
        return bound(event, LambdaContext("chime-call-control"))

    return voice, handler


def _to_voicemail(voice: Voice, handler: Any) -> tuple[dict[str, str], str]:
    """A call nobody answers: returns the attributes and the staged key RecordAudio wrote."""
    _enable_voice(voice)
    ringing = handler(sma_event("new_inbound_call"), None)
    assert ringing["Actions"][0]["Parameters"]["Endpoints"][0]["Uri"] == CLINICIAN_CELL
    missed = handler(sma_event("call_and_bridge_failed", ringing["TransactionAttributes"]), None)
    record = missed["Actions"][-1]["Parameters"]
    key = record["RecordingDestination"]["Prefix"] + "recording.wav"
    voice.s3.put_object(Bucket=STAGING, Key=key, Body=tiny_wav())  # as RecordAudio would
    return missed["TransactionAttributes"], key


def _recorded(attributes: dict[str, str], key: str) -> dict[str, Any]:
    event = sma_event("record_audio_successful", attributes)
    event["ActionData"]["RecordingDestination"]["Key"] = key
    return event


def test_a_recorded_voicemail_is_sealed_into_the_voicemail_bucket_and_unstaged(
    chime: tuple[Voice, Any],
) -> None:
    voice, handler = chime
    # Given a missed call whose caller left a message in the staging bucket
    attributes, key = _to_voicemail(voice, handler)
    # When RecordAudio reports success
    answer = handler(_recorded(attributes, key), None)
    # Then the call is hung up, the voicemail bucket holds sealed bytes, not the audio
    assert [a["Type"] for a in answer["Actions"]] == ["Hangup"]
    (stored,) = voice.s3.list_objects_v2(Bucket=BUCKET)["Contents"]
    sealed = voice.s3.get_object(Bucket=BUCKET, Key=stored["Key"])["Body"].read()
    assert tiny_wav() not in sealed
    # And the staged plaintext is gone at once
    assert voice.s3.list_objects_v2(Bucket=STAGING).get("KeyCount") == 0


def test_a_failed_store_leaves_the_staged_audio_for_the_sweep(
    chime: tuple[Voice, Any], messaging: Messaging
) -> None:
    voice, handler = chime
    attributes, key = _to_voicemail(voice, handler)
    # Given the voicemail bucket cannot be written (a fault)
    voice.s3.delete_bucket(Bucket=BUCKET)
    # When RecordAudio reports success
    answer = handler(_recorded(attributes, key), None)
    # Then the caller is still hung up (not left in silence) and the staged copy is kept
    assert [a["Type"] for a in answer["Actions"]] == ["Hangup"]
    assert voice.s3.list_objects_v2(Bucket=STAGING)["KeyCount"] == 1
    # When the bucket is back and the scheduled sweep runs a few minutes later
    voice.s3.create_bucket(Bucket=BUCKET)
    messaging.clock.advance(minutes=10)
    swept = handler({"source": "aws.events", "detail-type": "Scheduled Event"}, None)
    # Then the voicemail is stored and the staging bucket is empty
    assert swept == {"stored": 1, "failed": 0, "carrier_copies_deleted": 0}
    assert voice.s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 1
    assert voice.s3.list_objects_v2(Bucket=STAGING)["KeyCount"] == 0
