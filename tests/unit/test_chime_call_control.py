"""Chime SMA call control as event -> actions, from the documented event shapes in
tests/events/chime_*.json, over a fake VoiceService (the contract in docs/voice.md)."""

from __future__ import annotations

import copy
import io
import json
import wave
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from functions.carriers.chime_voice import (
    ATTR_CALL,
    ATTR_PHASE,
    ChimeCallControl,
    Phase,
    call_id_of_staged,
    parse_event,
    staging_prefix,
)
from functions.core.errors import ValidationError
from functions.core.voice import (
    CallOutcome,
    CallPlan,
    CallReport,
    Greeting,
    IncomingCall,
    NextAction,
    NextStep,
    OutboundLeg,
    PlanAction,
    RingTarget,
    ScreenDecision,
    VoicemailRecording,
)
from tests.phi_samples import BUSINESS_NUMBER, CLIENT_PHONE

pytestmark = pytest.mark.unit

EVENTS = Path(__file__).resolve().parent.parent / "events"
CALL_ID = "tenant-1/conv-1/call-1"
CELL_1, CELL_2 = "+12065550177", "+12065550178"
STAGING = "quietline-voice-staging"
GREETING = Greeting("You have reached Harbor Counseling.")
LEG_A, LEG_B = "a1b2c3d4-0000-4000-8000-00000000000a", "a1b2c3d4-0000-4000-8000-00000000000b"


def tiny_wav(seconds: float) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * int(8000 * seconds))
    return buffer.getvalue()


def event(name: str, **attributes: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"chime_{name}.json").read_text())
    if attributes:
        loaded["CallDetails"]["TransactionAttributes"] = attributes
    return loaded


class FixedClock:
    def __init__(self) -> None:
        self.at = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


@dataclass
class FakeVoice:
    plan: CallPlan
    decision: ScreenDecision = ScreenDecision.CONNECT
    step: NextStep = field(default_factory=lambda: NextStep(NextAction.VOICEMAIL, GREETING, 90))
    incoming: list[IncomingCall] = field(default_factory=list)
    screens: list[tuple[str, str, bool]] = field(default_factory=list)
    reports: list[CallReport] = field(default_factory=list)
    recordings: list[VoicemailRecording] = field(default_factory=list)

    def incoming_call(self, call: IncomingCall) -> CallPlan:
        self.incoming.append(call)
        return self.plan

    def screen_answer(self, call_id: str, user_id: str, accepted: bool) -> ScreenDecision:
        self.screens.append((call_id, user_id, accepted))
        return self.decision if accepted else ScreenDecision.HANG_UP

    def call_finished(self, report: CallReport) -> NextStep:
        self.reports.append(report)
        return self.step

    def voicemail_recorded(self, recording: VoicemailRecording) -> None:
        self.recordings.append(recording)

    def outbound_leg(self, call_id: str) -> OutboundLeg:
        return OutboundLeg("user-c", "Call to a client of Harbor Counseling.", CLIENT_PHONE)


@dataclass
class FakeStaging:
    objects: dict[str, bytes] = field(default_factory=dict)

    def read(self, key: str) -> bytes:
        return self.objects[key]


def ring_plan(*cells: str) -> CallPlan:
    return CallPlan(
        CALL_ID,
        PlanAction.RING,
        caller_id=BUSINESS_NUMBER,
        targets=tuple(RingTarget(f"user-{i}", cell) for i, cell in enumerate(cells)),
        ring_seconds=20,
        screening_prompt="Call for Harbor Counseling. Press 1 to accept.",
        greeting=GREETING,
        max_voicemail_seconds=90,
    )


def control(service: FakeVoice, staging: FakeStaging | None = None) -> ChimeCallControl:
    return ChimeCallControl(service, staging or FakeStaging(), STAGING, FixedClock())


def run(ctl: ChimeCallControl, raw: dict[str, Any]) -> dict[str, Any]:
    return ctl.handle(parse_event(raw)).to_response()


def types(response: dict[str, Any]) -> list[str]:
    return [action["Type"] for action in response["Actions"]]


# --- inbound ---------------------------------------------------------------------------------


