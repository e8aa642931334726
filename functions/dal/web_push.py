"""Web Push: sealed subscriptions as message-table items, and sending them the notice.

    LIVE#PUSH#<tenant>  SUB#<subscription id>  user_id, record (sealed under the tenant key)

(Under the LIVE* partitions the live-update functions may already touch: no wider grant.)
"""

from __future__ import annotations

import binascii
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from boto3.dynamodb.types import Binary
from cryptography.hazmat.primitives.asymmetric import ec

from functions.core.errors import DependencyError, ThrottledError
from functions.core.settings import SettingsError
from functions.crypto import web_push
from functions.dal import aws
from functions.dal.schema import PARTITION_KEY, SORT_KEY
from functions.dal.store._common import dynamodb
from functions.logic.web_push import StoredSubscription

_SUB = "SUB#"
VAPID_SUBJECT = "mailto:security@quietline.invalid"  # RFC 8292: a contact (local mode's)
# The secret's tag holding the public half: the staff API reads it (DescribeSecret) and
# never the private key. Written with the secret by `quietline push init`.
VAPID_PUBLIC_KEY_TAG = "quietline:vapid-public-key"
PUSH_TTL_SECONDS = 3600  # a "new message" notice is stale after an hour
PUSH_URGENCY = "normal"  # RFC 8030 §5.3: "normal" is a chat message; "high" is for calls
PUSH_TIMEOUT_SECONDS = 5  # per push service request; the stream batch must not stall


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
        return [
            StoredSubscription(
                str(item["user_id"]),
                str(item[SORT_KEY]).removeprefix(_SUB),
                bytes(item["record"]),
            )
            for item in aws.query_items(self._db.query, query, "Query push subscriptions")
        ]

    def delete_subscription(self, tenant_id: str, subscription_id: str) -> None:
        key = {PARTITION_KEY: _pk(tenant_id), SORT_KEY: _SUB + subscription_id}
        with dynamodb("DeleteItem push subscription"):
            self._db.delete_item(Key=key)


class HttpPushSender:
    """POSTs one encrypted record (RFC 8291) signed with VAPID (RFC 8292) to the device's
    push service, over urllib: nothing outside the bundle's wheels."""

    def __init__(
        self,
        vapid_private_key_pem: Callable[[], str],
        subject: str = VAPID_SUBJECT,
        *,
        opener: Callable[..., Any] = urllib.request.urlopen,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key_pem = vapid_private_key_pem  # read on first send (Secrets Manager)
        self._subject = subject
        self._open = opener
        self._clock = clock

    def _signing_key(self) -> ec.EllipticCurvePrivateKey:
        try:
            return web_push.load_private_key(self._key_pem())
        except (SettingsError, ValueError, TypeError):  # no key yet: `quietline push init`
            raise DependencyError("web push: no VAPID key set up") from None

    def send(self, subscription: dict[str, Any], payload: str) -> bool:
        key = self._signing_key()
        plaintext = payload.encode()
        if len(plaintext) > web_push.MAX_PLAINTEXT:
            raise ValueError("push payload too large for one record")
        endpoint = str(subscription["endpoint"])
        keys = subscription["keys"]
        try:
            body = web_push.encrypt(
                plaintext, web_push.from_b64url(keys["p256dh"]), web_push.from_b64url(keys["auth"])
            )
            authorization = web_push.vapid_authorization(
                key, endpoint, self._subject, now=self._clock()
            )
        except (ValueError, binascii.Error):  # not a P-256 key, a 16-byte secret, an https URL
            return False  # it can never be delivered to: forget it
        request = urllib.request.Request(  # noqa: S310 - https only (checked at subscribe)
            endpoint,
            data=body,
            method="POST",
            headers={
                "Authorization": authorization,
                "Content-Encoding": "aes128gcm",
                "Content-Type": "application/octet-stream",
                "TTL": str(PUSH_TTL_SECONDS),
                "Urgency": PUSH_URGENCY,
            },
        )
        try:
            with self._open(request, timeout=PUSH_TIMEOUT_SECONDS) as response:
                response.read()
        except urllib.error.HTTPError as error:
            error.close()
            # 404/410: the subscription is gone (RFC 8030 §7.3). 403: it was made with
            # another VAPID key (RFC 8292 §4.2), as all are after a rotation: never usable.
            if error.code in (403, 404, 410):
                return False
            if error.code == 429:
                raise ThrottledError("web push: throttled by the push service") from None
            raise DependencyError(f"web push: {error.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError):
            raise DependencyError("web push: no answer") from None
        return True


def vapid_public_key(private_key_pem: str) -> str:
    """The applicationServerKey browsers subscribe with (uncompressed P-256, base64url)."""
    return web_push.public_key(web_push.load_private_key(private_key_pem))


def new_vapid_private_key_pem() -> str:
    """A fresh VAPID key (P-256), PEM: for the stack's secret (`quietline push init`) and
    local mode."""
    return web_push.new_private_key_pem()
