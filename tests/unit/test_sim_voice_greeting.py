"""The local voice driver's answers say whether the caller would hear the practice's
uploaded greeting or the text spoken (docs/voice.md, "Greeting recordings")."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from functions.core.voice import CallPlan, CallReport, Greeting, NextAction, NextStep, PlanAction
from local.sim_voice import FINISHED_PATH, INCOMING_PATH, SimulatedVoiceCarrier, VoiceDriver
from tests.phi_samples import BUSINESS_NUMBER, CLIENT_PHONE

pytestmark = pytest.mark.unit

CALL_ID = "t-harbor/01JCONV/01JCALL"
RECORDED = Greeting("Harbor Counseling, please leave a message.", "greetings/t-harbor/01J.wav")
SPOKEN = Greeting("Harbor Counseling, please leave a message.")


@dataclass
class _Service:
    greeting: Greeting

    def incoming_call(self, call: Any) -> CallPlan:
        return CallPlan(CALL_ID, PlanAction.VOICEMAIL, greeting=self.greeting)

    def call_finished(self, report: CallReport) -> NextStep:
        return NextStep(NextAction.VOICEMAIL, greeting=self.greeting, max_voicemail_seconds=60)


@dataclass
class _Runtime:
    service: _Service

    def voice_service(self) -> Any:
        return self.service


def _post(greeting: Greeting, path: str, body: dict[str, Any]) -> dict[str, Any]:
    driver = VoiceDriver(_Runtime(_Service(greeting)), SimulatedVoiceCarrier())
    event = {"httpMethod": "POST", "resource": path, "body": json.dumps(body)}
    response = driver.handler(event, None)
    assert response["statusCode"] == 200, response["body"]
    answer: dict[str, Any] = json.loads(response["body"])
    return answer


@pytest.mark.parametrize(("greeting", "recorded"), [(RECORDED, True), (SPOKEN, False)])
def test_the_incoming_plan_says_whether_the_recording_plays(
    greeting: Greeting, recorded: bool
) -> None:
    answer = _post(greeting, INCOMING_PATH, {"from": CLIENT_PHONE, "to": BUSINESS_NUMBER})
    assert answer["greeting_recording"] is recorded


@pytest.mark.parametrize(("greeting", "recorded"), [(RECORDED, True), (SPOKEN, False)])
def test_the_voicemail_step_says_whether_the_recording_plays(
    greeting: Greeting, recorded: bool
) -> None:
    answer = _post(greeting, FINISHED_PATH, {"call_id": CALL_ID, "outcome": "no_answer"})
    assert answer["greeting_recording"] is recorded
