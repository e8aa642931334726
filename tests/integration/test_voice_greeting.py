"""The practice's recorded voicemail greeting through the staff API on moto (S3 + DynamoDB):
an admin uploads it (stored under greetings/<tenant>/<id>.<ext>, SSE-KMS), saving the voice
settings keeps it, removing it returns to text-to-speech, and bad uploads are refused naming
the field (413, 415, 422)."""

from __future__ import annotations

import base64
import io
import urllib.parse
import wave
from typing import Any

import pytest

from functions.core.voice import CallOutcome, CallReport, IncomingCall, NextAction
from tests.integration.api_harness import ApiResponse, Caller, call
from tests.integration.conftest import VOICEMAIL_BUCKET, StaffApi
from tests.phi_samples import BUSINESS_NUMBER, CLIENT_PHONE

pytestmark = pytest.mark.integration


def wav(seconds: float) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(8000)
        out.writeframes(b"\x80" * int(8000 * seconds))
    return buffer.getvalue()


def _upload(caller: Caller, audio: bytes, content_type: str = "audio/wav") -> ApiResponse:
    body = {"content_type": content_type, "audio_base64": base64.b64encode(audio).decode()}
    return call(caller, "PUT", "/voice-settings/greeting", body=body)


def _greeting_keys(s3: Any) -> list[str]:
    listed = s3.list_objects_v2(Bucket=VOICEMAIL_BUCKET, Prefix="greetings/")
    return [o["Key"] for o in listed.get("Contents", [])]


@pytest.fixture
def s3(staff_api: StaffApi) -> Any:
    return staff_api.runtime.clients.client("s3")


def test_an_uploaded_greeting_is_stored_under_the_tenant_and_played_on_voicemail(
    staff_api: StaffApi, s3: Any
) -> None:
    audio = wav(2)
    # When the admin uploads a two-second WAV greeting
    response = _upload(staff_api.admin, audio)
    # Then the settings say the recording is in use, and the object holds exactly the audio,
    # keyed by the tenant and an id, encrypted under KMS
    assert response.status == 200, response.text
    assert response.json["greeting_recording"] is True
    [key] = _greeting_keys(s3)
    assert key.startswith(f"greetings/{staff_api.admin.tenant_id}/") and key.endswith(".wav")
    stored = s3.get_object(Bucket=VOICEMAIL_BUCKET, Key=key)
    assert stored["Body"].read() == audio
    assert stored["ServerSideEncryption"] == "aws:kms"
    assert stored["ContentType"] == "audio/wav"
    # And a missed call's voicemail step carries the recording for the carrier to play
    assert call(staff_api.admin, "PUT", "/voice-settings", body={"enabled": True}).status == 200
    service = staff_api.runtime.voice_service()
    plan = service.incoming_call(
        IncomingCall("simulated", "CA-G1", BUSINESS_NUMBER, CLIENT_PHONE, "2026-11-30T15:00:00Z")
    )
    step = service.call_finished(CallReport(plan.call_id, CallOutcome.NO_ANSWER))
    assert step.action is NextAction.VOICEMAIL
    assert step.greeting.recording_key == key


def test_saving_voice_settings_keeps_the_uploaded_greeting(staff_api: StaffApi) -> None:
    # Given an uploaded greeting
    assert _upload(staff_api.admin, wav(1)).status == 200
    # When the admin saves the settings form (which has no greeting recording field)
    saved = call(
        staff_api.admin,
        "PUT",
        "/voice-settings",
        body={"enabled": True, "greeting_text": "Harbor Counseling, leave a message."},
    )
    # Then the recording is still the greeting
    assert saved.status == 200, saved.text
    assert saved.json["greeting_recording"] is True
    assert call(staff_api.admin, "GET", "/voice-settings").json["greeting_recording"] is True


def test_a_new_upload_replaces_the_old_recording(staff_api: StaffApi, s3: Any) -> None:
    # Given a WAV greeting
    assert _upload(staff_api.admin, wav(1)).status == 200
    [first] = _greeting_keys(s3)
    # When the admin uploads another
    assert _upload(staff_api.admin, wav(3)).status == 200
    # Then only the new one is kept
    [second] = _greeting_keys(s3)
    assert second != first


