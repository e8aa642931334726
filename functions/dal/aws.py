"""boto3 clients (one set per container) and the one place ClientError codes become ours.

A container gets its own `AwsClients`: a deployed function the default chain (its role,
its region); local mode, the CLI and the bench an explicit endpoint and credentials, so
nothing points boto3 somewhere by rewriting the process environment.

Thread safety: boto3 clients are thread-safe, resources are not promised to be. The DAL
runs independent calls at once (functions/dal/store/waves.py), so it calls a
table through `TableClient` (the Table resource's own client, which keeps the resource's
Python-type (de)serialization) and passes expressions as strings with explicit
placeholders. Never pass `Key(...)`/`Attr(...)` condition objects: boto3 builds them with
one unlocked placeholder counter per resource, which a concurrent call resets mid-build.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class AwsTarget:
    """Where calls go: None everywhere means boto3's default chain (a deployed function)."""

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None


class AwsClients:
    """Thread-safe clients for one target, each built on first use and then shared."""

    def __init__(self, target: AwsTarget | None = None) -> None:
        self.target = target or AwsTarget()
        self._session = boto3.session.Session(
            aws_access_key_id=self.target.access_key_id,
            aws_secret_access_key=self.target.secret_access_key,
            region_name=self.target.region,
        )
        self._built: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def events(self) -> Any:
        """The session's event hooks: every client built here calls them (local mode's
        KMS key-state emulation registers on them)."""
        return self._session.events

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._built:
                self._built[service] = self._session.client(  # type: ignore[call-overload]
                    service, config=_CONFIG, endpoint_url=self.target.endpoint_url
                )
            return self._built[service]

    def client_at(self, service: str, endpoint_url: str) -> Any:
        """A client for a service with its own per-resource endpoint (a WebSocket API's
        management endpoint); local mode's endpoint, when set, still wins."""
        with self._lock:
            key = f"{service}@{endpoint_url}"
            if key not in self._built:
                self._built[key] = self._session.client(  # type: ignore[call-overload]
                    service, config=_CONFIG, endpoint_url=self.target.endpoint_url or endpoint_url
                )
            return self._built[key]

    def s3_presigner(self) -> Any:
        """An S3 client for presigned URLs only: SigV4 always (boto3 may presign SigV2,
        which S3 refuses for SSE-KMS objects)."""
        with self._lock:
            if "s3:presign" not in self._built:
                self._built["s3:presign"] = self._session.client(  # type: ignore[call-overload]
                    "s3",
                    config=_CONFIG.merge(Config(signature_version="s3v4")),
                    endpoint_url=self.target.endpoint_url,
                )
            return self._built["s3:presign"]

    def table(self, table_name: str) -> Any:
        with self._lock:
            key = f"table:{table_name}"
            if key not in self._built:
                resource = self._session.resource(  # type: ignore[call-overload]
                    "dynamodb", config=_CONFIG, endpoint_url=self.target.endpoint_url
                )
                self._built[key] = resource.Table(table_name)
            return self._built[key]


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

    def batch_get_item(self, **request: Any) -> Any:
        return self._client.batch_get_item(**request)  # RequestItems are keyed by self.name

    def transact_write_items(self, **request: Any) -> Any:
        return self._client.transact_write_items(**request)


def query_items(
    query: Callable[..., Any], request: dict[str, Any], operation: str
) -> Iterator[dict[str, Any]]:
    """Every item a DynamoDB Query answers, page after page (`query`: a table's or a
    TableClient's), AWS errors translated naming `operation`, never a value."""
    page = dict(request)
    while True:
        try:
            response = query(**page)
        except (ClientError, BotoCoreError) as error:
            raise translate(error, operation) from None
        yield from response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return
        page["ExclusiveStartKey"] = response["LastEvaluatedKey"]


class TableStore:
    """A small data-access class over one table: its calls' AWS errors become ours,
    naming the operation and `WHAT` it touches (never a key or a value)."""

    WHAT = "items"

    def __init__(self, table: Any) -> None:
        self._table = TableClient(table)

    def _call(self, operation: str, **request: Any) -> Any:
        try:
            return getattr(self._table, operation)(**request)
        except (ClientError, BotoCoreError) as error:
            raise translate(error, f"{operation} {self.WHAT}") from None

    def _query_all(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        return query_items(self._table.query, request, f"query {self.WHAT}")


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
