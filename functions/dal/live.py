"""Live-update tickets and open sockets, as items of the message table (ids only, with TTL).

    LIVE#TICKET#<sha256 of ticket>  TICKET          tenant_id, user_id, expires_at
    LIVE#<tenant>                   CONN#<socket>   user_id, expires_at   (fan-out reads)
    LIVESOCKET#<socket>             LIVE            tenant_id, expires_at (for $disconnect)

None of it is PHI; all of it expires through the table's TTL. A socket is written twice
because $disconnect knows only the socket's id while fan-out needs a tenant's sockets: a
second item is cheaper than a global index kept for this alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from functions.dal import aws
from functions.dal.schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from functions.dal.store._common import dynamodb
from functions.logic.live import LiveConnection

_CONNECTION_PREFIX = "CONN#"


def _ticket_key(digest: str) -> dict[str, str]:
    return {PARTITION_KEY: f"LIVE#TICKET#{digest}", SORT_KEY: "TICKET"}


def _tenant_pk(tenant_id: str) -> str:
    return f"LIVE#{tenant_id}"


def _socket_key(connection_id: str) -> dict[str, str]:
    return {PARTITION_KEY: f"LIVESOCKET#{connection_id}", SORT_KEY: "LIVE"}


class DynamoDbLiveRegistry:
    def __init__(self, table: Any) -> None:
        self._db = table

    def put_ticket(self, digest: str, tenant_id: str, user_id: str, expires_at: int) -> None:
        item = _ticket_key(digest) | {
            "tenant_id": tenant_id,
            "user_id": user_id,
            TTL_ATTRIBUTE: expires_at,
        }
        with dynamodb("PutItem live ticket"):
            self._db.put_item(Item=item)

    def take_ticket(self, digest: str) -> tuple[str, str, int] | None:
        # One DeleteItem both reads and spends the ticket: two sockets racing with one
        # ticket cannot both get its old image.
        with dynamodb("DeleteItem live ticket"):
            old = self._db.delete_item(Key=_ticket_key(digest), ReturnValues="ALL_OLD")
        item = old.get("Attributes")
        if not item:
            return None
        return str(item["tenant_id"]), str(item["user_id"]), int(item[TTL_ATTRIBUTE])

    def add_connection(self, connection: LiveConnection, expires_at: int) -> None:
        tenant_item = {
            PARTITION_KEY: _tenant_pk(connection.tenant_id),
            SORT_KEY: _CONNECTION_PREFIX + connection.connection_id,
            "user_id": connection.user_id,
            TTL_ATTRIBUTE: expires_at,
        }
        socket_item = _socket_key(connection.connection_id) | {
            "tenant_id": connection.tenant_id,
            TTL_ATTRIBUTE: expires_at,
        }
        with dynamodb("BatchWriteItem live socket"), self._db.batch_writer() as batch:
            batch.put_item(Item=tenant_item)
            batch.put_item(Item=socket_item)

    def connections(self, tenant_id: str) -> list[LiveConnection]:
        query: dict[str, Any] = {
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :conn)",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY, "#sk": SORT_KEY},
            "ExpressionAttributeValues": {
                ":pk": _tenant_pk(tenant_id),
                ":conn": _CONNECTION_PREFIX,
            },
        }
        return [
            LiveConnection(
                str(item[SORT_KEY]).removeprefix(_CONNECTION_PREFIX),
                tenant_id,
                str(item["user_id"]),
            )
            for item in aws.query_items(self._db.query, query, "Query live sockets")
        ]

    def remove_connection(self, connection_id: str) -> None:
        with dynamodb("DeleteItem live socket"):
            old = self._db.delete_item(Key=_socket_key(connection_id), ReturnValues="ALL_OLD")
        tenant_id = (old.get("Attributes") or {}).get("tenant_id")
        if tenant_id:
            key = {
                PARTITION_KEY: _tenant_pk(str(tenant_id)),
                SORT_KEY: _CONNECTION_PREFIX + connection_id,
            }
            with dynamodb("DeleteItem live socket"):
                self._db.delete_item(Key=key)


class ApiGatewayLivePublisher:
    """PostToConnection on the WebSocket API's management endpoint."""

    def __init__(self, client: Callable[[], Any]) -> None:
        # apigatewaymanagementapi at the stage's https URL; built on first use, so the staff
        # API (which only issues tickets) needs no management endpoint.
        self._client = client

    def post(self, connection_id: str, payload: bytes) -> bool:
        try:
            self._client().post_to_connection(ConnectionId=connection_id, Data=payload)
        except ClientError as error:
            if aws.error_code(error) == "GoneException":
                return False
            raise aws.translate(error, "execute-api:ManageConnections") from None
        return True

    def close(self, connection_id: str) -> None:
        try:
            self._client().delete_connection(ConnectionId=connection_id)
        except ClientError as error:
            if aws.error_code(error) != "GoneException":
                raise aws.translate(error, "execute-api:ManageConnections") from None
