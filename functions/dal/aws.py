"""boto3 clients (cached per process) and the one place ClientError codes become ours.

Clients honour AWS_ENDPOINT_URL, which is how local mode points them at moto.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from functions.core.errors import (
    ConflictError,
    DependencyError,
    NotFoundError,
    QuietlineError,
    ThrottledError,
)

# Standard retry mode backs off on throttling and 5xx; pool sized for parallel decrypts.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, max_pool_connections=32)

THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "LimitExceededException",
    }
)
CONFLICT_CODES = frozenset({"ConditionalCheckFailedException", "TransactionConflictException"})
NOT_FOUND_CODES = frozenset({"ResourceNotFoundException", "NotFoundException"})


@cache
def client(service: str) -> Any:
    return boto3.client(service, config=_CONFIG)  # type: ignore[call-overload]


@cache
def dynamodb_table(table_name: str) -> Any:
    return boto3.resource("dynamodb", config=_CONFIG).Table(table_name)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def translate(error: ClientError | BotoCoreError, operation: str) -> QuietlineError:
    """Map an AWS error to our exception by its code, never by its message text."""
    if isinstance(error, BotoCoreError):
        return DependencyError(f"{operation}: {type(error).__name__}")
    code = error_code(error)
    if code in THROTTLING_CODES:
        return ThrottledError(f"{operation}: {code}")
    if code in CONFLICT_CODES:
        return ConflictError(f"{operation}: {code}")
    if code in NOT_FOUND_CODES:
        return NotFoundError(f"{operation}: {code}")
    return DependencyError(f"{operation}: {code or 'unknown error'}")
