"""CloudFormation refuses a stack of more than 500 resources: the largest configurations a
practice may choose must stay under it (CDK fails the synth at 501)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra.stack import QuietlineStack
from tests.infra.conftest import ACCOUNT, REGION, make_config, plain_app
from tests.infra.test_twilio_voice import TWILIO_VOICE
from tests.infra.test_voice import VOICE

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth")]

CLOUDFORMATION_MAX_RESOURCES = 500
WAF = {"waf": {"enabled": True}}
EMAILS = {"staff_notification_emails": ["frontdesk@harbor-counseling.example"]}
LARGEST: dict[str, dict[str, Any]] = {
    # Twilio cannot run inside the VPC (no route to Twilio), so these are the two largest.
    "aws carrier, voice, VPC, WAF, e-mail": {**VOICE, "vpc": {"enabled": True}, **WAF, **EMAILS},
    "twilio carrier, voice, WAF, e-mail": {**TWILIO_VOICE, **WAF, **EMAILS},
}


@pytest.mark.parametrize("overrides", LARGEST.values(), ids=list(LARGEST))
def test_the_largest_configurations_fit_in_one_stack(overrides: dict[str, Any]) -> None:
    stack = QuietlineStack(
        plain_app(),
        "Quietline",
        config=make_config(**overrides),
        env=cdk.Environment(account=ACCOUNT, region=REGION),
    )

    resources = Template.from_stack(stack).to_json()["Resources"]

    assert len(resources) < CLOUDFORMATION_MAX_RESOURCES
