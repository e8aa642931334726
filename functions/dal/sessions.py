"""Sign-in sessions for server-side idle logoff and sign-out-everywhere, in the table.

SESSION#<tenant>#<user>   S#<session id>   last_seen, expires_at (TTL), ended (by a sign-out),
                                             locked (the app lock: PHI routes refused)
SESSION#<tenant>#<user>   SIGNED_OUT       before: epoch seconds; sign-ins earlier are dead

Tokens carry their sign-in time in whole seconds, so "signed in before the sign-out" is
decided in two parts: a sign-in in an earlier second is refused by `before`; a session
already in use when the sign-out came is refused by its row's `ended` mark, whatever its
second. A sign-in in the sign-out's own second that had not been used yet is taken as
after it: refusing those would refuse every sign-in made right after the sign-out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.core.errors import AppLockedError, SessionExpiredError
from functions.dal import aws
from functions.dal.schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE

_SIGNED_OUT = "SIGNED_OUT"
_ALIVE = "attribute_not_exists(pk) OR (last_seen >= :cutoff AND attribute_not_exists(ended))"
_UNLOCKED = f"({_ALIVE}) AND attribute_not_exists(locked)"


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
        while_locked: bool = False,
    ) -> bool:
        """Record activity; False if the session idled out or the user signed out since.

        One transaction: the user's sign-out marker must predate this sign-in, and the
        session is created or extended only while alive, so concurrent requests cannot
        revive a dead session and a token from before "sign out everywhere" stays dead.
        Unless `while_locked`, the session must not be behind the app lock either:
        AppLockedError then (the refused update's old item says which condition failed,
        so the lock costs no read). (Plain Python values: the client serializes them.)
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
                            "ConditionExpression": _ALIVE if while_locked else _UNLOCKED,
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
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
                cancelled = error.response.get("CancellationReasons", [])
                reasons = [r.get("Code") for r in cancelled]
                # Only the session's update refused, and its old item is alive and locked.
                if reasons == ["None", "ConditionalCheckFailed"] and _locked_but_alive(
                    cancelled[1].get("Item") or {}, idle_cutoff
                ):
                    raise AppLockedError("the app is locked") from None
                if "ConditionalCheckFailed" in reasons:
                    return False
            raise aws.translate(error, "TransactWriteItems session") from None
        except BotoCoreError as error:
            raise aws.translate(error, "TransactWriteItems session") from None
        return True

    def lock_session(self, tenant_id: str, user_id: str, session_id: str) -> None:
        """Put the session behind the app lock (a dead or unknown session stays as it is)."""
        self._mark(tenant_id, user_id, session_id, "SET locked = :true", {":true": True})

    def unlock_session(self, tenant_id: str, user_id: str, session_id: str) -> None:
        """Lift the app lock; SessionExpiredError if the session ended meanwhile."""
        if not self._mark(tenant_id, user_id, session_id, "REMOVE locked", None):
            raise SessionExpiredError("session ended: sign in again")

    def _mark(
        self,
        tenant_id: str,
        user_id: str,
        session_id: str,
        update: str,
        values: dict[str, Any] | None,
    ) -> bool:
        request: dict[str, Any] = {
            "Key": {PARTITION_KEY: _pk(tenant_id, user_id), SORT_KEY: f"S#{session_id}"},
            "UpdateExpression": update,
            "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(ended)",
        }
        if values:
            request["ExpressionAttributeValues"] = values
        try:
            self._table.update_item(**request)
        except ClientError as error:
            if aws.error_code(error) == "ConditionalCheckFailedException":
                return False
            raise aws.translate(error, "UpdateItem session lock") from None
        except BotoCoreError as error:
            raise aws.translate(error, "UpdateItem session lock") from None
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
        request: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :session)",
            "ExpressionAttributeValues": {":pk": pk, ":session": "S#"},
            "ProjectionExpression": "sk",
            "ConsistentRead": True,
        }
        return [
            str(item[SORT_KEY])
            for item in aws.query_items(self._table.query, request, "Query sessions")
        ]

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


def _plain(value: Any) -> Any:
    """A cancellation reason's item comes in the wire format ({"S": ...}) or plain."""
    if isinstance(value, dict) and len(value) == 1:
        return next(iter(value.values()))
    return value


def _locked_but_alive(item: Mapping[str, Any], idle_cutoff: str) -> bool:
    """Whether the refused session row is alive and only the lock refused the request."""
    last_seen = _plain(item.get("last_seen"))
    return (
        "locked" in item
        and "ended" not in item
        and isinstance(last_seen, str)
        and last_seen >= idle_cutoff
    )


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
