"""Reads a request path makes together: the data layer's named places of parallel I/O.

Logic reads top to bottom. Where a path needs several items at once it asks here, and
gets them in one round trip: a BatchGetItem for a tenant profile and one of its
conversations; and where independent calls must overlap (a staff read with its session
touch and its Query, a send's claim with what the send needs), these run them at once on
the shared pool (functions/core/concurrency.py). Nothing here raises what a read met:
each part holds its value or its error (functions/logic/ports.py `Outcome`), and logic
asks for them in the order its checks must fail in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any, Protocol, TypeVar

from functions.core.concurrency import Captured, settle_all
from functions.core.errors import NotFoundError, ThrottledError
from functions.core.models import MessageRef
from functions.dal.schema import PARTITION_KEY, SORT_KEY
from functions.dal.store._common import conversation_key, dynamodb, tenant_key
from functions.dal.store.conversations import ConversationRecords, conversation_from_item
from functions.dal.store.messages import MessageRecords
from functions.dal.store.tenants import TenantRecords, tenant_from_item
from functions.logic.ports import (
    ClaimRead,
    ConversationRead,
    ListingRead,
    SessionTouch,
    ThreadRead,
)

T = TypeVar("T")

# BatchGetItem answers throttled keys as "unprocessed" instead of failing: they are asked
# again after a short backoff (botocore retries only whole failed calls), then given up.
_BATCH_ATTEMPTS = 4
_BATCH_BACKOFF_S = 0.025


def _found(
    item: dict[str, Any] | None, build: Callable[[dict[str, Any]], T], what: str
) -> Captured[T]:
    if item is None:
        return Captured(error=NotFoundError(f"{what} not found"))
    return Captured(build(item))


def _spread(read: Captured[ConversationRead]) -> ConversationRead:
    """A batch that failed as a whole fails each of its parts with the same error."""
    if read.error is None:
        return read.get()
    return ConversationRead(Captured(error=read.error), Captured(error=read.error))


class WaveRecords(TenantRecords, ConversationRecords, MessageRecords):
    """The store's combined reads (mixed into MessageStore)."""

    def tenant_and_conversation(self, tenant_id: str, conversation_id: str) -> ConversationRead:
        """Both items in one strongly consistent BatchGetItem (a wipe or an opt-out is seen
        at once); an absent one is its part's NotFoundError. Raises only if the call failed."""
        tenant, conversation = self._batch_get(
            [tenant_key(tenant_id), conversation_key(tenant_id, conversation_id)]
        )
        return ConversationRead(
            tenant=_found(tenant, tenant_from_item, "tenant"),
            conversation=_found(conversation, conversation_from_item, "conversation"),
        )

    def claim_with_context(self, ref: MessageRef, *, now: str, lease_until: str) -> ClaimRead:
        """The send's claim and the tenant and conversation it needs, at once."""
        claimed, context = settle_all(
            lambda: self.claim_for_sending(ref, now=now, lease_until=lease_until),
            lambda: self.tenant_and_conversation(ref.tenant_id, ref.conversation_id),
        )
        return ClaimRead(claimed, _spread(context))

    def _batch_get(self, keys: list[dict[str, str]]) -> list[dict[str, Any] | None]:
        """The items of `keys` in the order asked (None where absent)."""
        name = self._db.name
        request: dict[str, Any] = {name: {"Keys": keys, "ConsistentRead": True}}
        found: dict[tuple[str, str], dict[str, Any]] = {}
        with dynamodb("BatchGetItem"):
            for attempt in range(_BATCH_ATTEMPTS):
                response = self._db.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(name, []):
                    found[(item[PARTITION_KEY], item[SORT_KEY])] = item
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    return [found.get((key[PARTITION_KEY], key[SORT_KEY])) for key in keys]
                time.sleep(_BATCH_BACKOFF_S * 2**attempt)
        raise ThrottledError("BatchGetItem: keys left unprocessed")


class SessionToucher(Protocol):
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
    ) -> bool: ...


class StaffReads:
    """The staff API's first reads, sent with the request's idle-logoff touch in one wave.

    The touch is a conditional write (functions/dal/sessions.py); sent with the reads it
    costs the request no round trip of its own. Its answer comes back as `session`, for
    logic to check before anything read is decrypted or returned.
    """

    def __init__(self, store: WaveRecords, sessions: SessionToucher) -> None:
        self._store = store
        self._sessions = sessions

    def conversation(
        self, tenant_id: str, conversation_id: str, *, session: SessionTouch | None
    ) -> ConversationRead:
        alive, (pair,) = self._with_touch(
            session, lambda: self._store.tenant_and_conversation(tenant_id, conversation_id)
        )
        return replace(_spread(pair), session=alive)

    def thread(
        self,
        tenant_id: str,
        conversation_id: str,
        *,
        limit: int,
        cursor: str | None,
        session: SessionTouch | None,
        after: str | None = None,
    ) -> ThreadRead:
        alive, (pair, messages) = self._with_touch(
            session,
            lambda: self._store.tenant_and_conversation(tenant_id, conversation_id),
            lambda: self._store.list_messages(
                tenant_id, conversation_id, limit=limit, cursor=cursor, after=after
            ),
        )
        return ThreadRead(replace(_spread(pair), session=alive), messages)

    def listing(
        self,
        tenant_id: str,
        *,
        session: SessionTouch | None,
        limit: int,
        cursor: str | None,
        visible_to: str | None,
        unread_only: bool,
        assigned_to: str | None,
        unassigned_only: bool,
        since: str | None = None,
    ) -> ListingRead:
        alive, (tenant, page) = self._with_touch(
            session,
            lambda: self._store.get_tenant(tenant_id),
            lambda: self._store.list_conversations(
                tenant_id,
                limit=limit,
                cursor=cursor,
                visible_to=visible_to,
                unread_only=unread_only,
                assigned_to=assigned_to,
                unassigned_only=unassigned_only,
                since=since,
            ),
        )
        return ListingRead(tenant, page, alive)

    def _with_touch(
        self, session: SessionTouch | None, *reads: Callable[[], Any]
    ) -> tuple[Captured[bool] | None, tuple[Captured[Any], ...]]:
        if session is None:
            return None, settle_all(*reads)
        touch = asdict(session)
        alive, *results = settle_all(lambda: self._sessions.touch_session(**touch), *reads)
        return alive, tuple(results)
