"""Sign-in sessions for server-side idle logoff and sign-out-everywhere, in the table.

SESSION#<tenant>#<user>   S#<session id>   last_seen, expires_at (TTL)
SESSION#<tenant>#<user>   SIGNED_OUT       before: epoch seconds; tokens issued earlier are dead
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.dal import aws
from functions.dal.schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE

_SIGNED_OUT = "SIGNED_OUT"


def _pk(tenant_id: str, user_id: str) -> str:
    return f"SESSION#{tenant_id}#{user_id}"


class SessionStore:
    def __init__(self, table: Any) -> None:
        self._table = aws.TableClient(table)

    def touch_session(
        self,
        tenant_id: str,
        user_id: str,
        session_id: str,
        *,
        auth_time: int,
        now: str,
        idle_cutoff: str,
        expires_at: int,
    ) -> bool:
        """Record activity; False if the session idled out or the user signed out since.

        One transaction: the user's sign-out marker must predate this sign-in, and the
        session is created or extended only while alive, so concurrent requests cannot
        revive a dead session and a token from before "sign out everywhere" stays dead.
        (Plain Python values: the Table resource's client serializes them.)
        """
        pk = _pk(tenant_id, user_id)
        name = self._table.name
        try:
            self._table.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": name,
                            "Key": {PARTITION_KEY: pk, SORT_KEY: _SIGNED_OUT},
                            "ConditionExpression": "attribute_not_exists(pk) OR #before <= :auth",
                            "ExpressionAttributeNames": {"#before": "before"},
                            "ExpressionAttributeValues": {":auth": auth_time},
                        }
                    },
                    {
                        "Update": {
                            "TableName": name,
                            "Key": {PARTITION_KEY: pk, SORT_KEY: f"S#{session_id}"},
                            "UpdateExpression": "SET last_seen = :now, #ttl = :ttl",
                            "ConditionExpression": (
                                "attribute_not_exists(pk) OR last_seen >= :cutoff"
                            ),
                            "ExpressionAttributeNames": {"#ttl": TTL_ATTRIBUTE},
                            "ExpressionAttributeValues": {
                                ":now": now,
                                ":cutoff": idle_cutoff,
                                ":ttl": expires_at,
                            },
                        }
                    },
                ]
            )
        except ClientError as error:
            if aws.error_code(error) == "TransactionCanceledException":
                reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
                if "ConditionalCheckFailed" in reasons:
                    return False
            raise aws.translate(error, "TransactWriteItems session") from None
        except BotoCoreError as error:
            raise aws.translate(error, "TransactWriteItems session") from None
        return True

    def revoke_sessions(self, tenant_id: str, user_id: str, *, before: int) -> None:
        """Every token of this user issued before `before` (epoch seconds) is refused."""
        try:
            self._table.put_item(
                Item={
                    PARTITION_KEY: _pk(tenant_id, user_id),
                    SORT_KEY: _SIGNED_OUT,
                    "before": before,
                }
            )
        except (ClientError, BotoCoreError) as error:
            raise aws.translate(error, "PutItem sign-out") from None


def _reads_pk(tenant_id: str, user_id: str) -> str:
    return f"READS#{tenant_id}#{user_id}"


class ReadCounterStore:
    """Per-user read counts per time window (the breach early-warning), with TTL."""

    def __init__(self, table: Any) -> None:
        self._table = aws.TableClient(table)

    def count_read(self, tenant_id: str, user_id: str, window: str, *, expires_at: int) -> int:
        try:
            response = self._table.update_item(
                Key={PARTITION_KEY: _reads_pk(tenant_id, user_id), SORT_KEY: window},
                UpdateExpression="SET #ttl = :ttl ADD #reads :one",
                ExpressionAttributeNames={"#ttl": TTL_ATTRIBUTE, "#reads": "reads"},
                ExpressionAttributeValues={":one": 1, ":ttl": expires_at},
                ReturnValues="UPDATED_NEW",
            )
        except (ClientError, BotoCoreError) as error:
            raise aws.translate(error, "UpdateItem reads") from None
        return int(response["Attributes"]["reads"])
