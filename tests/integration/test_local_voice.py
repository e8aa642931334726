"""Voice in `make run`'s runtime: the simulated voice carrier driven over the local-only
routes, the staff API answering as in AWS (issue #14, "Local mode")."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.demo_seed import DEMO_VOICEMAIL_CALLER
from local.identity import DemoUser, sign_in
from local.process import RuntimeDidNotStart, RuntimeProcess
from local.sim_voice import (
    ANSWER_PATH,
    CALLS_PATH,
    FINISHED_PATH,
    HANGUP_PATH,
    INCOMING_PATH,
    PLACED_PATH,
    SCREEN_PATH,
    VOICEMAIL_PATH,
    tone_wav,
)
from tests.conftest import phi_found

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local-runtime")]

MISSED_CALLER = "+12065550186"  # fictional (555-01xx)
CLICK_TO_CALL_CLIENT = "+12065550189"
ANSWERED_CALLER = "+12065550187"
BRIDGED_CLIENT = "+12065550188"
DEMO_CELL_E164 = "+12065550142"  # local/demo_seed.py's "(206) 555-0142"


@pytest.fixture(scope="module")
def local_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    runtime = RuntimeProcess(tmp_path_factory.mktemp("quietline-voice-state"))
    try:
        state = runtime.start(timeout=60)
    except RuntimeDidNotStart as error:
        pytest.fail(str(error))
    yield state
    runtime.stop()
    output = runtime.log()
    assert "seeded voice settings and a demo voicemail" in output
    assert phi_found(output) == [], "the local runtime logged PHI while playing calls"


def _request(
    method: str, url: str, body: Any = None, token: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": token} if token else {})},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _json(method: str, url: str, body: Any = None, token: str | None = None) -> Any:
    status, _, raw = _request(method, url, body, token)
    assert 200 <= status < 300, (method, url.rsplit("/", 2)[-2:], status)
    return json.loads(raw) if raw else None


@pytest.fixture(scope="module")
def tokens(local_state: dict[str, Any]) -> dict[str, str]:
    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name=local_state["region"]
    )
    cognito = session.client("cognito-idp", endpoint_url=local_state["aws_endpoint_url"])
    return {
        user["role"]: sign_in(cognito, local_state["user_pool_client_id"], DemoUser(**user))[
            "IdToken"
        ]
        for user in local_state["users"]
        if user["tenant_id"] == local_state["tenant_id"]
    }


def _call_a_client_in(local_state: dict[str, Any], caller: str) -> dict[str, Any]:
    return dict(
        _json(
            "POST",
            local_state["base_url"] + INCOMING_PATH,
            {"from": caller, "to": local_state["business_number"]},
        )
    )


def test_a_missed_call_leaves_a_voicemail_the_clinician_plays_through_the_api(
    local_state: dict[str, Any], tokens: dict[str, str]
) -> None:
    # Given a client calls the business number and the routed clinician's cell is rung
    base = local_state["base_url"]
    plan = _call_a_client_in(local_state, MISSED_CALLER)
    clinician_id = _json("GET", base + "/me", token=tokens["clinician"])["user_id"]
    assert plan["action"] == "ring" and plan["targets"] == [clinician_id]
    # When nobody answers and the caller leaves a 2-second message
    step = _json("POST", base + FINISHED_PATH, {"call_id": plan["call_id"], "outcome": "no_answer"})
    assert step["action"] == "voicemail"
    _json("POST", base + VOICEMAIL_PATH, {"call_id": plan["call_id"], "seconds": 2})
    # Then the thread's call log shows the missed call with its voicemail
    _, conversation_id, call_id = plan["call_id"].split("/")
    calls = _json("GET", f"{base}/conversations/{conversation_id}/calls", token=tokens["clinician"])
    call = next(c for c in calls["items"] if c["call_id"] == call_id)
    assert call["outcome"] == "no_answer" and call["status"] == "voicemail"
    assert call["voicemail"] == {"duration_seconds": 2, "content_type": "audio/wav"}
    # And playing it returns the recorded audio, uncacheable
    status, headers, audio = _request(
        "GET",
        f"{base}/conversations/{conversation_id}/calls/{call_id}/voicemail",
        token=tokens["clinician"],
    )
    assert status == 200
    assert audio == tone_wav(2)
    assert headers["Cache-Control"] == "no-store"
    assert headers["Content-Type"] == "audio/wav"


def test_click_to_call_places_the_clinicians_leg_then_the_clients_under_the_business_number(
    local_state: dict[str, Any], tokens: dict[str, str]
) -> None:
    # Given a client's thread (opened by their call, answered by the clinician)
    base = local_state["base_url"]
    plan = _call_a_client_in(local_state, CLICK_TO_CALL_CLIENT)
    _json(
        "POST",
        base + FINISHED_PATH,
        {"call_id": plan["call_id"], "outcome": "caller_hung_up"},
    )
    conversation_id = plan["call_id"].split("/")[1]
    # When the clinician presses "Call" in that thread
    placed_call = _json(
        "POST", f"{base}/conversations/{conversation_id}/calls", token=tokens["clinician"]
    )
    # Then the simulated carrier rang the clinician's own cell first, then the client,
    # both showing the business number
    placed = _json("GET", base + PLACED_PATH)
    ours = [p for p in placed if p["call_id"].endswith("/" + placed_call["call_id"])]
    assert len(ours) == 1
    legs = ours[0]["legs"]
    business = local_state["business_number"]
    assert legs == [
        {"to": DEMO_CELL_E164, "caller_id": business, "role": "clinician"},
        {"to": CLICK_TO_CALL_CLIENT, "caller_id": business, "role": "client"},
    ]
    assert placed_call["direction"] == "outbound" and placed_call["status"] == "ringing"


def test_a_fresh_start_seeds_voice_settings_and_a_demo_voicemail(
    local_state: dict[str, Any], tokens: dict[str, str]
) -> None:
    # Given a fresh start of local mode
    base = local_state["base_url"]
    # When the admin reads the voice settings and the clinician reads the demo client's calls
    settings = _json("GET", base + "/voice-settings", token=tokens["admin"])
    clinician_id = _json("GET", base + "/me", token=tokens["clinician"])["user_id"]
    plan = _call_a_client_in(local_state, DEMO_VOICEMAIL_CALLER)  # finds the seeded thread
    conversation_id = plan["call_id"].split("/")[1]
    calls = _json("GET", f"{base}/conversations/{conversation_id}/calls", token=tokens["clinician"])
    # Then voice is on, the business number rings the demo clinician, and the seeded
    # thread already holds a voicemail
    assert settings["enabled"] is True
    assert settings["routes"][0]["business_number"] == local_state["business_number"]
    assert settings["routes"][0]["user_ids"] == [clinician_id]
    assert any(c["voicemail"] for c in calls["items"])


def test_the_voice_routes_refuse_a_malformed_call_id_naming_the_field(
    local_state: dict[str, Any],
) -> None:
    status, _, raw = _request(
        "POST",
        local_state["base_url"] + FINISHED_PATH,
        {"call_id": "not a call id", "outcome": "no_answer"},
    )
    assert status == 400
    assert json.loads(raw) == {"error": "call_id: is not a call id"}


def _sim_call(local_state: dict[str, Any], call_id: str) -> dict[str, Any]:
    calls = _json("GET", local_state["base_url"] + CALLS_PATH)
    return dict(next(c for c in calls if c["call_id"] == call_id))


def test_the_cell_rings_with_the_screen_and_an_accepted_call_hangs_up_answered(
    local_state: dict[str, Any], tokens: dict[str, str]
) -> None:
    # Given a client calls the business number
    base = local_state["base_url"]
    plan = _call_a_client_in(local_state, ANSWERED_CALLER)
    clinician_id = _json("GET", base + "/me", token=tokens["clinician"])["user_id"]
    # Then the simulated carrier lists the demo cell ringing, with the screen, under the
    # business number
    ringing = _sim_call(local_state, plan["call_id"])
    assert ringing["state"] == "ringing"
    assert ringing["caller_id"] == local_state["business_number"]
    assert ringing["prompt"].endswith("Press 1 to accept.")
    assert ringing["legs"] == [
        {"to": DEMO_CELL_E164, "role": "clinician", "user_id": clinician_id, "state": "ringing"}
    ]
    # When the clinician accepts on the cell, then the caller hangs up
    decision = _json(
        "POST",
        base + SCREEN_PATH,
        {"call_id": plan["call_id"], "user_id": clinician_id, "accepted": True},
    )
    assert decision == {"decision": "connect"}
    assert _sim_call(local_state, plan["call_id"])["state"] == "connected"
    step = _json("POST", base + HANGUP_PATH, {"call_id": plan["call_id"]})
    # Then the call ends, and the thread's call log says who answered
    assert step["action"] == "hang_up"
    assert _sim_call(local_state, plan["call_id"])["state"] == "ended"
    _, conversation_id, call_id = plan["call_id"].split("/")
    calls = _json("GET", f"{base}/conversations/{conversation_id}/calls", token=tokens["clinician"])
    call = next(c for c in calls["items"] if c["call_id"] == call_id)
    assert (call["outcome"], call["answered_by"]) == ("answered", clinician_id)


def test_everyone_declining_sends_the_caller_to_the_greeting(
    local_state: dict[str, Any], tokens: dict[str, str]
) -> None:
    base = local_state["base_url"]
    plan = _call_a_client_in(local_state, ANSWERED_CALLER)
    clinician_id = _json("GET", base + "/me", token=tokens["clinician"])["user_id"]
    # When the only rung clinician declines the screen
    _json(
        "POST",
        base + SCREEN_PATH,
        {"call_id": plan["call_id"], "user_id": clinician_id, "accepted": False},
    )
    # Then the caller is at the greeting, the cell no longer rings, and the log says declined
    call = _sim_call(local_state, plan["call_id"])
    assert (call["state"], call["outcome"]) == ("voicemail", "declined")
    assert call["greeting"] == plan["greeting"]
    assert [leg["state"] for leg in call["legs"]] == ["declined"]


def test_click_to_call_rings_the_clients_phone_once_the_clinician_accepts(
    local_state: dict[str, Any], tokens: dict[str, str]
) -> None:
    # Given a click-to-call to a client whose thread exists
    base = local_state["base_url"]
    plan = _call_a_client_in(local_state, BRIDGED_CLIENT)
    _json("POST", base + FINISHED_PATH, {"call_id": plan["call_id"], "outcome": "caller_hung_up"})
    conversation_id = plan["call_id"].split("/")[1]
    placed = _json(
        "POST", f"{base}/conversations/{conversation_id}/calls", token=tokens["clinician"]
    )
    call_id = f"{plan['call_id'].rsplit('/', 1)[0]}/{placed['call_id']}"
    clinician_id = _json("GET", base + "/me", token=tokens["clinician"])["user_id"]
    # Then only the clinician's cell rings, and the client cannot answer yet
    call = _sim_call(local_state, call_id)
    assert [(g["role"], g["state"]) for g in call["legs"]] == [("clinician", "ringing")]
    assert _request("POST", base + ANSWER_PATH, {"call_id": call_id})[0] == 404
    # When the clinician accepts, the client's phone rings under the business number
    _json(
        "POST", base + SCREEN_PATH, {"call_id": call_id, "user_id": clinician_id, "accepted": True}
    )
    call = _sim_call(local_state, call_id)
    assert call["legs"][1] == {
        "to": BRIDGED_CLIENT,
        "role": "client",
        "user_id": "",
        "state": "ringing",
    }
    # When the client answers and hangs up
    _json("POST", base + ANSWER_PATH, {"call_id": call_id})
    _json("POST", base + HANGUP_PATH, {"call_id": call_id})
    # Then the call log has it answered by the clinician who placed it
    calls = _json("GET", f"{base}/conversations/{conversation_id}/calls", token=tokens["clinician"])
    logged = next(c for c in calls["items"] if c["call_id"] == placed["call_id"])
    assert (logged["direction"], logged["outcome"]) == ("outbound", "answered")
    assert logged["answered_by"] == clinician_id


def test_a_voicemail_recorded_on_the_phone_page_is_stored_as_sent_and_junk_is_refused(
    local_state: dict[str, Any], tokens: dict[str, str]
) -> None:
    # Given a missed call waiting for a message
    base = local_state["base_url"]
    plan = _call_a_client_in(local_state, MISSED_CALLER)
    _json("POST", base + FINISHED_PATH, {"call_id": plan["call_id"], "outcome": "no_answer"})
    # When the phone page sends something that is not a WAV, then a WAV it recorded
    status, _, raw = _request(
        "POST",
        base + VOICEMAIL_PATH,
        {"call_id": plan["call_id"], "seconds": 2, "audio_base64": "bm90IGEgd2F2"},
    )
    assert (status, json.loads(raw)) == (400, {"error": "audio_base64: is not a base64 WAV file"})
    recorded = tone_wav(2, frequency=300.0)
    _json(
        "POST",
        base + VOICEMAIL_PATH,
        {
            "call_id": plan["call_id"],
            "seconds": 2,
            "audio_base64": base64.b64encode(recorded).decode(),
        },
    )
    # Then the voicemail played back is exactly that recording
    _, conversation_id, call_id = plan["call_id"].split("/")
    status, _, audio = _request(
        "GET",
        f"{base}/conversations/{conversation_id}/calls/{call_id}/voicemail",
        token=tokens["clinician"],
    )
    assert status == 200
    assert audio == recorded
