"""AWS errors become ours by their code alone; AWS's message text is neither read nor kept.

The message is free text that changes between services and SDK versions, and some
(DynamoDB's ValidationException, for one) quote the request's values: PHI.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from functions.core.errors import (
    ConflictError,
    DependencyError,
    NotFoundError,
    QuietlineError,
    ThrottledError,
)
from functions.dal import aws
from tests.phi_samples import CLIENT_PHONE

pytestmark = pytest.mark.unit


def _client_error(code: str, message: str, operation: str = "PutItem") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ProvisionedThroughputExceededException", ThrottledError),
        ("ThrottlingException", ThrottledError),
        ("ConditionalCheckFailedException", ConflictError),
        ("TransactionConflictException", ConflictError),
        ("ResourceNotFoundException", NotFoundError),
        ("InternalServerError", DependencyError),
    ],
)
def test_a_client_error_maps_by_its_code(code: str, expected: type[QuietlineError]) -> None:
    # Given an AWS error whose message says nothing useful
    error = _client_error(code, "something went wrong")

    # When it is translated
    translated = aws.translate(error, "PutItem message")

    # Then the code alone chose our exception, and the message names operation and code
    assert type(translated) is expected
    assert str(translated) == f"PutItem message: {code}"


@pytest.mark.parametrize(
    "misleading",
    [
        "Rate exceeded: ThrottlingException",
        "The conditional request failed",
        "Requested resource not found",
    ],
)
def test_a_message_that_sounds_like_another_error_changes_nothing(misleading: str) -> None:
    # Given a validation error whose text reads like throttling, a lost condition or a 404
    error = _client_error("ValidationException", misleading)

    # When it is translated
    translated = aws.translate(error, "Query messages")

    # Then it is a plain dependency failure: only the code was read
    assert type(translated) is DependencyError


def test_the_aws_message_text_never_reaches_our_exception() -> None:
    # Given an AWS error that quotes a value of the request (a client's number)
    error = _client_error(
        "ValidationException",
        f"One or more parameter values were invalid: {CLIENT_PHONE} is not a number set",
    )

    # When it is translated
    translated = aws.translate(error, "UpdateItem conversation")

    # Then nothing of the message survives: not the value, not the wording
    assert CLIENT_PHONE not in str(translated)
    assert "parameter values" not in str(translated)


def test_a_connection_failure_is_a_dependency_error_named_by_its_type() -> None:
    # Given a botocore error raised before any response (no code at all)
    error = EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    # When it is translated
    translated = aws.translate(error, "GetItem tenant")

    # Then it is retryable and names the failure's type, not the endpoint
    assert type(translated) is DependencyError
    assert str(translated) == "GetItem tenant: EndpointConnectionError"
