"""The SIP rule custom resource: CloudFormation requests -> chime-sdk-voice calls (Stubber)
-> the answer CloudFormation gets; nothing of the number in what it logs or answers."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from functions.carriers.chime_sip_rule import on_event

pytestmark = pytest.mark.unit

NUMBER = "+12065550123"
PROPERTIES = {
    "Name": "Quietline-voice-0",
    "PhoneNumber": NUMBER,
    "SipMediaApplicationId": "sma-1",
    "AwsRegion": "us-east-1",
}
TARGETS = [{"SipMediaApplicationId": "sma-1", "Priority": 1, "AwsRegion": "us-east-1"}]


def _event(kind: str, **extra: Any) -> dict[str, Any]:
    return {
        "RequestType": kind,
        "ResponseURL": "https://cloudformation-custom-resource-response.example/put",
        "StackId": "stack-1",
        "RequestId": "req-1",
        "LogicalResourceId": "VoiceSipRule0",
        "ResourceProperties": PROPERTIES,
        **extra,
    }


def _run(event: dict[str, Any], stub_setup: Any) -> tuple[str, str, str]:
    client = boto3.client(
        "chime-sdk-voice",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    answers: list[tuple[str, str, str]] = []
    with Stubber(client) as stub:
        stub_setup(stub)
        on_event(
            event,
            None,
            client_factory=lambda: client,
            respond=lambda _e, status, pid, reason: answers.append((status, pid, reason)),
        )
        stub.assert_no_pending_responses()
    (answer,) = answers
    return answer


def test_create_makes_a_to_phone_number_rule_for_our_sma() -> None:
    def setup(stub: Stubber) -> None:
        stub.add_response(
            "create_sip_rule",
            {"SipRule": {"SipRuleId": "rule-9"}},
            {
                "Name": "Quietline-voice-0",
                "TriggerType": "ToPhoneNumber",
                "TriggerValue": NUMBER,
                "Disabled": False,
                "TargetApplications": TARGETS,
            },
        )

    assert _run(_event("Create"), setup) == ("SUCCESS", "rule-9", "")


def test_delete_disables_then_deletes_the_rule_and_never_the_number() -> None:
    def setup(stub: Stubber) -> None:
        stub.add_response(
            "update_sip_rule",
            {"SipRule": {"SipRuleId": "rule-9"}},
            {
                "SipRuleId": "rule-9",
                "Disabled": True,
                "Name": "Quietline-voice-0",
                "TargetApplications": TARGETS,
            },
        )
        stub.add_response("delete_sip_rule", {}, {"SipRuleId": "rule-9"})

    assert _run(_event("Delete", PhysicalResourceId="rule-9"), setup) == ("SUCCESS", "rule-9", "")


def test_a_refused_create_fails_the_resource_without_the_number_in_the_reason() -> None:
    def setup(stub: Stubber) -> None:
        stub.add_client_error("create_sip_rule", "BadRequestException", http_status_code=400)

    status, _, reason = _run(_event("Create"), setup)
    assert status == "FAILED"
    assert reason == "BadRequestException"
    assert NUMBER not in reason
