"""Click-to-call through chime-sdk-voice CreateSipMediaApplicationCall, checked with
botocore's Stubber against the real service model."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from functions.carriers.chime_voice_aws import ChimeVoiceCarrier, S3StagingObjects
from functions.core.errors import PermanentCarrierError, TransientCarrierError
from functions.core.voice import OutboundCallRequest
from tests.phi_samples import BUSINESS_NUMBER, CLIENT_PHONE

pytestmark = pytest.mark.unit

SMA_ID = "c0a2f6e4-1b7e-4d4b-8d3e-2a3f0b5f9e21"
CALL_ID = "tenant-1/conv-1/call-1"
CELL = "+12065550177"


def _client() -> Any:
    return boto3.client(
        "chime-sdk-voice",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _request() -> OutboundCallRequest:
    return OutboundCallRequest(CALL_ID, BUSINESS_NUMBER, "user-c", CELL, CLIENT_PHONE)


def _carrier(client: Any) -> ChimeVoiceCarrier:
    return ChimeVoiceCarrier(client, SMA_ID, S3StagingObjects("staging", None))


def test_a_click_to_call_rings_the_clinician_from_the_business_number_with_only_our_id() -> None:
    # Given chime-sdk-voice accepts exactly this request (and no client number in it)
    client = _client()
    with Stubber(client) as stub:
        stub.add_response(
            "create_sip_media_application_call",
            {"SipMediaApplicationCall": {"TransactionId": "tx-42"}},
            {
                "FromPhoneNumber": BUSINESS_NUMBER,
                "ToPhoneNumber": CELL,
                "SipMediaApplicationId": SMA_ID,
                "ArgumentsMap": {"call_id": CALL_ID},
            },
        )
        # When the service places the call
        placed = _carrier(client).place_call(_request())
        # Then Chime's transaction id comes back as the carrier's call id
        stub.assert_no_pending_responses()
    assert placed.carrier_call_id == "tx-42"


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ThrottledClientException", 429, TransientCarrierError),
        ("ServiceFailureException", 500, TransientCarrierError),
        ("BadRequestException", 400, PermanentCarrierError),
        ("AccessDeniedException", 403, PermanentCarrierError),
    ],
)
def test_chime_errors_become_carrier_errors_by_code(
    code: str, status: int, expected: type[Exception]
) -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_client_error(
            "create_sip_media_application_call", service_error_code=code, http_status_code=status
        )
        with pytest.raises(expected) as caught:
            _carrier(client).place_call(_request())
    assert CELL not in str(caught.value)
    assert CLIENT_PHONE not in str(caught.value)
