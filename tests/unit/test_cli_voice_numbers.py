"""`quietline numbers voice` prints the Chime SDK set-up and touches nothing."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cli.main import main

pytestmark = pytest.mark.unit


def test_the_voice_steps_order_a_sip_media_application_dial_in_number() -> None:
    # When the operator asks how to get a voice number for a tenant
    result = CliRunner().invoke(
        main, ["numbers", "voice", "--tenant", "harbor", "--area-code", "206"]
    )
    # Then the steps order the product type SIP rules can route, in that area code
    assert result.exit_code == 0, result.output
    assert "--product-type SipMediaApplicationDialIn" in result.output
    assert "--area-code 206" in result.output
    # and say plainly that the SMS number cannot carry the calls, and what the stack does
    assert "cannot take Chime SDK calls" in result.output
    assert "SIP rule" in result.output
    assert "tenant 'harbor'" in result.output