def test_a_new_call_rings_the_first_clinician_under_the_business_number() -> None:
    # Given a plan ringing two clinicians
    service = FakeVoice(ring_plan(CELL_1, CELL_2))
    # When the client's call arrives
    response = run(control(service), event("new_inbound_call"))
    # Then the service hears of it (business number = To, caller = From, Chime's transaction)
    assert service.incoming[0].business_number == BUSINESS_NUMBER
    assert service.incoming[0].caller == CLIENT_PHONE
    assert service.incoming[0].carrier_call_id == "7c2ba7b1-7bd4-4b6d-9a9e-1f3b7e1f5a10"
    # and the first clinician's cell is bridged with the business number as caller ID
    (bridge,) = response["Actions"]
    assert bridge["Type"] == "CallAndBridge"
    assert bridge["Parameters"]["CallerIdNumber"] == BUSINESS_NUMBER
    assert bridge["Parameters"]["Endpoints"] == [{"BridgeEndpointType": "PSTN", "Uri": CELL_1}]
    assert bridge["Parameters"]["CallTimeoutSeconds"] == 20


def test_transaction_attributes_carry_ids_and_no_number() -> None:
    service = FakeVoice(ring_plan(CELL_1))
    response = run(control(service), event("new_inbound_call"))
    attributes = json.dumps(response["TransactionAttributes"])
    assert response["TransactionAttributes"][ATTR_CALL] == CALL_ID
    for number in (CELL_1, CLIENT_PHONE, BUSINESS_NUMBER):
        assert number not in attributes


def test_a_rejected_call_is_hung_up_with_nothing_played() -> None:
    service = FakeVoice(CallPlan("", PlanAction.REJECT))
    response = run(control(service), event("new_inbound_call"))
    assert types(response) == ["Hangup"]


def test_a_voicemail_plan_speaks_the_greeting_then_records_into_the_staging_prefix() -> None:
    service = FakeVoice(
        CallPlan(CALL_ID, PlanAction.VOICEMAIL, greeting=GREETING, max_voicemail_seconds=90)
    )
    response = run(control(service), event("new_inbound_call"))
    assert types(response) == ["Speak", "RecordAudio"]
    assert response["Actions"][0]["Parameters"]["Text"] == GREETING.text
    record = response["Actions"][1]["Parameters"]
    assert record["DurationInSeconds"] == 90
    assert record["RecordingDestination"] == {
        "Type": "S3",
        "BucketName": STAGING,
        "Prefix": f"staged/{CALL_ID}/",
    }


RECORDED = replace(GREETING, recording_key="greetings/t-harbor/01JGREETING.wav")
VOICEMAIL_BUCKET = "quietline-voicemail"


def test_an_uploaded_wav_greeting_is_played_from_the_voicemail_bucket() -> None:
    # Given the practice uploaded a WAV greeting
    service = FakeVoice(
        CallPlan(CALL_ID, PlanAction.VOICEMAIL, greeting=RECORDED, max_voicemail_seconds=90)
    )
    ctl = replace(control(service), greeting_bucket=VOICEMAIL_BUCKET)
    # When a call goes to voicemail
    response = run(ctl, event("new_inbound_call"))
    # Then the recording plays on the caller's leg, then the recording starts
    assert types(response) == ["PlayAudio", "RecordAudio"]
    assert response["Actions"][0]["Parameters"] == {
        "CallId": LEG_A,
        "AudioSource": {
            "Type": "S3",
            "BucketName": VOICEMAIL_BUCKET,
            "Key": RECORDED.recording_key,
        },
    }


def test_an_uploaded_mp3_greeting_is_spoken_as_text_since_play_audio_takes_wav() -> None:
    mp3 = replace(GREETING, recording_key="greetings/t-harbor/01JGREETING.mp3")
    service = FakeVoice(
        CallPlan(CALL_ID, PlanAction.VOICEMAIL, greeting=mp3, max_voicemail_seconds=90)
    )
    ctl = replace(control(service), greeting_bucket=VOICEMAIL_BUCKET)
    response = run(ctl, event("new_inbound_call"))
    assert types(response) == ["Speak", "RecordAudio"]
    assert response["Actions"][0]["Parameters"]["Text"] == GREETING.text


