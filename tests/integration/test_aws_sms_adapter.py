"""The AWS End User Messaging SMS adapter against botocore's Stubber.

moto does not implement pinpoint-sms-voice-v2; the Stubber validates every request
against the real service model, so a wrong parameter name or shape fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError, ParamValidationError, ReadTimeoutError
from botocore.stub import Stubber

from functions.carriers.aws_sms import AwsSmsCarrier
from functions.carriers.models import OutboundSms
from functions.core.errors import CarrierError, PermanentCarrierError, TransientCarrierError
from tests.phi_samples import BODY, BUSINESS_NUMBER, CLIENT_PHONE

pytestmark = pytest.mark.integration

SMS = OutboundSms(
    origination_number=BUSINESS_NUMBER,
    destination_number=CLIENT_PHONE,
    body=BODY,
    message_id="harbor/conv-1/01JDQ3Z8Y5K2M4N6P8R0S2T4V6",
    tenant_id="harbor",
)
EXPECTED_PARAMS = {
    "DestinationPhoneNumber": CLIENT_PHONE,
    "OriginationIdentity": BUSINESS_NUMBER,
    "MessageBody": BODY,
    "MessageType": "TRANSACTIONAL",
    "ConfigurationSetName": "quietline-events",
    "Context": {
        "quietline_message_id": "harbor/conv-1/01JDQ3Z8Y5K2M4N6P8R0S2T4V6",
        "tenant_id": "harbor",
    },
}


@pytest.fixture
def sms_client() -> Any:
    return boto3.client("pinpoint-sms-voice-v2", region_name="us-east-1")


@pytest.fixture
def stubber(sms_client: Any) -> Iterator[Stubber]:
    with Stubber(sms_client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def test_given_a_configuration_set_when_sent_then_the_exact_request_goes_out(
    sms_client: Any, stubber: Stubber
) -> None:
    stubber.add_response("send_text_message", {"MessageId": "aws-msg-1"}, EXPECTED_PARAMS)

    result = AwsSmsCarrier(sms_client, "quietline-events").send(SMS)

    assert result.carrier_message_id == "aws-msg-1"


def test_given_no_configuration_set_when_sent_then_the_parameter_is_left_out(
    sms_client: Any, stubber: Stubber
) -> None:
    expected = {k: v for k, v in EXPECTED_PARAMS.items() if k != "ConfigurationSetName"}
    stubber.add_response("send_text_message", {"MessageId": "aws-msg-2"}, expected)

    AwsSmsCarrier(sms_client, configuration_set=None).send(SMS)


def test_given_a_send_when_built_then_context_carries_our_message_id_and_tenant() -> None:
    request = AwsSmsCarrier(object(), None).send_request(SMS)

    assert request["Context"] == {
        "quietline_message_id": SMS.message_id,
        "tenant_id": "harbor",
    }
    assert request["MessageType"] == "TRANSACTIONAL"


class ErrorCase(NamedTuple):
    code: str
    http_status: int
    modeled: dict[str, str]
    error_type: type[CarrierError]
    reason: str
    opted_out: bool = False


ERROR_CASES = [
    ErrorCase("ThrottlingException", 400, {}, TransientCarrierError, "ThrottlingException"),
    ErrorCase(
        "InternalServerException",
        500,
        {"RequestId": "r-1"},
        TransientCarrierError,
        "InternalServerException",
    ),
    ErrorCase("ServiceUnavailable", 503, {}, TransientCarrierError, "ServiceUnavailable"),
    ErrorCase("SomethingNewAndBroken", 502, {}, TransientCarrierError, "SomethingNewAndBroken"),
    ErrorCase(
        "ValidationException",
        400,
        {"Reason": "INVALID_PARAMETER"},
        PermanentCarrierError,
        "ValidationException:INVALID_PARAMETER",
    ),
    ErrorCase("ValidationException", 400, {}, PermanentCarrierError, "ValidationException"),
    ErrorCase(
        "ConflictException",
        400,
        {
            "Reason": "DESTINATION_PHONE_NUMBER_OPTED_OUT",
            "ResourceType": "opt-out-list",
            "ResourceId": "Default",
        },
        PermanentCarrierError,
        "ConflictException:DESTINATION_PHONE_NUMBER_OPTED_OUT",
        opted_out=True,
    ),
    ErrorCase(
        "AccessDeniedException",
        400,
        {"Reason": "ACCOUNT_DISABLED"},
        PermanentCarrierError,
        "AccessDeniedException:ACCOUNT_DISABLED",
    ),
    ErrorCase(
        "ResourceNotFoundException",
        400,
        {"ResourceType": "configuration-set", "ResourceId": "quietline-events"},
        PermanentCarrierError,
        "ResourceNotFoundException",
    ),
    # A monthly spend limit will not lift within any retry window: fail visibly instead.
    ErrorCase(
        "ServiceQuotaExceededException",
        400,
        {"Reason": "MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT"},
        PermanentCarrierError,
        "ServiceQuotaExceededException:MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT",
    ),
]


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda case: case.reason)
def test_given_an_aws_error_when_sent_then_it_maps_by_code_to_retry_or_fail(
    sms_client: Any, stubber: Stubber, case: ErrorCase
) -> None:
    stubber.add_client_error(
        "send_text_message",
        service_error_code=case.code,
        service_message="Destination is not allowed",
        http_status_code=case.http_status,
        expected_params=EXPECTED_PARAMS,
        modeled_fields=case.modeled,
    )

    with pytest.raises(case.error_type) as caught:
        AwsSmsCarrier(sms_client, "quietline-events").send(SMS)

    assert caught.value.reason == case.reason
    assert getattr(caught.value, "recipient_opted_out", False) is case.opted_out


def test_given_an_error_message_quoting_the_number_when_mapped_then_it_is_not_repeated(
    sms_client: Any, stubber: Stubber
) -> None:
    stubber.add_client_error(
        "send_text_message",
        service_error_code="ValidationException",
        service_message=f"Destination {CLIENT_PHONE} is not valid: {BODY}",
        http_status_code=400,
        modeled_fields={"Reason": "INVALID_PARAMETER"},
    )

    with pytest.raises(PermanentCarrierError) as caught:
        AwsSmsCarrier(sms_client, "quietline-events").send(SMS)

    assert CLIENT_PHONE not in str(caught.value)
    assert BODY not in str(caught.value)


def test_given_a_reason_that_is_not_an_enum_when_mapped_then_it_is_dropped(
    sms_client: Any, stubber: Stubber
) -> None:
    stubber.add_client_error(
        "send_text_message",
        service_error_code="ValidationException",
        http_status_code=400,
        modeled_fields={"Reason": f"bad number {CLIENT_PHONE}"},
    )

    with pytest.raises(PermanentCarrierError) as caught:
        AwsSmsCarrier(sms_client, "quietline-events").send(SMS)

    assert caught.value.reason == "ValidationException"


class _RaisingClient:
    """Stands in for a client whose call fails before any AWS answer arrives."""

    def __init__(self, error: Exception) -> None:
        self._error = error

    def send_text_message(self, **_: Any) -> dict[str, Any]:
        raise self._error


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="https://sms-voice.us-east-1.amazonaws.com"),
        ReadTimeoutError(endpoint_url="https://sms-voice.us-east-1.amazonaws.com"),
    ],
)
def test_given_a_connection_failure_when_sent_then_it_is_transient(error: Exception) -> None:
    with pytest.raises(TransientCarrierError) as caught:
        AwsSmsCarrier(_RaisingClient(error)).send(SMS)

    assert caught.value.reason == type(error).__name__


def test_given_a_request_botocore_rejects_locally_when_sent_then_it_is_permanent() -> None:
    error = ParamValidationError(report=f"Invalid value {CLIENT_PHONE}")

    with pytest.raises(PermanentCarrierError) as caught:
        AwsSmsCarrier(_RaisingClient(error)).send(SMS)

    assert caught.value.reason == "ParamValidationError"
    assert CLIENT_PHONE not in str(caught.value)
