"""Web Push without PHI: devices that opted in are told "New message in Quietline" when a
client texts, nothing more (no name, number or text). E-mail stays the fallback.

A subscription's endpoint is a capability URL (anyone holding it and its keys can push to
that device), so it is stored sealed under the tenant's key, bound to its user.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from functions.core.errors import DependencyError, ThrottledError, ValidationError
from functions.core.observability import logger
from functions.crypto.contexts import push_subscription_location
from functions.crypto.envelope import EnvelopeCipher
from functions.logic.access import Principal

NOTICE = {"title": "New message in Quietline", "body": "Open Quietline to read it."}
PUSH_HOSTS_NOTE = "endpoints must be https URLs (the browser's push service)"


@dataclass(frozen=True)
class StoredSubscription:
    user_id: str
    subscription_id: str
    record: bytes


class PushSubscriptionStore(Protocol):
    def put_subscription(
        self, tenant_id: str, user_id: str, subscription_id: str, record: bytes
    ) -> None: ...

    def subscriptions(self, tenant_id: str) -> list[StoredSubscription]: ...

    def delete_subscription(self, tenant_id: str, subscription_id: str) -> None: ...


class PushSender(Protocol):
    def send(self, subscription: dict[str, Any], payload: str) -> bool:
        """Deliver to the push service; False when the subscription is gone (404/410)."""
        ...


def subscription_id(endpoint: str) -> str:
    """One item per device: subscribing again replaces it."""
    return hashlib.sha256(endpoint.encode()).hexdigest()[:32]


def checked(subscription: dict[str, Any]) -> dict[str, Any]:
    """The browser's PushSubscription JSON, reduced to what sending needs."""
    endpoint = subscription.get("endpoint")
    keys = subscription.get("keys") or {}
    if not isinstance(endpoint, str) or not endpoint.startswith("https://"):
        raise ValidationError("endpoint", PUSH_HOSTS_NOTE)
    if not all(isinstance(keys.get(k), str) and keys.get(k) for k in ("p256dh", "auth")):
        raise ValidationError("keys", "p256dh and auth are required")
    return {"endpoint": endpoint, "keys": {"p256dh": keys["p256dh"], "auth": keys["auth"]}}


@dataclass
class WebPushService:
    store: PushSubscriptionStore
    cipher: EnvelopeCipher
    sender: PushSender

    def subscribe(self, principal: Principal, subscription: dict[str, Any]) -> str:
        clean = checked(subscription)
        sub_id = subscription_id(clean["endpoint"])
        location = push_subscription_location(principal.tenant_id, principal.user_id, sub_id)
        record = self.cipher.encrypt(location, json.dumps(clean)).to_bytes()
        self.store.put_subscription(principal.tenant_id, principal.user_id, sub_id, record)
        return sub_id

    def unsubscribe(self, principal: Principal, endpoint: str) -> None:
        self.store.delete_subscription(principal.tenant_id, subscription_id(endpoint))

    def notify(self, tenant_ids: Iterable[str]) -> int:
        """Push the notice to every device of each tenant; forget gone ones. How many sent."""
        sent = 0
        payload = json.dumps(NOTICE)
        for tenant_id in dict.fromkeys(tenant_ids):
            for stored in self.store.subscriptions(tenant_id):
                location = push_subscription_location(
                    tenant_id, stored.user_id, stored.subscription_id
                )
                subscription = json.loads(self.cipher.decrypt(location, stored.record))
                try:
                    delivered = self.sender.send(subscription, payload)
                except (DependencyError, ThrottledError) as error:
                    logger.warning("web push failed", extra={"error": type(error).__name__})
                    continue
                if not delivered:
                    self.store.delete_subscription(tenant_id, stored.subscription_id)
                    continue
                sent += 1
        return sent
