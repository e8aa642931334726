"""Web Push: sealed subscriptions as message-table items, and sending through pywebpush.

    LIVE#PUSH#<tenant>  SUB#<subscription id>  user_id, record (sealed under the tenant key)

(Under the LIVE* partitions the live-update functions may already touch: no wider grant.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from boto3.dynamodb.types import Binary

from functions.core.errors import DependencyError
from functions.dal.schema import PARTITION_KEY, SORT_KEY
from functions.dal.store._common import dynamodb
from functions.logic.web_push import StoredSubscription

_SUB = "SUB#"
VAPID_SUBJECT = "mailto:security@quietline.invalid"  # RFC 8292: a contact; not shown to users
PUSH_TTL_SECONDS = 3600  # a "new message" notice is stale after an hour


def _pk(tenant_id: str) -> str:
    return f"LIVE#PUSH#{tenant_id}"


class DynamoDbPushStore:
    def __init__(self, table: Any) -> None:
        self._db = table

    def put_subscription(
        self, tenant_id: str, user_id: str, subscription_id: str, record: bytes
    ) -> None:
        item = {
            PARTITION_KEY: _pk(tenant_id),
            SORT_KEY: _SUB + subscription_id,
            "user_id": user_id,
            "record": Binary(record),
        }
        with dynamodb("PutItem push subscription"):
            self._db.put_item(Item=item)

    def subscriptions(self, tenant_id: str) -> list[StoredSubscription]:
        query: dict[str, Any] = {
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :sub)",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY, "#sk": SORT_KEY},
            "ExpressionAttributeValues": {":pk": _pk(tenant_id), ":sub": _SUB},
        }
        found: list[StoredSubscription] = []
        while True:
            with dynamodb("Query push subscriptions"):
                page = self._db.query(**query)
            found += [
                StoredSubscription(
                    str(item["user_id"]),
                    str(item[SORT_KEY]).removeprefix(_SUB),
                    bytes(item["record"]),
                )
                for item in page.get("Items", [])
            ]
            if "LastEvaluatedKey" not in page:
                return found
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def delete_subscription(self, tenant_id: str, subscription_id: str) -> None:
        key = {PARTITION_KEY: _pk(tenant_id), SORT_KEY: _SUB + subscription_id}
        with dynamodb("DeleteItem push subscription"):
            self._db.delete_item(Key=key)


class PywebpushSender:
    """Encrypts (aes128gcm, RFC 8291) and signs (VAPID, RFC 8292) with pywebpush."""

    def __init__(self, vapid_private_key_pem: Callable[[], str]) -> None:
        self._key_pem = vapid_private_key_pem  # read on first send (Secrets Manager)

    def send(self, subscription: dict[str, Any], payload: str) -> bool:
        from py_vapid import Vapid  # noqa: PLC0415 - only pushing needs it
        from pywebpush import WebPushException, webpush  # noqa: PLC0415

        try:
            webpush(
                subscription,
                data=payload,
                vapid_private_key=Vapid.from_pem(self._key_pem().encode()),
                vapid_claims={"sub": VAPID_SUBJECT},
                ttl=PUSH_TTL_SECONDS,
                timeout=5,
            )
        except WebPushException as error:
            status = getattr(error.response, "status_code", None)
            if status in (404, 410):
                return False
            raise DependencyError(f"web push: {status or 'no answer'}") from None
        return True


def vapid_public_key(private_key_pem: str) -> str:
    """The applicationServerKey browsers subscribe with (uncompressed P-256, base64url)."""
    import base64  # noqa: PLC0415

    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    raw = key.public_key().public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def new_vapid_private_key_pem() -> str:
    """A fresh VAPID key (P-256), PEM: for the stack's secret (`quietline push init`) and
    local mode."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
