"""The Twilio voice webhooks end to end through the handler (boundary, signature, TwiML),
driving a fake of VoiceService that keeps the contract's promises."""

from __future__ import annotations

import urllib.parse
from dataclasses import replace
from typing import Any

import pytest

from functions.carriers import twilio_voice as tv
from functions.core.voice import CallOutcome, PlanAction, RingStrategy
from functions.handlers import twilio_voice
from local.apigw import LambdaContext
from tests.builders import PUBLIC_BASE_URL
from tests.phi_samples import BUSINESS_NUMBER, CLIENT_PHONE
from tests.twilio_voice_fakes import (
    CALL_ID,
    GREETING,
    SECOND_CELL,
    FakeVoiceService,
    VoiceRuntime,
    call_form,
    parse_twiml,
    post_to,
    ring_plan,
)

pytestmark = pytest.mark.unit

INCOMING_URL = PUBLIC_BASE_URL + tv.INCOMING_PATH


def _send(service: FakeVoiceService, event: dict[str, Any]) -> dict[str, Any]:
    runtime = VoiceRuntime(service)
    response: dict[str, Any] = twilio_voice.handler.bound(runtime)(event, LambdaContext("voice"))
    return response


def _screen_url(service: FakeVoiceService, user: str = "user-a") -> str:
    dial = parse_twiml(_send(service, post_to(INCOMING_URL, call_form()))["body"]).find("Dial")
    assert dial is not None
    return next(
        n.get("url", "") for n in dial.findall("Number") if f"user={user}" in n.get("url", "")
    )


# --- the boundary and the signature ------------------------------------------------------
def test_a_forged_incoming_call_is_refused_and_the_service_never_hears_of_it() -> None:
    service = FakeVoiceService()

    response = _send(service, post_to(INCOMING_URL, call_form(), sign_with="not-the-token"))

    assert response["statusCode"] == 403
    assert service.incoming == []


def test_a_signature_over_another_url_is_refused() -> None:
    # Given Twilio signed the screen URL for another call
    service = FakeVoiceService()
    signed_for = tv.webhook_url(
        PUBLIC_BASE_URL, tv.SCREEN_ANSWER_PATH, {"call": "a/b/c", "user": "user-a"}
    )
    event = post_to(signed_for, call_form(Digits="1"))

    # When the query is changed to name our call
    event["multiValueQueryStringParameters"] = {"call": [CALL_ID], "user": ["user-a"]}
    response = _send(service, event)

    # Then nothing is accepted
    assert response["statusCode"] == 403
    assert service.screens == []


def test_an_unsigned_request_is_refused() -> None:
    event = post_to(INCOMING_URL, call_form())
    del event["headers"]["X-Twilio-Signature"]

    assert _send(FakeVoiceService(), event)["statusCode"] == 403


def test_a_call_without_a_callsid_is_malformed_and_names_the_field() -> None:
    form = call_form()
    del form["CallSid"]

    response = _send(FakeVoiceService(), post_to(INCOMING_URL, form))

    assert response["statusCode"] == 400
    assert "CallSid" in response["body"]


def test_a_json_body_is_refused_before_parsing() -> None:
    event = post_to(INCOMING_URL, call_form())
    event["headers"]["Content-Type"] = "application/json"

    assert _send(FakeVoiceService(), event)["statusCode"] == 415


def test_a_webhook_signed_for_another_account_is_refused() -> None:
    response = _send(
        FakeVoiceService(), post_to(INCOMING_URL, call_form(AccountSid="AC" + "f" * 32))
    )

    assert response["statusCode"] == 403


# --- incoming call -> TwiML ------------------------------------------------------------------
def test_an_incoming_call_is_handed_to_the_service_with_its_numbers_and_sid() -> None:
    service = FakeVoiceService()

    response = _send(service, post_to(INCOMING_URL, call_form()))

    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/xml"
    call = service.incoming[0]
    assert (call.carrier, call.business_number, call.caller) == (
        "twilio",
        BUSINESS_NUMBER,
        CLIENT_PHONE,
    )


def test_a_rejected_call_is_refused_without_answering() -> None:
    service = FakeVoiceService(plan=replace(ring_plan(), call_id="", action=PlanAction.REJECT))

    root = parse_twiml(_send(service, post_to(INCOMING_URL, call_form()))["body"])

    assert [child.tag for child in root] == ["Reject"]


def test_an_after_hours_call_goes_straight_to_the_greeting_and_recording() -> None:
    service = FakeVoiceService(plan=replace(ring_plan(), action=PlanAction.VOICEMAIL, targets=()))

    root = parse_twiml(_send(service, post_to(INCOMING_URL, call_form()))["body"])

    assert [child.tag for child in root] == ["Say", "Record", "Hangup"]


