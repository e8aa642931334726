"""Secure-link records. Only hashes of the link token, the code and the session are kept.

LINK#<sha256 of token>   LINK   tenant, conversation, message, expires_at (TTL),
                                failures, locked, code_hash, code_expires, codes_sent,
                                session_hash, session_expires

`failures` counts wrong codes plus the attempts being checked right now: an attempt is
counted before its code is compared, and handed back only when the code was right.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.core.errors import LinkUnavailableError
from functions.core.models import SecureLink
from functions.dal import aws
from functions.dal.schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE


def _key(token_hash: str) -> dict[str, str]:
    return {PARTITION_KEY: f"LINK#{token_hash}", SORT_KEY: "LINK"}


class SecureLinkStore:
    def __init__(self, table: Any) -> None:
        self._table = aws.TableClient(table)

    def _update(self, token_hash: str, **kwargs: Any) -> dict[str, Any] | None:
        try:
            response = self._table.update_item(Key=_key(token_hash), **kwargs)
        except ClientError as error:
            if aws.error_code(error) == "ConditionalCheckFailedException":
                return None
            raise aws.translate(error, "UpdateItem link") from None
        except BotoCoreError as error:
            raise aws.translate(error, "UpdateItem link") from None
        return dict(response.get("Attributes") or {})

    def create(self, link: SecureLink) -> None:
        try:
            self._table.put_item(
                Item={
                    **_key(link.token_hash),
                    "tenant_id": link.tenant_id,
                    "conversation_id": link.conversation_id,
                    "message_id": link.message_id,
                    TTL_ATTRIBUTE: link.expires_at,
                    "failures": 0,
                    "codes_sent": 0,
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except (ClientError, BotoCoreError) as error:
            raise aws.translate(error, "PutItem link") from None

    def get(self, token_hash: str) -> SecureLink:
        try:
            item = self._table.get_item(Key=_key(token_hash), ConsistentRead=True).get("Item")
        except (ClientError, BotoCoreError) as error:
            raise aws.translate(error, "GetItem link") from None
        if not item:
            raise LinkUnavailableError("no such link")
        return SecureLink(
            token_hash,
            item["tenant_id"],
            item["conversation_id"],
            item["message_id"],
            int(item[TTL_ATTRIBUTE]),
            int(item.get("failures", 0)),
            bool(item.get("locked", False)),
            str(item.get("code_hash", "")),
            int(item.get("code_expires", 0)),
            int(item.get("codes_sent", 0)),
            str(item.get("session_hash", "")),
            int(item.get("session_expires", 0)),
        )

    def set_code(
        self, token_hash: str, code_hash: str, code_expires: int, *, max_codes: int
    ) -> bool:
        """False when the link is locked or has had its share of codes."""
        return (
            self._update(
                token_hash,
                UpdateExpression="SET code_hash = :h, code_expires = :e ADD codes_sent :one",
                ConditionExpression="attribute_exists(pk) AND codes_sent < :max AND "
                "(attribute_not_exists(locked) OR locked = :false)",
                ExpressionAttributeValues={
                    ":h": code_hash,
                    ":e": code_expires,
                    ":one": 1,
                    ":max": max_codes,
                    ":false": False,
                },
            )
            is not None
        )

    def claim_attempt(self, token_hash: str, *, max_attempts: int) -> int | None:
        """Count a verification attempt before its code is compared; None when none is left.

        One conditional write: however many guesses race, at most `max_attempts` are
        counted, so at most that many codes are ever compared. Returns the count so far.
        """
        attributes = self._update(
            token_hash,
            UpdateExpression="ADD failures :one",
            ConditionExpression="attribute_exists(pk) AND failures < :max AND "
            "(attribute_not_exists(locked) OR locked = :false)",
            ExpressionAttributeValues={":one": 1, ":max": max_attempts, ":false": False},
            ReturnValues="UPDATED_NEW",
        )
        return None if attributes is None else int(attributes["failures"])

    def lock(self, token_hash: str) -> None:
        """The last attempt was wrong: no code or session opens the link again."""
        self._update(
            token_hash,
            UpdateExpression="SET locked = :true REMOVE code_hash, session_hash",
            ExpressionAttributeValues={":true": True},
        )

    def start_session(
        self, token_hash: str, code_hash: str, session_hash: str, session_expires: int
    ) -> bool:
        """Spend the code (single use) and open a session, unless locked or the code changed.

        The attempt claimed for this code is handed back: only wrong codes count.
        """
        return (
            self._update(
                token_hash,
                UpdateExpression="SET session_hash = :s, session_expires = :e "
                "REMOVE code_hash ADD failures :refund",
                ConditionExpression=(
                    "code_hash = :c AND (attribute_not_exists(locked) OR locked = :false)"
                ),
                ExpressionAttributeValues={
                    ":s": session_hash,
                    ":e": session_expires,
                    ":c": code_hash,
                    ":false": False,
                    ":refund": -1,
                },
            )
            is not None
        )
