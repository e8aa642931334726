"""Sign-in sessions for server-side idle logoff and sign-out-everywhere, in the table.

SESSION#<tenant>#<user>   S#<session id>   last_seen, expires_at (TTL), ended (by a sign-out)
SESSION#<tenant>#<user>   SIGNED_OUT       before: epoch seconds; sign-ins earlier are dead

Tokens carry their sign-in time in whole seconds, so "signed in before the sign-out" is
decided in two parts: a sign-in in an earlier second is refused by `before`; a session
already in use when the sign-out came is refused by its row's `ended` mark, whatever its
second. A sign-in in the sign-out's own second that had not been used yet is taken as
after it: refusing those would refuse every sign-in made right after the sign-out.
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
                                "attribute_not_exists(pk) OR "
                                "(last_seen >= :cutoff AND attribute_not_exists(ended))"
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
        """Refuse every sign-in of this user before `before` (epoch seconds) and end every
        session in use now. The marker goes first: a session whose first request comes
        after it is found by the Query and ended, or (in a later second) refused by it."""
        pk = _pk(tenant_id, user_id)
        try:
            self._table.put_item(Item={PARTITION_KEY: pk, SORT_KEY: _SIGNED_OUT, "before": before})
            for session_key in self._session_keys(pk):
                self._end(pk, session_key)
        except (ClientError, BotoCoreError) as error:
            raise aws.translate(error, "sign-out") from None

    def _session_keys(self, pk: str) -> list[str]:
        keys: list[str] = []
        request: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :session)",
            "ExpressionAttributeValues": {":pk": pk, ":session": "S#"},
            "ProjectionExpression": "sk",
            "ConsistentRead": True,
        }
        while True:
            page = self._table.query(**request)
            keys += [str(item[SORT_KEY]) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return keys
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _end(self, pk: str, session_key: str) -> None:
        try:
            self._table.update_item(
                Key={PARTITION_KEY: pk, SORT_KEY: session_key},
                UpdateExpression="SET ended = :true",
                ConditionExpression="attribute_exists(pk)",  # expired meanwhile: leave it gone
                ExpressionAttributeValues={":true": True},
            )
        except ClientError as error:
            if aws.error_code(error) != "ConditionalCheckFailedException":
                raise


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
