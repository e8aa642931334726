"""The data layer's combined reads on moto: one round trip, every part answering for itself."""

from __future__ import annotations

from typing import Any

import pytest

from functions.core.errors import (
    DependencyError,
    InvalidCursorError,
    NotFoundError,
    ThrottledError,
)
from functions.core.models import MessageRef
from functions.dal.store import MessageStore, StaffReads
from functions.logic.ports import SessionTouch
from functions.logic.tenants import TenantDirectory
from tests.faults import Fault
from tests.integration.conftest import record_operations
from tests.phi_samples import CLIENT_PHONE

pytestmark = pytest.mark.integration


def _conversation_id(directory: TenantDirectory, store: MessageStore) -> str:
    tenant = directory.active_tenant("harbor")
    conversation_id = directory.conversation_id_for(tenant, CLIENT_PHONE)
    store.create_conversation("harbor", conversation_id, b"phone", "2026-11-30T15:00:00.000Z")
    return conversation_id


class _Sessions:
    """A session store that answers as told and counts its touches."""

    def __init__(self, alive: bool) -> None:
        self.alive = alive
        self.touches: list[dict[str, Any]] = []

    def touch_session(self, tenant_id: str, user_id: str, session_id: str, **rest: Any) -> bool:
        self.touches.append({"tenant_id": tenant_id, "user_id": user_id, **rest})
        return self.alive


def _touch() -> SessionTouch:
    return SessionTouch("harbor", "user-1", "s-1", 1, "2026-11-30T15:00:00.000Z", "2026", 9)


def test_the_tenant_and_a_conversation_come_in_one_batch_read(
    store: MessageStore, directory: TenantDirectory
) -> None:
    conversation_id = _conversation_id(directory, store)
    calls = record_operations(store.table.meta.client)

    read = store.tenant_and_conversation("harbor", conversation_id)

    assert calls == ["BatchGetItem"]
    assert read.tenant.get().display_name == "Harbor Counseling"
    assert read.conversation.get().conversation_id == conversation_id
    assert read.session is None


def test_an_absent_item_is_its_own_parts_not_found(
    store: MessageStore, directory: TenantDirectory
) -> None:
    conversation_id = _conversation_id(directory, store)

    read = store.tenant_and_conversation("harbor", "no-such-conversation")
    assert read.tenant.get().tenant_id == "harbor"
    with pytest.raises(NotFoundError):
        read.conversation.get()

    gone = store.tenant_and_conversation("no-such-tenant", conversation_id)
    with pytest.raises(NotFoundError):
        gone.tenant.get()


def test_keys_the_batch_left_unprocessed_are_asked_again(
    store: MessageStore, directory: TenantDirectory, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation_id = _conversation_id(directory, store)
    real = store._db.batch_get_item
    asked: list[int] = []

    def throttled_once(**request: Any) -> Any:
        (keys,) = (part["Keys"] for part in request["RequestItems"].values())
        asked.append(len(keys))
        if len(asked) == 1:  # DynamoDB answers nothing yet: everything unprocessed
            return {"Responses": {}, "UnprocessedKeys": request["RequestItems"]}
        return real(**request)

    monkeypatch.setattr(store._db, "batch_get_item", throttled_once)

    read = store.tenant_and_conversation("harbor", conversation_id)

    assert asked == [2, 2]
    assert read.conversation.get().conversation_id == conversation_id


def test_keys_left_unprocessed_every_time_end_as_throttled(
    store: MessageStore, directory: TenantDirectory, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation_id = _conversation_id(directory, store)
    monkeypatch.setattr(
        store._db,
        "batch_get_item",
        lambda **request: {"Responses": {}, "UnprocessedKeys": request["RequestItems"]},
    )
    with pytest.raises(ThrottledError):
        store.tenant_and_conversation("harbor", conversation_id)


def test_a_staff_read_sends_the_session_touch_with_its_reads_and_raises_nothing(
    store: MessageStore, directory: TenantDirectory
) -> None:
    conversation_id = _conversation_id(directory, store)
    sessions = _Sessions(alive=False)

    read = StaffReads(store, sessions).thread(
        "harbor", conversation_id, limit=10, cursor="bogus", session=_touch()
    )

    # Every part answers for itself, in whatever order logic asks.
    assert len(sessions.touches) == 1 and read.conversation.session is not None
    assert read.conversation.session.get() is False
    assert read.conversation.conversation.get().conversation_id == conversation_id
    with pytest.raises(InvalidCursorError):
        read.messages.get()


def test_a_staff_read_without_a_due_touch_sends_none(
    store: MessageStore, directory: TenantDirectory
) -> None:
    conversation_id = _conversation_id(directory, store)
    sessions = _Sessions(alive=True)

    read = StaffReads(store, sessions).conversation("harbor", conversation_id, session=None)

    assert sessions.touches == [] and read.session is None
    assert read.tenant.get().tenant_id == "harbor"


def test_a_failed_batch_fails_the_tenant_and_the_conversation_alike(
    store: MessageStore, directory: TenantDirectory
) -> None:
    conversation_id = _conversation_id(directory, store)
    Fault(store.table.meta.client, "BatchGetItem", "InternalServerError", times=1)

    read = StaffReads(store, _Sessions(alive=True)).conversation(
        "harbor", conversation_id, session=_touch()
    )

    assert read.session is not None and read.session.get() is True
    with pytest.raises(DependencyError):
        read.tenant.get()
    with pytest.raises(DependencyError):
        read.conversation.get()


def test_a_send_claim_reads_its_tenant_and_conversation_alongside(
    store: MessageStore, directory: TenantDirectory
) -> None:
    conversation_id = _conversation_id(directory, store)
    calls = record_operations(store.table.meta.client)

    read = store.claim_with_context(
        MessageRef("harbor", conversation_id, "01NOSUCHMESSAGE"), now="2026", lease_until="2027"
    )

    assert sorted(calls) == ["BatchGetItem", "UpdateItem"]
    assert read.claimed.get() is None  # nothing queued under that id
    assert read.context.conversation.get().conversation_id == conversation_id
