"""Keyword replies the carriers require: a blank practice wording never silences them."""

from __future__ import annotations

from typing import Any

import pytest

from functions.core.models import TenantSettings
from functions.handlers import inbound_sns, sender
from local.apigw import LambdaContext
from tests.builders import sns_inbound
from tests.integration.conftest import Messaging
from tests.phi_samples import BUSINESS_NUMBER, CLIENT_PHONE

pytestmark = pytest.mark.integration

CONTEXT = LambdaContext("test")


def _text_and_send(messaging: Messaging, body: str) -> list[str]:
    """The client texts `body`; returns what the sender then texted back."""
    messaging.bound(inbound_sns)(
        sns_inbound(from_number=CLIENT_PHONE, to_number=BUSINESS_NUMBER, body=body), CONTEXT
    )
    event: dict[str, Any] = messaging.sqs_event(messaging.outbound_url)
    if event["Records"]:
        messaging.bound(sender)(event, CONTEXT)
    return [sms.body for sms in messaging.carrier.outbox(CLIENT_PHONE)]


@pytest.mark.parametrize("blank", ["", "   ", "\n\t"], ids=["empty", "spaces", "whitespace"])
def test_given_a_blank_help_wording_when_a_client_texts_help_then_the_default_reply_goes_out(
    messaging: Messaging, blank: str
) -> None:
    messaging.store.update_tenant_settings("harbor", TenantSettings(help_reply=blank))

    (reply,) = _text_and_send(messaging, "HELP")

    assert reply.startswith("Harbor Counseling: for help call or visit (206) 555-0100.")
    assert "Reply STOP to opt out" in reply