class _Greetings:
    def greeting_url(self, object_key: str) -> str:
        return f"https://voicemail.example/{object_key}?X-Amz-Expires=300"


class _RuntimeWithGreetings(VoiceRuntime):
    def greeting_store(self) -> Any:
        return _Greetings()


def test_a_stored_greeting_is_played_from_a_short_lived_url() -> None:
    # Given the practice uploaded a greeting and the call goes to voicemail
    greeting = replace(GREETING, recording_key="greetings/t1/01J.wav")
    service = FakeVoiceService(
        plan=replace(ring_plan(), action=PlanAction.VOICEMAIL, targets=(), greeting=greeting)
    )
    # When Twilio asks what to do
    event = post_to(INCOMING_URL, call_form())
    response = twilio_voice.handler.bound(_RuntimeWithGreetings(service))(
        event, LambdaContext("voice")
    )
    # Then the caller hears the recording, not the text
    root = parse_twiml(response["body"])
    assert [child.tag for child in root] == ["Play", "Record", "Hangup"]
    assert root.findtext("Play") == (
        "https://voicemail.example/greetings/t1/01J.wav?X-Amz-Expires=300"
    )


def test_a_stored_greeting_without_a_bucket_to_sign_for_is_spoken() -> None:
    greeting = replace(GREETING, recording_key="greetings/t1/01J.wav")
    service = FakeVoiceService(
        plan=replace(ring_plan(), action=PlanAction.VOICEMAIL, targets=(), greeting=greeting)
    )

    root = parse_twiml(_send(service, post_to(INCOMING_URL, call_form()))["body"])

    assert root.findtext("Say") == GREETING.text


# --- the screen ----------------------------------------------------------------------------
def test_the_screen_url_answers_with_the_practices_prompt_only() -> None:
    service = FakeVoiceService()
    screen_url = _screen_url(service)

    response = _send(service, post_to(screen_url, call_form(To=SECOND_CELL, From=BUSINESS_NUMBER)))

    gather = parse_twiml(response["body"]).find("Gather")
    assert gather is not None
    assert gather.findtext("Say") == "Call for Harbor Counseling. Press 1 to accept."


@pytest.mark.parametrize("digits", ["2", "0", "*", "#", ""])
def test_the_screen_refuses_anything_but_1_and_hangs_the_leg_up(digits: str) -> None:
    service = FakeVoiceService()
    answer_url = tv.webhook_url(
        PUBLIC_BASE_URL, tv.SCREEN_ANSWER_PATH, {"call": CALL_ID, "user": "user-a"}
    )

    response = _send(service, post_to(answer_url, call_form(Digits=digits)))

    assert [child.tag for child in parse_twiml(response["body"])] == ["Hangup"]
    assert service.screens == [(CALL_ID, "user-a", False)]


def test_pressing_1_accepts_and_an_empty_document_bridges_the_leg() -> None:
    service = FakeVoiceService()
    answer_url = tv.webhook_url(
        PUBLIC_BASE_URL, tv.SCREEN_ANSWER_PATH, {"call": CALL_ID, "user": "user-a"}
    )

    response = _send(service, post_to(answer_url, call_form(Digits="1")))

    assert list(parse_twiml(response["body"])) == []
    assert service.screens == [(CALL_ID, "user-a", True)]


def test_a_second_clinician_pressing_1_after_the_first_is_hung_up() -> None:
    service = FakeVoiceService(answered_by="user-a")
    answer_url = tv.webhook_url(
        PUBLIC_BASE_URL, tv.SCREEN_ANSWER_PATH, {"call": CALL_ID, "user": "user-b"}
    )

    response = _send(service, post_to(answer_url, call_form(Digits="1")))

    assert [child.tag for child in parse_twiml(response["body"])] == ["Hangup"]


# --- the Dial action -------------------------------------------------------------------------
def _dial_done(service: FakeVoiceService, leg: int, **form: str) -> dict[str, Any]:
    url = tv.webhook_url(PUBLIC_BASE_URL, tv.DIAL_DONE_PATH, {"call": CALL_ID, "leg": str(leg)})
    return _send(service, post_to(url, call_form(**form)))


def test_sequential_ring_moves_to_the_next_clinician_when_the_first_does_not_answer() -> None:
    service = FakeVoiceService()

    response = _dial_done(service, 0, DialCallStatus="no-answer")

    dial = parse_twiml(response["body"]).find("Dial")
    assert dial is not None and [n.text for n in dial.findall("Number")] == [SECOND_CELL]
    assert service.reports == []