def test_a_greeting_that_fails_to_play_is_spoken_and_the_voicemail_still_recorded() -> None:
    # Given the greeting's PlayAudio failed (the SMA then skips the RecordAudio after it)
    service = FakeVoice(
        CallPlan(CALL_ID, PlanAction.VOICEMAIL, greeting=RECORDED, max_voicemail_seconds=90)
    )
    ctl = replace(control(service), greeting_bucket=VOICEMAIL_BUCKET)
    attrs = {ATTR_CALL: CALL_ID, "direction": "in", ATTR_PHASE: Phase.VOICEMAIL}
    # When the failure comes back
    response = run(ctl, event("play_audio_failed", **attrs))
    # Then the caller hears the text instead and can still leave a message
    assert types(response) == ["Speak", "RecordAudio"]
    assert response["Actions"][0]["Parameters"]["Text"] == GREETING.text
    assert response["Actions"][1]["Parameters"]["DurationInSeconds"] == 90


def test_an_answered_clinician_leg_is_screened_on_leg_b_only() -> None:
    service = FakeVoice(ring_plan(CELL_1))
    attrs = {ATTR_CALL: CALL_ID, "direction": "in", ATTR_PHASE: Phase.RING, "target": "0"}
    response = run(control(service), event("call_and_bridge_successful", **attrs))
    (screen,) = response["Actions"]
    assert screen["Type"] == "SpeakAndGetDigits"
    assert screen["Parameters"]["CallId"] == LEG_B
    assert screen["Parameters"]["SpeechParameters"]["Text"] == ring_plan().screening_prompt
    assert response["TransactionAttributes"][ATTR_PHASE] == Phase.SCREEN


def test_pressing_1_connects_and_tells_the_service_who_accepted() -> None:
    service = FakeVoice(ring_plan(CELL_1))
    attrs = {ATTR_CALL: CALL_ID, "direction": "in", ATTR_PHASE: Phase.SCREEN, "user_id": "user-0"}
    response = run(control(service), event("speak_and_get_digits_successful", **attrs))
    assert service.screens == [(CALL_ID, "user-0", True)]
    assert response["Actions"] == []  # already bridged: nothing to do but talk
    assert response["TransactionAttributes"][ATTR_PHASE] == Phase.TALK


def test_no_key_pressed_drops_that_leg_and_rings_the_next_clinician() -> None:
    # Given the first clinician's phone answered (their voicemail, say) and nobody pressed 1
    service = FakeVoice(ring_plan(CELL_1, CELL_2))
    attrs = {
        ATTR_CALL: CALL_ID,
        "direction": "in",
        ATTR_PHASE: Phase.SCREEN,
        "target": "0",
        "user_id": "user-0",
    }
    # When the screen times out
    response = run(control(service), event("speak_and_get_digits_failed", **attrs))
    # Then that leg is hung up and the second clinician is rung
    assert service.screens == [(CALL_ID, "user-0", False)]
    assert types(response) == ["Hangup", "CallAndBridge"]
    assert response["Actions"][0]["Parameters"]["CallId"] == LEG_B
    assert response["Actions"][1]["Parameters"]["Endpoints"][0]["Uri"] == CELL_2
    assert response["TransactionAttributes"]["user_id"] == "user-1"


def test_a_second_acceptance_loses_the_race_and_is_hung_up() -> None:
    service = FakeVoice(ring_plan(CELL_1), decision=ScreenDecision.HANG_UP)
    attrs = {ATTR_CALL: CALL_ID, "direction": "in", ATTR_PHASE: Phase.SCREEN, "target": "0"}
    response = run(control(service), event("speak_and_get_digits_successful", **attrs))
    assert response["Actions"][0] == {
        "Type": "Hangup",
        "Parameters": {"CallId": LEG_B, "SipResponseCode": "0"},
    }


def test_the_last_clinician_not_answering_sends_the_caller_to_voicemail() -> None:
    service = FakeVoice(ring_plan(CELL_1))
    attrs = {ATTR_CALL: CALL_ID, "direction": "in", ATTR_PHASE: Phase.RING, "target": "0"}
    response = run(control(service), event("call_and_bridge_failed", **attrs))
    assert [r.outcome for r in service.reports] == [CallOutcome.NO_ANSWER]
    assert types(response) == ["Speak", "RecordAudio"]
    assert response["Actions"][1]["Parameters"]["CallId"] == LEG_A


def test_a_recorded_voicemail_is_handed_to_the_service_with_the_staged_key() -> None:
    audio = tiny_wav(2.0)
    staging = FakeStaging({"staged/recording.wav": audio})
    service = FakeVoice(ring_plan())
    attrs = {ATTR_CALL: CALL_ID, "direction": "in", ATTR_PHASE: Phase.VOICEMAIL}
    response = run(control(service, staging), event("record_audio_successful", **attrs))
    (recording,) = service.recordings
    assert recording.audio == audio
    assert recording.call_id == CALL_ID
    assert recording.content_type == "audio/wav"
    assert recording.duration_seconds == 2
    assert recording.carrier_recording_id == "staged/recording.wav"
    assert types(response) == ["Hangup"]