def test_removing_the_greeting_goes_back_to_text_to_speech(staff_api: StaffApi, s3: Any) -> None:
    # Given an uploaded greeting
    assert _upload(staff_api.admin, wav(1)).status == 200
    staff_api.audit.clear()
    # When the admin removes it
    removed = call(staff_api.admin, "DELETE", "/voice-settings/greeting")
    # Then the settings speak the text again, the object is gone, and the change is audited
    assert removed.status == 204, removed.text
    assert call(staff_api.admin, "GET", "/voice-settings").json["greeting_recording"] is False
    assert _greeting_keys(s3) == []
    actions = [(e.action, e.outcome.value) for e in staff_api.audit.events]
    assert ("voice_greeting.clear", "success") in actions


def test_the_upload_is_audited(staff_api: StaffApi) -> None:
    staff_api.audit.clear()
    assert _upload(staff_api.admin, wav(1)).status == 200
    actions = [(e.action, e.outcome.value, e.actor) for e in staff_api.audit.events]
    assert ("voice_greeting.update", "success", staff_api.admin.user_id) in actions


def test_a_clinician_may_not_upload_a_greeting(staff_api: StaffApi, s3: Any) -> None:
    response = _upload(staff_api.clinician, wav(1))
    assert response.status == 403, response.text
    assert _greeting_keys(s3) == []


def test_a_greeting_longer_than_a_minute_is_refused_naming_the_audio(
    staff_api: StaffApi, s3: Any
) -> None:
    response = _upload(staff_api.admin, wav(61))
    assert response.status == 422, response.text
    assert response.json["errors"] == [{"field": "audio", "problem": "must be at most 60 seconds"}]
    assert _greeting_keys(s3) == []


def test_a_greeting_over_a_megabyte_is_refused_as_too_large(staff_api: StaffApi, s3: Any) -> None:
    # 8-bit 8 kHz: 1 MB is about 131 s, so size is the first limit it passes
    response = _upload(staff_api.admin, b"RIFF" + b"\0" * (1024 * 1024))
    assert response.status == 413, response.text
    assert response.json["errors"][0]["field"] == "audio"
    assert _greeting_keys(s3) == []


def test_a_body_beyond_the_upload_bound_is_refused_before_parsing(staff_api: StaffApi) -> None:
    response = call(
        staff_api.admin,
        "PUT",
        "/voice-settings/greeting",
        raw_body='{"content_type": "audio/wav", "audio_base64": "' + "A" * 1_500_000 + '"}',
    )
    assert response.status == 413, response.text
    assert response.json["errors"][0]["field"] == "body"


def test_a_greeting_of_another_audio_type_is_refused_as_unsupported(
    staff_api: StaffApi,
) -> None:
    response = _upload(staff_api.admin, b"OggS" + b"\0" * 100, content_type="audio/ogg")
    assert response.status == 415, response.text
    assert response.json["errors"][0]["field"] == "content_type"


def test_audio_that_is_not_what_it_claims_is_refused(staff_api: StaffApi) -> None:
    response = _upload(staff_api.admin, b"not audio at all", content_type="audio/wav")
    assert response.status == 422, response.text
    assert response.json["errors"][0]["field"] == "audio"


@pytest.mark.parametrize("encoded", ["*not base64*", "B]\u00d2"])
def test_audio_that_is_not_base64_is_refused_naming_the_field(
    staff_api: StaffApi, encoded: str
) -> None:
    response = call(
        staff_api.admin,
        "PUT",
        "/voice-settings/greeting",
        body={"content_type": "audio/wav", "audio_base64": encoded},
    )
    assert response.status == 422, response.text
    assert response.json["errors"][0]["field"] == "audio_base64"


def test_the_carrier_gets_a_signed_url_for_the_greeting_valid_for_minutes(
    staff_api: StaffApi, s3: Any
) -> None:
    # Given an uploaded greeting
    assert _upload(staff_api.admin, wav(1)).status == 200
    [key] = _greeting_keys(s3)
    # When the Twilio path signs its URL
    store = staff_api.runtime.greeting_store()
    assert store is not None
    url = urllib.parse.urlsplit(store.greeting_url(key))
    query = urllib.parse.parse_qs(url.query)
    # Then it is a SigV4 GET of that one object, expiring within five minutes
    assert url.path.endswith("/" + key)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert 0 < int(query["X-Amz-Expires"][0]) <= 300