def test_a_missed_call_is_reported_and_the_caller_hears_the_greeting_then_the_beep() -> None:
    service = FakeVoiceService(plan=ring_plan(RingStrategy.SIMULTANEOUS))

    response = _dial_done(service, 0, DialCallStatus="no-answer")

    assert [r.outcome for r in service.reports] == [CallOutcome.NO_ANSWER]
    root = parse_twiml(response["body"])
    assert root.findtext("Say") == GREETING.text and root.find("Record") is not None


def test_a_leg_the_screen_hung_up_counts_as_declined_not_answered() -> None:
    # Given the last clinician picked up (or their voicemail did) but never pressed 1
    service = FakeVoiceService()

    _dial_done(service, 1, DialCallStatus="completed", DialCallDuration="4")

    # Then the service hears "declined" (voicemail follows), not "answered"
    assert [(r.outcome, r.duration_seconds) for r in service.reports] == [(CallOutcome.DECLINED, 0)]


def test_an_accepted_call_that_ended_is_reported_answered_with_its_talk_time() -> None:
    service = FakeVoiceService()
    service.screen_answer(CALL_ID, "user-a", True)

    response = _dial_done(service, 0, DialCallStatus="completed", DialCallDuration="312")

    assert [(r.outcome, r.duration_seconds) for r in service.reports] == [
        (CallOutcome.ANSWERED, 312)
    ]
    assert [child.tag for child in parse_twiml(response["body"])] == ["Hangup"]


def test_a_caller_who_hung_up_while_ringing_gets_no_voicemail() -> None:
    service = FakeVoiceService()

    response = _dial_done(service, 0, DialCallStatus="no-answer", CallStatus="completed")

    assert [r.outcome for r in service.reports] == [CallOutcome.CALLER_HUNG_UP]
    assert [child.tag for child in parse_twiml(response["body"])] == ["Hangup"]


def test_a_dial_action_without_our_call_id_is_malformed() -> None:
    url = tv.webhook_url(PUBLIC_BASE_URL, tv.DIAL_DONE_PATH, {"call": CLIENT_PHONE, "leg": "0"})

    response = _send(FakeVoiceService(), post_to(url, call_form(DialCallStatus="no-answer")))

    assert response["statusCode"] == 400
    assert CLIENT_PHONE not in response["body"]


# --- click-to-call ---------------------------------------------------------------------------
def test_click_to_call_dials_the_client_only_after_the_clinician_pressed_1() -> None:
    service = FakeVoiceService()
    answer = tv.webhook_url(
        PUBLIC_BASE_URL, tv.OUTBOUND_ANSWER_PATH, {"call": CALL_ID, "user": "user-a"}
    )
    form = call_form(From=BUSINESS_NUMBER, To=SECOND_CELL, Direction="outbound-api", Digits="1")

    dial = parse_twiml(_send(service, post_to(answer, form))["body"]).find("Dial")

    assert dial is not None
    assert (dial.get("callerId"), dial.findtext("Number")) == (BUSINESS_NUMBER, CLIENT_PHONE)
    assert CLIENT_PHONE not in urllib.parse.unquote(dial.get("action", ""))


def test_click_to_call_declined_by_the_clinician_never_dials_the_client() -> None:
    service = FakeVoiceService()
    answer = tv.webhook_url(
        PUBLIC_BASE_URL, tv.OUTBOUND_ANSWER_PATH, {"call": CALL_ID, "user": "user-a"}
    )

    response = _send(service, post_to(answer, call_form(From=BUSINESS_NUMBER, Digits="9")))

    assert [child.tag for child in parse_twiml(response["body"])] == ["Hangup"]


def test_click_to_call_the_clinician_never_picked_up_is_reported_no_answer() -> None:
    service = FakeVoiceService()
    status = tv.webhook_url(PUBLIC_BASE_URL, tv.OUTBOUND_STATUS_PATH, {"call": CALL_ID})

    _send(service, post_to(status, call_form(CallStatus="no-answer")))

    assert [r.outcome for r in service.reports] == [CallOutcome.NO_ANSWER]


def test_the_five_minute_schedule_deletes_recordings_left_at_twilio() -> None:
    # Given two sealed voicemails whose recordings could not be deleted at Twilio
    service = FakeVoiceService(pending_carrier_deletes=2)

    # When EventBridge's schedule invokes the voice function (no webhook, no signature)
    answer = _send(service, {"source": "aws.events", "detail-type": "Scheduled Event"})

    # Then the sweep ran, and no webhook handling was attempted
    assert answer == {"carrier_copies_deleted": 2}
    assert service.pending_carrier_deletes == 0 and service.incoming == []
