"""The Twilio voice adapter against a REST API on 127.0.0.1 standing in for api.twilio.com:
the recording callback (fetch with basic auth, hand over, delete), its retries, click-to-call."""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from functions.carriers import twilio_voice as tv
from functions.core.errors import TransientCarrierError
from functions.core.voice import OutboundCallRequest
from functions.handlers import twilio_voice
from local.apigw import LambdaContext
from tests.builders import PUBLIC_BASE_URL
from tests.phi_samples import BUSINESS_NUMBER, CLIENT_PHONE
from tests.twilio_voice_fakes import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CALL_ID,
    CLINICIAN_CELL,
    RECORDING_SID,
    FakeTwilioApi,
    FakeVoiceService,
    Reply,
    VoiceRuntime,
    call_form,
    fake_twilio_api,
    post_to,
)

pytestmark = pytest.mark.integration

AUDIO = b"ID3" + bytes(range(256)) * 8
RECORDING_URL = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING_SID}"
_BASIC = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()


@pytest.fixture
def api() -> Iterator[FakeTwilioApi]:
    with fake_twilio_api() as api:
        yield api


def _callback(api: FakeTwilioApi, service: FakeVoiceService, **form: str) -> dict[str, Any]:
    runtime = VoiceRuntime(service, api_base_url=api.base_url)
    service.carrier = runtime.voice_carrier()
    url = tv.webhook_url(PUBLIC_BASE_URL, tv.RECORDING_PATH, {"call": CALL_ID})
    fields = call_form(
        **{
            "RecordingSid": RECORDING_SID,
            "RecordingStatus": "completed",
            "RecordingDuration": "42",
            "RecordingUrl": f"https://api.twilio.com{RECORDING_URL}",
            **form,
        }
    )
    event = post_to(url + "#" + tv.RECORDING_RETRY_FRAGMENT, fields)
    response: dict[str, Any] = twilio_voice.handler.bound(runtime)(event, LambdaContext("voice"))
    return response


def test_a_finished_recording_is_fetched_with_basic_auth_handed_over_then_deleted(
    api: FakeTwilioApi,
) -> None:
    # Given Twilio holds the recording
    api.replies.extend([Reply(200, AUDIO, "audio/mpeg"), Reply(204)])
    service = FakeVoiceService()

    # When its status callback arrives
    response = _callback(api, service)

    # Then the audio was fetched as MP3 with our credentials, stored, and deleted at Twilio
    assert response["statusCode"] == 200
    assert [(s.method, s.path, s.authorization) for s in api.seen] == [
        ("GET", RECORDING_URL + ".mp3", _BASIC),
        ("DELETE", RECORDING_URL + ".json", _BASIC),
    ]
    recording = service.recordings[0]
    assert (recording.audio, recording.content_type, recording.duration_seconds) == (
        AUDIO,
        "audio/mpeg",
        42,
    )
    assert recording.carrier_recording_id == RECORDING_SID


def test_a_failed_fetch_answers_5xx_so_twilio_retries_and_nothing_is_stored_or_deleted(
    api: FakeTwilioApi,
) -> None:
    api.replies.append(Reply(503, b'{"code": 20500}'))
    service = FakeVoiceService()

    response = _callback(api, service)

    assert response["statusCode"] == 503
    assert service.stored == {}
    assert [s.method for s in api.seen] == ["GET"]


def test_a_failed_delete_answers_5xx_and_the_retry_stores_once_and_deletes(
    api: FakeTwilioApi,
) -> None:
    # Given the first callback stored the voicemail but Twilio's delete failed
    api.replies.extend(
        [Reply(200, AUDIO, "audio/mpeg"), Reply(500), Reply(200, AUDIO, "audio/mpeg"), Reply(204)]
    )
    service = FakeVoiceService()
    first = _callback(api, service)

    # When Twilio calls again
    second = _callback(api, service)

    # Then the voicemail is stored once and Twilio's copy is gone
    assert (first["statusCode"], second["statusCode"]) == (503, 200)
    assert service.stored == {CALL_ID: AUDIO}
    assert [s.method for s in api.seen] == ["GET", "DELETE", "GET", "DELETE"]


def test_a_duplicate_callback_after_the_delete_finds_it_gone_and_stores_nothing_new(
    api: FakeTwilioApi,
) -> None:
    api.replies.extend([Reply(200, AUDIO, "audio/mpeg"), Reply(204), Reply(404, b"{}")])
    service = FakeVoiceService()

    responses = [_callback(api, service)["statusCode"] for _ in range(2)]

    assert responses == [200, 200]
    assert len(service.recordings) == 1


def test_an_absent_recording_fetches_nothing(api: FakeTwilioApi) -> None:
    service = FakeVoiceService()

    response = _callback(api, service, RecordingStatus="absent")

    assert response["statusCode"] == 200
    assert api.seen == [] and service.recordings == []


def test_click_to_call_rings_the_clinician_with_ids_only_in_every_url(api: FakeTwilioApi) -> None:
    api.replies.append(Reply(201, json.dumps({"sid": "CA" + "1" * 32}).encode()))
    carrier = tv.TwilioVoiceCarrier(
        ACCOUNT_SID, AUTH_TOKEN, api_base_url=api.base_url, webhook_base_url=PUBLIC_BASE_URL
    )
    request = OutboundCallRequest(
        CALL_ID,
        BUSINESS_NUMBER,
        "user-a",
        CLINICIAN_CELL,
        CLIENT_PHONE,
        screening_prompt="Call to a client of Harbor Counseling. Press 1 to connect.",
    )

    placed = carrier.place_call(request)

    form = api.seen[0].form
    assert placed.carrier_call_id == "CA" + "1" * 32
    assert (form["To"], form["From"]) == ([CLINICIAN_CELL], [BUSINESS_NUMBER])
    assert CLIENT_PHONE not in json.dumps(form)  # the client is dialled only after acceptance
    urls = re.findall(r'https://[^"]+', form["Twiml"][0]) + form["StatusCallback"]
    assert not any(re.search(r"\d{7,}", urllib.parse.unquote(u)) for u in urls)


def test_an_unreachable_twilio_is_a_transient_failure() -> None:
    carrier = tv.TwilioVoiceCarrier(ACCOUNT_SID, AUTH_TOKEN, api_base_url="http://127.0.0.1:9")

    with pytest.raises(TransientCarrierError):
        carrier.fetch_recording(RECORDING_SID)
