"""Voice on moto (DynamoDB + KMS + S3): a call rings the routed clinician under the business
number, a missed call's voicemail is stored sealed under the tenant's key, appears in the
thread, plays back exactly through the staff API (audited, no-store), and is refused to a
clinician who may not see the thread."""

from __future__ import annotations

import base64
import io
import wave
from dataclasses import dataclass
from typing import Any

import pytest

from functions.core.errors import TransientCarrierError
from functions.core.voice import (
    CallOutcome,
    CallReport,
    IncomingCall,
    NextAction,
    PlanAction,
    ScreenDecision,
    VoicemailRecording,
)
from functions.logic.voice import VoiceService
from tests.fakes import RecordingVoiceCarrier
from tests.integration.api_harness import call
from tests.integration.conftest import VOICEMAIL_BUCKET, StaffApi
from tests.phi_samples import BUSINESS_NUMBER, CLIENT_PHONE

pytestmark = pytest.mark.integration

CLINICIAN_CELL = "+12065550177"


def tiny_wav(seconds: float = 0.2) -> bytes:
    """A short 8 kHz tone-free WAV: real audio framing, nothing to hear."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(range(256)) * int(8000 * seconds * 2 / 256))
    return buffer.getvalue()


@dataclass
class Voice:
    api: StaffApi
    service: VoiceService
    carrier: RecordingVoiceCarrier
    s3: Any


@pytest.fixture
def voice(staff_api: StaffApi) -> Voice:
    carrier = staff_api.runtime.ports.voice_carrier
    assert isinstance(carrier, RecordingVoiceCarrier)
    s3 = staff_api.runtime.clients.client("s3")
    return Voice(staff_api, staff_api.runtime.voice_service(), carrier, s3)


def _enable_voice(voice: Voice) -> None:
    # Given the clinician set their cell and the admin routes the business number to them
    response = call(
        voice.api.clinician,
        "PUT",
        "/me/forwarding-number",
        body={"phone_number": "(206) 555-0177"},
    )
    assert response.status == 200, response.text
    assert CLINICIAN_CELL not in response.text
    response = call(
        voice.api.admin,
        "PUT",
        "/voice-settings",
        body={
            "enabled": True,
            "routes": [
                {"business_number": BUSINESS_NUMBER, "user_ids": [voice.api.clinician.user_id]}
            ],
        },
    )
    assert response.status == 200, response.text


def _missed_call_with_voicemail(voice: Voice, audio: bytes) -> tuple[str, str]:
    plan = voice.service.incoming_call(
        IncomingCall("simulated", "CA-1", BUSINESS_NUMBER, CLIENT_PHONE, "2026-11-30T15:00:00Z")
    )
    step = voice.service.call_finished(CallReport(plan.call_id, CallOutcome.NO_ANSWER))
    assert step.action is NextAction.VOICEMAIL
    voice.service.voicemail_recorded(
        VoicemailRecording(plan.call_id, audio, "audio/wav", 1, carrier_recording_id="RE-1")
    )
    _tenant, conversation_id, call_ulid = plan.call_id.split("/")
    return conversation_id, call_ulid


def test_an_inbound_call_rings_the_routed_clinician_under_the_business_number(
    voice: Voice,
) -> None:
    _enable_voice(voice)
    # When a client calls the business number
    plan = voice.service.incoming_call(
        IncomingCall("simulated", "CA-1", BUSINESS_NUMBER, CLIENT_PHONE, "2026-11-30T15:00:00Z")
    )
    # Then the carrier rings the clinician's cell, showing the business number, screened
    assert plan.action is PlanAction.RING
    assert [(t.user_id, t.number) for t in plan.targets] == [
        (voice.api.clinician.user_id, CLINICIAN_CELL)
    ]
    assert plan.caller_id == BUSINESS_NUMBER
    assert "Harbor Counseling" in plan.screening_prompt
    assert CLIENT_PHONE not in plan.call_id


def test_the_first_clinician_to_accept_wins_the_call(voice: Voice) -> None:
    _enable_voice(voice)
    plan = voice.service.incoming_call(
        IncomingCall("simulated", "CA-1", BUSINESS_NUMBER, CLIENT_PHONE, "2026-11-30T15:00:00Z")
    )
    first = voice.service.screen_answer(plan.call_id, voice.api.clinician.user_id, True)
    second = voice.service.screen_answer(plan.call_id, voice.api.other_clinician.user_id, True)
    assert (first, second) == (ScreenDecision.CONNECT, ScreenDecision.HANG_UP)


def test_a_repeated_incoming_webhook_records_one_call(voice: Voice) -> None:
    _enable_voice(voice)
    incoming = IncomingCall(
        "simulated", "CA-1", BUSINESS_NUMBER, CLIENT_PHONE, "2026-11-30T15:00:00Z"
    )
    first = voice.service.incoming_call(incoming)
    again = voice.service.incoming_call(incoming)
    assert again.call_id == first.call_id


def test_a_voicemail_is_stored_sealed_and_plays_back_exactly_through_the_api(
    voice: Voice,
) -> None:
    _enable_voice(voice)
    audio = tiny_wav()
    # Given a missed call with a voicemail
    conversation_id, call_ulid = _missed_call_with_voicemail(voice, audio)
    # Then the S3 object is not the audio (sealed under the tenant's key), keyed by ids only
    listed = voice.s3.list_objects_v2(Bucket=VOICEMAIL_BUCKET)["Contents"]
    assert len(listed) == 1
    key = listed[0]["Key"]
    assert CLIENT_PHONE.lstrip("+") not in key
    stored = voice.s3.get_object(Bucket=VOICEMAIL_BUCKET, Key=key)["Body"].read()
    assert audio not in stored and stored.startswith(b"QLE")
    # And the carrier's copy was deleted once ours was safe
    assert voice.carrier.deleted == ["RE-1"]
    # And the thread shows the call with its voicemail
    log = call(
        voice.api.clinician,
        "GET",
        "/conversations/{conversation_id}/calls",
        path_params={"conversation_id": conversation_id},
    )
    assert log.status == 200, log.text
    assert log.json["items"][0]["voicemail"] == {"duration_seconds": 1, "content_type": "audio/wav"}
    # When the clinician plays it
    voice.api.audit.clear()
    played = call(
        voice.api.clinician,
        "GET",
        "/conversations/{conversation_id}/calls/{call_id}/voicemail",
        path_params={"conversation_id": conversation_id, "call_id": call_ulid},
    )
    # Then the audio comes back exactly, not cached, and the play is audited
    assert played.status == 200, played.text
    assert base64.b64decode(played.text) == audio
    assert played.headers["Content-Type"] == "audio/wav"
    assert played.headers["Cache-Control"] == "no-store"
    actions = [(e.action, e.outcome.value, e.actor) for e in voice.api.audit.events]
    assert ("voicemail.played", "success", voice.api.clinician.user_id) in actions


def test_a_clinician_who_may_not_see_the_thread_cannot_play_its_voicemail(
    voice: Voice,
) -> None:
    _enable_voice(voice)
    conversation_id, call_ulid = _missed_call_with_voicemail(voice, tiny_wav())
    # Given the thread is assigned to the clinician
    assigned = call(
        voice.api.admin,
        "PUT",
        "/conversations/{conversation_id}/assignment",
        path_params={"conversation_id": conversation_id},
        body={"user_id": voice.api.clinician.user_id},
    )
    assert assigned.status == 204, assigned.text
    voice.api.audit.clear()
    # When another clinician asks for its voicemail
    refused = call(
        voice.api.other_clinician,
        "GET",
        "/conversations/{conversation_id}/calls/{call_id}/voicemail",
        path_params={"conversation_id": conversation_id, "call_id": call_ulid},
    )
    # Then it is as if it did not exist, and the attempt is audited
    assert refused.status == 404
    outcomes = [(e.action, e.outcome.value) for e in voice.api.audit.events]
    assert ("voicemail.played", "not_found") in outcomes


def test_click_to_call_rings_the_clinicians_cell_then_the_client_under_the_business_number(
    voice: Voice,
) -> None:
    _enable_voice(voice)
    conversation_id = voice.api.contact(voice.api.clinician, CLIENT_PHONE)
    placed = call(
        voice.api.clinician,
        "POST",
        "/conversations/{conversation_id}/calls",
        path_params={"conversation_id": conversation_id},
    )
    assert placed.status == 202, placed.text
    [request] = voice.carrier.placed
    assert (request.caller_id, request.clinician_number, request.client_number) == (
        BUSINESS_NUMBER,
        CLINICIAN_CELL,
        CLIENT_PHONE,
    )
    assert CLINICIAN_CELL not in placed.text and CLIENT_PHONE not in placed.text


def test_voice_settings_routing_to_a_user_who_is_not_enabled_staff_are_refused(
    voice: Voice,
) -> None:
    # Given the second clinician was disabled by the admin
    disabled = call(
        voice.api.admin,
        "POST",
        "/users/{user_id}/disable",
        path_params={"user_id": voice.api.other_clinician.user_id},
    )
    assert disabled.status in (200, 204), disabled.text
    # When the admin routes the business number to them
    response = call(
        voice.api.admin,
        "PUT",
        "/voice-settings",
        body={
            "enabled": True,
            "routes": [
                {
                    "business_number": BUSINESS_NUMBER,
                    "user_ids": [voice.api.clinician.user_id, voice.api.other_clinician.user_id],
                }
            ],
        },
    )
    # Then the update is refused naming the field, and nothing was stored
    assert response.status == 422, response.text
    assert response.json["errors"] == [
        {
            "field": "voice.routes[0].user_ids[1]",
            "problem": "must be an enabled staff member of this practice",
        }
    ]
    assert voice.api.other_clinician.user_id not in response.text
    stored = call(voice.api.admin, "GET", "/voice-settings")
    assert stored.json["enabled"] is False


def test_a_failed_carrier_delete_is_remembered_in_the_table_until_swept(
    voice: Voice, monkeypatch: pytest.MonkeyPatch
) -> None:
    _enable_voice(voice)
    store = voice.api.runtime.call_store()

    def carrier_down(carrier_recording_id: str) -> None:
        raise TransientCarrierError("carrier unavailable")

    # Given the carrier cannot delete its copy when the voicemail is stored
    with monkeypatch.context() as patched:
        patched.setattr(voice.carrier, "delete_recording", carrier_down)
        conversation_id, call_ulid = _missed_call_with_voicemail(voice, tiny_wav())
    [pending] = store.list_pending_recording_deletes("simulated", limit=10)
    assert (pending.carrier_recording_id, pending.call_id.split("/")[1:]) == (
        "RE-1",
        [conversation_id, call_ulid],
    )
    # When the sweep runs once the carrier is back
    assert voice.service.sweep_carrier_recordings() == 1
    assert voice.carrier.deleted == ["RE-1"]
    assert store.list_pending_recording_deletes("simulated", limit=10) == []
