"""Passkeys' public keys and their one-time challenges, in the table.

PASSKEY#<tenant>#<user>   CRED#<credential id>      public_key (COSE), sign_count, name,
                                                    created_at, last_used_at, rp_id, origin
PASSKEY#<tenant>#<user>   CHALLENGE#<purpose>       challenge, expires_at (TTL)
"""

from __future__ import annotations

from functions.dal import aws
from functions.dal.schema import PARTITION_KEY, PASSKEY_PARTITION_PREFIX, SORT_KEY, TTL_ATTRIBUTE
from functions.logic.passkey_models import StoredPasskey

_CRED = "CRED#"


def _pk(tenant_id: str, user_id: str) -> str:
    return f"{PASSKEY_PARTITION_PREFIX}{tenant_id}#{user_id}"


class PasskeyStore(aws.TableStore):
    WHAT = "passkeys"

    def save_challenge(
        self, tenant_id: str, user_id: str, purpose: str, challenge: bytes, *, expires_at: int
    ) -> None:
        self._call(
            "put_item",
            Item={
                PARTITION_KEY: _pk(tenant_id, user_id),
                SORT_KEY: f"CHALLENGE#{purpose}",
                "challenge": challenge,
                TTL_ATTRIBUTE: expires_at,
            },
        )

    def take_challenge(
        self, tenant_id: str, user_id: str, purpose: str, *, now: int
    ) -> bytes | None:
        answer = self._call(
            "delete_item",
            Key={PARTITION_KEY: _pk(tenant_id, user_id), SORT_KEY: f"CHALLENGE#{purpose}"},
            ReturnValues="ALL_OLD",
        )
        item = answer.get("Attributes")
        if not item or int(item[TTL_ATTRIBUTE]) < now:  # TTL deletes late: check it here
            return None
        return bytes(item["challenge"])

    def passkeys(self, tenant_id: str, user_id: str) -> list[StoredPasskey]:
        items = self._query_all(
            {
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :cred)",
                "ExpressionAttributeValues": {":pk": _pk(tenant_id, user_id), ":cred": _CRED},
                "ConsistentRead": True,
            }
        )
        return [
            StoredPasskey(
                str(item[SORT_KEY]).removeprefix(_CRED),
                bytes(item["public_key"]),
                int(item["sign_count"]),
                str(item["name"]),
                str(item["created_at"]),
                str(item["last_used_at"]) if item.get("last_used_at") else None,
                rp_id=str(item.get("rp_id", "")),
                origin=str(item.get("origin", "")),
            )
            for item in items
        ]

    def put_passkey(self, tenant_id: str, user_id: str, passkey: StoredPasskey) -> None:
        self._call(
            "put_item",
            Item={
                PARTITION_KEY: _pk(tenant_id, user_id),
                SORT_KEY: _CRED + passkey.credential_id,
                "public_key": passkey.public_key,
                "sign_count": passkey.sign_count,
                "name": passkey.name,
                "created_at": passkey.created_at,
                "rp_id": passkey.rp_id,
                "origin": passkey.origin,
            },
        )

    def mark_used(
        self, tenant_id: str, user_id: str, credential_id: str, *, sign_count: int, at: str
    ) -> None:
        self._call(
            "update_item",
            Key={PARTITION_KEY: _pk(tenant_id, user_id), SORT_KEY: _CRED + credential_id},
            UpdateExpression="SET sign_count = :count, last_used_at = :at",
            ExpressionAttributeValues={":count": sign_count, ":at": at},
        )

    def delete_passkey(self, tenant_id: str, user_id: str, credential_id: str) -> bool:
        answer = self._call(
            "delete_item",
            Key={PARTITION_KEY: _pk(tenant_id, user_id), SORT_KEY: _CRED + credential_id},
            ReturnValues="ALL_OLD",
        )
        return bool(answer.get("Attributes"))

    def delete_all(self, tenant_id: str, user_id: str) -> int:
        found = self.passkeys(tenant_id, user_id)
        for passkey in found:
            self.delete_passkey(tenant_id, user_id, passkey.credential_id)
        return len(found)
