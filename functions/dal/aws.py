"""boto3 clients (cached per process) and the one place ClientError codes become ours.

Clients honour AWS_ENDPOINT_URL, which is how local mode points them at moto.

Thread safety: boto3 clients are thread-safe, resources are not promised to be. Logic
runs independent calls at once (functions/core/concurrency.py), so the DAL calls a
table through `TableClient` (the Table resource's own client, which keeps the resource's
Python-type (de)serialization) and passes expressions as strings with explicit
placeholders. Never pass `Key(...)`/`Attr(...)` condition objects: boto3 builds them with
one unlocked placeholder counter per resource, which a concurrent call resets mid-build.
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

# Standard retry mode backs off on throttling and 5xx. A thread page's KMS Decrypts run
# in one wave (up to MAX_PAGE_SIZE at once): one connection each, so none waits for one.
MAX_PARALLEL_CALLS = 100
_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4}, max_pool_connections=MAX_PARALLEL_CALLS
)

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


class TableClient:
    """One table through its resource's low-level client (thread-safe), name filled in."""

    def __init__(self, table: Any) -> None:
        self._client = table.meta.client
        self.name: str = table.name

    def get_item(self, **request: Any) -> Any:
        return self._client.get_item(TableName=self.name, **request)

    def put_item(self, **request: Any) -> Any:
        return self._client.put_item(TableName=self.name, **request)

    def update_item(self, **request: Any) -> Any:
        return self._client.update_item(TableName=self.name, **request)

    def delete_item(self, **request: Any) -> Any:
        return self._client.delete_item(TableName=self.name, **request)

    def query(self, **request: Any) -> Any:
        return self._client.query(TableName=self.name, **request)

    def transact_write_items(self, **request: Any) -> Any:
        return self._client.transact_write_items(**request)


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