def test_the_caller_hanging_up_while_ringing_is_reported_and_the_clinician_leg_ended() -> None:
    service = FakeVoice(ring_plan(CELL_1))
    attrs = {ATTR_CALL: CALL_ID, "direction": "in", ATTR_PHASE: Phase.RING, "target": "0"}
    response = run(control(service), event("hangup", **attrs))
    assert [r.outcome for r in service.reports] == [CallOutcome.CALLER_HUNG_UP]
    assert [a["Parameters"]["CallId"] for a in response["Actions"]] == [LEG_B]


def test_a_hang_up_after_talking_reports_who_answered_and_the_talk_time() -> None:
    service = FakeVoice(ring_plan(CELL_1))
    ctl = control(service)
    attrs = {ATTR_CALL: CALL_ID, "direction": "in", ATTR_PHASE: Phase.SCREEN, "user_id": "u-7"}
    talking = run(ctl, event("speak_and_get_digits_successful", **attrs))
    assert isinstance(ctl.clock, FixedClock)
    ctl.clock.at += timedelta(seconds=95)
    run(ctl, event("hangup", **talking["TransactionAttributes"]))
    (report,) = service.reports
    assert (report.outcome, report.answered_by, report.duration_seconds) == (
        CallOutcome.ANSWERED,
        "u-7",
        95,
    )


# --- click-to-call ---------------------------------------------------------------------------


def test_a_placed_call_keeps_only_our_call_id() -> None:
    response = run(control(FakeVoice(ring_plan())), event("new_outbound_call"))
    assert response["Actions"] == []
    assert response["TransactionAttributes"] == {
        ATTR_CALL: CALL_ID,
        "direction": "out",
        ATTR_PHASE: Phase.DIAL,
    }


def test_the_clinician_answering_hears_the_screen_before_the_client_is_dialled() -> None:
    attrs = {ATTR_CALL: CALL_ID, "direction": "out", ATTR_PHASE: Phase.DIAL}
    response = run(control(FakeVoice(ring_plan())), event("call_answered", **attrs))
    assert types(response) == ["SpeakAndGetDigits"]
    assert response["Actions"][0]["Parameters"]["CallId"] == LEG_A


def test_the_clinician_pressing_1_bridges_to_the_client_under_the_business_number() -> None:
    service = FakeVoice(ring_plan())
    attrs = {ATTR_CALL: CALL_ID, "direction": "out", ATTR_PHASE: Phase.SCREEN}
    raw = event("speak_and_get_digits_successful", **attrs)
    raw["CallDetails"]["Participants"] = event("call_answered")["CallDetails"]["Participants"]
    response = run(control(service), raw)
    assert service.screens == [(CALL_ID, "user-c", True)]
    (bridge,) = response["Actions"]
    assert bridge["Parameters"]["CallerIdNumber"] == BUSINESS_NUMBER
    assert bridge["Parameters"]["Endpoints"][0]["Uri"] == CLIENT_PHONE
    assert CLIENT_PHONE not in json.dumps(response["TransactionAttributes"])


# --- parsing ---------------------------------------------------------------------------------


def test_an_event_without_a_transaction_is_refused_naming_the_field() -> None:
    raw = copy.deepcopy(event("new_inbound_call"))
    del raw["CallDetails"]["TransactionId"]
    with pytest.raises(ValidationError) as caught:
        parse_event(raw)
    assert caught.value.field == "TransactionId"


def test_an_event_s_repr_shows_no_number() -> None:
    parsed = parse_event(event("new_inbound_call"))
    assert CLIENT_PHONE not in repr(parsed)
    assert BUSINESS_NUMBER not in repr(parsed)


def test_a_staged_key_gives_back_its_call_id() -> None:
    assert call_id_of_staged(staging_prefix(CALL_ID) + "recording.wav") == CALL_ID


def test_a_key_outside_the_staging_prefix_is_not_a_staged_recording() -> None:
    with pytest.raises(ValidationError):
        call_id_of_staged("voicemail/tenant-1/conv-1/call-1")
