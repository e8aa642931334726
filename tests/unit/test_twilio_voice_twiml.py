"""TwiML the Twilio voice adapter answers with, and the URLs it hands Twilio."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import replace

import pytest

from functions.carriers import twilio_voice as tv
from functions.carriers.twilio import rebuild_query
from functions.core.voice import CallOutcome, RingStrategy
from tests.builders import PUBLIC_BASE_URL
from tests.phi_samples import BUSINESS_NUMBER
from tests.twilio_voice_fakes import (
    CALL_ID,
    CLINICIAN_CELL,
    GREETING,
    SECOND_CELL,
    parse_twiml,
    ring_plan,
)

pytestmark = pytest.mark.unit

_DIGIT_RUN = re.compile(r"\d[\d\s().%+-]{5,}\d")


def _urls(body: str) -> list[str]:
    root = parse_twiml(body)
    names = ("url", "action", "recordingStatusCallback")
    return [el.attrib[n] for el in root.iter() for n in names if n in el.attrib]


def test_simultaneous_ring_dials_every_cell_at_once_under_the_business_number() -> None:
    # Given a plan ringing two clinicians together
    plan = ring_plan(RingStrategy.SIMULTANEOUS)

    # When it becomes TwiML
    dial = parse_twiml(tv.ring_twiml(plan, PUBLIC_BASE_URL)).find("Dial")

    # Then one Dial shows the business number, rings 18 s, keeps the caller hearing ringing
    assert dial is not None
    assert (dial.get("callerId"), dial.get("timeout"), dial.get("answerOnBridge")) == (
        BUSINESS_NUMBER,
        "18",
        "true",
    )
    assert [n.text for n in dial.findall("Number")] == [CLINICIAN_CELL, SECOND_CELL]
    assert all(n.get("url", "").startswith(PUBLIC_BASE_URL + tv.SCREEN_PATH) for n in dial)


def test_sequential_ring_dials_only_the_given_leg_and_names_it_in_the_action() -> None:
    body = tv.ring_twiml(ring_plan(RingStrategy.SEQUENTIAL), PUBLIC_BASE_URL, leg=1)

    dial = parse_twiml(body).find("Dial")

    assert dial is not None
    assert [n.text for n in dial.findall("Number")] == [SECOND_CELL]
    action = urllib.parse.urlsplit(dial.get("action", ""))
    assert action.path == tv.DIAL_DONE_PATH
    assert urllib.parse.parse_qs(action.query) == {"call": [CALL_ID], "leg": ["1"]}


def test_simultaneous_ring_stops_at_twilios_ten_numbers() -> None:
    many = tuple(replace(ring_plan().targets[0], user_id=f"u{i}") for i in range(12))
    plan = replace(ring_plan(RingStrategy.SIMULTANEOUS), targets=many)

    dial = parse_twiml(tv.ring_twiml(plan, PUBLIC_BASE_URL)).find("Dial")

    assert dial is not None and len(dial.findall("Number")) == 10


def test_the_screen_gathers_one_key_says_the_practice_and_hangs_up_without_it() -> None:
    body = tv.screen_twiml(
        CALL_ID,
        "user-a",
        "Call for Harbor Counseling. Press 1 to accept.",
        PUBLIC_BASE_URL,
        path=tv.SCREEN_ANSWER_PATH,
    )

    root = parse_twiml(body)

    gather = root.find("Gather")
    assert gather is not None and gather.get("numDigits") == "1"
    assert gather.findtext("Say") == "Call for Harbor Counseling. Press 1 to accept."
    assert [child.tag for child in root] == ["Gather", "Hangup"]  # no key, no call


def test_a_number_in_a_prompt_never_reaches_the_screen_url_or_speech() -> None:
    plan = replace(ring_plan(), screening_prompt=f"Call for {CLINICIAN_CELL}. Press 1 to accept.")

    body = tv.ring_twiml(plan, PUBLIC_BASE_URL)

    assert not any(_DIGIT_RUN.search(urllib.parse.unquote(u)) for u in _urls(body))


def test_the_voicemail_greets_beeps_records_within_the_limit_and_calls_back() -> None:
    root = parse_twiml(tv.voicemail_twiml(CALL_ID, GREETING, 90, PUBLIC_BASE_URL))

    record = root.find("Record")
    assert root.findtext("Say") == GREETING.text
    assert record is not None
    assert (record.get("maxLength"), record.get("playBeep")) == ("90", "true")
    callback = urllib.parse.urlsplit(record.get("recordingStatusCallback", ""))
    assert (callback.path, callback.query) == (tv.RECORDING_PATH, "call=" + CALL_ID)
    assert callback.fragment == tv.RECORDING_RETRY_FRAGMENT  # Twilio retries a 5xx
    assert urllib.parse.urlsplit(record.get("action", "")).path == tv.HANGUP_PATH


def test_an_uploaded_greeting_is_played_from_its_url_instead_of_spoken() -> None:
    recorded = replace(GREETING, recording_key="greetings/t1/01J.wav")
    url = "https://voicemail.s3.amazonaws.com/greetings/t1/01J.wav?X-Amz-Expires=300"

    root = parse_twiml(tv.voicemail_twiml(CALL_ID, recorded, 90, PUBLIC_BASE_URL, greeting_url=url))

    assert [child.tag for child in root] == ["Play", "Record", "Hangup"]
    assert root.findtext("Play") == url


def test_click_to_call_bridges_the_client_under_the_business_number() -> None:
    root = parse_twiml(
        tv.bridge_twiml(CALL_ID, "user-a", BUSINESS_NUMBER, CLINICIAN_CELL, PUBLIC_BASE_URL)
    )

    dial = root.find("Dial")
    assert dial is not None and dial.get("callerId") == BUSINESS_NUMBER
    assert dial.findtext("Number") == CLINICIAN_CELL
    assert not any(
        _DIGIT_RUN.search(u)
        for u in _urls(
            tv.bridge_twiml(CALL_ID, "u", BUSINESS_NUMBER, CLINICIAN_CELL, PUBLIC_BASE_URL)
        )
    )


def test_every_url_in_every_document_holds_ids_only() -> None:
    plan = ring_plan(RingStrategy.SIMULTANEOUS)
    documents = [
        tv.ring_twiml(plan, PUBLIC_BASE_URL),
        tv.screen_twiml(
            CALL_ID, "user-a", plan.screening_prompt, PUBLIC_BASE_URL, path=tv.SCREEN_ANSWER_PATH
        ),
        tv.voicemail_twiml(CALL_ID, GREETING, 90, PUBLIC_BASE_URL),
    ]

    urls = [u for d in documents for u in _urls(d)]

    assert urls and not any(_DIGIT_RUN.search(urllib.parse.unquote(u)) for u in urls)


def test_a_generated_url_is_exactly_what_the_handler_rebuilds_from_the_decoded_query() -> None:
    # Given a URL with several parameters, one needing encoding
    url = tv.webhook_url(
        PUBLIC_BASE_URL, tv.SCREEN_PATH, {"user": "u 1", "call": CALL_ID, "prompt": "A&B"}
    )

    # When API Gateway decodes its query (order not kept) and it is rebuilt sorted
    parts = urllib.parse.urlsplit(url)
    decoded = urllib.parse.parse_qs(parts.query)
    rebuilt = (
        f"{PUBLIC_BASE_URL}{parts.path}?{rebuild_query({k: decoded[k] for k in sorted(decoded)})}"
    )

    # Then it is the same text Twilio signed
    assert rebuilt == url


@pytest.mark.parametrize(
    ("dial_status", "accepted", "caller_gone", "expected"),
    [
        ("completed", True, False, CallOutcome.ANSWERED),
        ("completed", False, False, CallOutcome.DECLINED),  # the screen hung the leg up
        ("no-answer", False, False, CallOutcome.NO_ANSWER),
        ("busy", False, False, CallOutcome.BUSY),
        ("failed", False, False, CallOutcome.FAILED),
        ("no-answer", False, True, CallOutcome.CALLER_HUNG_UP),
        ("something-new", False, False, CallOutcome.FAILED),
    ],
)
def test_an_inbound_dial_status_maps_to_the_contracts_outcome(
    dial_status: str, accepted: bool, caller_gone: bool, expected: CallOutcome
) -> None:
    assert tv.inbound_outcome(dial_status, accepted=accepted, caller_gone=caller_gone) is expected
