"""Fault injection for voicemail (issue #14): the audio is recorded but sealing it fails
because the tenant's KMS key is disabled (the harness enforces key state as real KMS does).
Nothing is lost and nothing is stored in plaintext: Twilio keeps its copy and is asked to
retry (503); Chime's staged object stays for the scheduled sweep. Once the key is back, the
voicemail is stored sealed exactly once and only then is the carrier's copy deleted."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from functions.carriers import twilio_voice as tv
from functions.container import Container
from functions.core.voice import CallOutcome, CallReport, IncomingCall, NextAction
from functions.dal.schema import tenant_key_alias
from functions.handlers import twilio_voice
from local.apigw import LambdaContext
from tests.integration.conftest import TWILIO_AUTH_TOKEN, Messaging
from tests.integration.conftest import VOICEMAIL_BUCKET as BUCKET
from tests.integration.test_chime_voice import STAGING, _recorded, _to_voicemail
from tests.integration.test_chime_voice import chime as chime  # noqa: PLC0414 - the fixture
from tests.integration.test_voice import Voice, _enable_voice
from tests.integration.test_voice import voice as voice  # noqa: PLC0414 - the fixture
from tests.phi_samples import BUSINESS_NUMBER, CLIENT_PHONE
from tests.twilio_voice_fakes import (
    ACCOUNT_SID,
    RECORDING_SID,
    FakeTwilioApi,
    Reply,
    call_form,
    fake_twilio_api,
    post_to,
)

pytestmark = pytest.mark.integration

AUDIO = b"ID3" + bytes(range(256)) * 16  # what Twilio's .mp3 endpoint returns
SCHEDULE = {"source": "aws.events", "detail-type": "Scheduled Event"}


def _harbor_key(messaging: Messaging) -> str:
    described = messaging.kms.describe_key(KeyId=tenant_key_alias("harbor"))
    return str(described["KeyMetadata"]["KeyId"])


def _sealed_objects(voice: Voice) -> list[bytes]:
    listed = voice.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return [voice.s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listed]


# --- Twilio: the recording callback ---------------------------------------------------------
@pytest.fixture
def twilio_api() -> Iterator[FakeTwilioApi]:
    with fake_twilio_api() as api:
        yield api


def _missed_twilio_call(voice: Voice) -> str:
    _enable_voice(voice)
    plan = voice.service.incoming_call(
        IncomingCall("twilio", "CA-fault", BUSINESS_NUMBER, CLIENT_PHONE, "2026-11-30T15:00:00Z")
    )
    step = voice.service.call_finished(CallReport(plan.call_id, CallOutcome.NO_ANSWER))
    assert step.action is NextAction.VOICEMAIL
    return plan.call_id


def _recording_callback(voice: Voice, api: FakeTwilioApi, call_id: str) -> int:
    """Twilio's recordingStatusCallback, signed, through the deployed voice webhook handler
    (carrier twilio, its REST API the fake on 127.0.0.1)."""
    runtime = voice.api.runtime
    settings = runtime.settings.model_copy(
        update={
            "carrier": "twilio",
            "twilio_account_sid": ACCOUNT_SID,
            "twilio_api_base_url": api.base_url,
        }
    )
    container = Container(
        settings, clients=runtime.clients, ports=replace(runtime.ports, voice_carrier=None)
    )
    url = tv.webhook_url(settings.public_base_url or "", tv.RECORDING_PATH, {"call": call_id})
    form = call_form(
        CallStatus="completed",
        RecordingSid=RECORDING_SID,
        RecordingStatus="completed",
        RecordingDuration="3",
        RecordingUrl="https://api.twilio.com/recording",
    )
    event = post_to(f"{url}#{tv.RECORDING_RETRY_FRAGMENT}", form, sign_with=TWILIO_AUTH_TOKEN)
    response = twilio_voice.handler.bound(container)(event, LambdaContext("twilio-voice"))
    return int(response["statusCode"])


def test_twilio_recording_with_the_key_disabled_answers_503_and_keeps_twilios_copy(
    voice: Voice, messaging: Messaging, twilio_api: FakeTwilioApi
) -> None:
    # Given a missed call whose caller left a voicemail at Twilio
    call_id = _missed_twilio_call(voice)
    twilio_api.replies.append(Reply(200, AUDIO, "audio/mpeg"))
    # And the practice's key is disabled (sealing must fail)
    messaging.kms.disable_key(KeyId=_harbor_key(messaging))

    # When Twilio's recording callback arrives
    status = _recording_callback(voice, twilio_api, call_id)

    # Then Twilio is told to retry, its copy is not deleted, and nothing was stored
    assert status == 503
    assert [s.method for s in twilio_api.seen] == ["GET"]
    assert _sealed_objects(voice) == []
    assert messaging.metrics.counts["VoiceWebhookRetry"] == 1


def test_twilio_retry_after_the_key_is_back_stores_once_sealed_then_deletes_at_twilio(
    voice: Voice, messaging: Messaging, twilio_api: FakeTwilioApi
) -> None:
    # Given the first callback failed while the key was disabled
    call_id = _missed_twilio_call(voice)
    key_id = _harbor_key(messaging)
    twilio_api.replies.extend(
        [Reply(200, AUDIO, "audio/mpeg"), Reply(200, AUDIO, "audio/mpeg"), Reply(204)]
    )
    messaging.kms.disable_key(KeyId=key_id)
    assert _recording_callback(voice, twilio_api, call_id) == 503

    # When the key is enabled again and Twilio retries the callback
    messaging.kms.enable_key(KeyId=key_id)
    status = _recording_callback(voice, twilio_api, call_id)

    # Then one sealed copy is stored (not the audio itself) and Twilio's copy is deleted
    assert status == 200
    (sealed,) = _sealed_objects(voice)
    assert AUDIO[:64] not in sealed
    assert [s.method for s in twilio_api.seen] == ["GET", "GET", "DELETE"]
    assert twilio_api.seen[-1].path.endswith(f"/Recordings/{RECORDING_SID}.json")


def test_a_duplicate_twilio_retry_after_success_stores_nothing_more(
    voice: Voice, messaging: Messaging, twilio_api: FakeTwilioApi
) -> None:
    # Given the voicemail was stored after a key fault and Twilio's copy deleted
    call_id = _missed_twilio_call(voice)
    key_id = _harbor_key(messaging)
    twilio_api.replies.extend(
        [Reply(200, AUDIO, "audio/mpeg")] * 2 + [Reply(204), Reply(404, b"{}")]
    )
    messaging.kms.disable_key(KeyId=key_id)
    _recording_callback(voice, twilio_api, call_id)
    messaging.kms.enable_key(KeyId=key_id)
    _recording_callback(voice, twilio_api, call_id)

    # When Twilio delivers the callback once more
    status = _recording_callback(voice, twilio_api, call_id)

    # Then it is acknowledged and the voicemail bucket still holds one copy
    assert status == 200
    assert len(_sealed_objects(voice)) == 1


# --- Chime: RecordAudio's staged object and the sweep ---------------------------------------
def test_chime_recording_with_the_key_disabled_keeps_the_staged_object_and_stores_nothing(
    chime: tuple[Voice, Any], messaging: Messaging
) -> None:
    voice, handler = chime
    # Given a missed call whose voicemail RecordAudio wrote to the staging bucket
    attributes, key = _to_voicemail(voice, handler)
    # And the practice's key is disabled
    messaging.kms.disable_key(KeyId=_harbor_key(messaging))

    # When RecordAudio reports success
    answer = handler(_recorded(attributes, key), None)

    # Then the caller is hung up, the staged object is kept, nothing is in the voicemail bucket
    assert [a["Type"] for a in answer["Actions"]] == ["Hangup"]
    assert [o["Key"] for o in voice.s3.list_objects_v2(Bucket=STAGING)["Contents"]] == [key]
    assert _sealed_objects(voice) == []


def test_chime_sweep_while_the_key_is_still_disabled_keeps_the_staged_object(
    chime: tuple[Voice, Any], messaging: Messaging
) -> None:
    voice, handler = chime
    attributes, key = _to_voicemail(voice, handler)
    messaging.kms.disable_key(KeyId=_harbor_key(messaging))
    handler(_recorded(attributes, key), None)

    # When the scheduled sweep runs with the key still disabled
    messaging.clock.advance(minutes=10)
    swept = handler(SCHEDULE, None)

    # Then it counts a failure and keeps the staged object for the next sweep
    assert swept == {"stored": 0, "failed": 1, "carrier_copies_deleted": 0}
    assert voice.s3.list_objects_v2(Bucket=STAGING)["KeyCount"] == 1
    assert _sealed_objects(voice) == []


def test_chime_sweep_after_the_key_is_back_stores_once_sealed_and_unstages(
    chime: tuple[Voice, Any], messaging: Messaging
) -> None:
    voice, handler = chime
    # Given the call-path store failed while the key was disabled
    attributes, key = _to_voicemail(voice, handler)
    staged = voice.s3.get_object(Bucket=STAGING, Key=key)["Body"].read()
    key_id = _harbor_key(messaging)
    messaging.kms.disable_key(KeyId=key_id)
    handler(_recorded(attributes, key), None)

    # When the key is enabled again and the sweep runs twice
    messaging.kms.enable_key(KeyId=key_id)
    messaging.clock.advance(minutes=10)
    first = handler(SCHEDULE, None)
    second = handler(SCHEDULE, None)

    # Then the voicemail is stored once, sealed, and the staged copy is gone
    assert (first["stored"], second["stored"]) == (1, 0)
    (sealed,) = _sealed_objects(voice)
    assert staged[44:108] not in sealed  # the WAV's audio frames, past its header
    assert voice.s3.list_objects_v2(Bucket=STAGING)["KeyCount"] == 0
