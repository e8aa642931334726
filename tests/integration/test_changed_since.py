"""Fetch only what changed: the conversation list's `since` mark and a thread's `after`."""

from __future__ import annotations

import pytest

from functions.core.errors import InvalidCursorError
from functions.crypto.envelope import EnvelopeCipher
from functions.dal.store import MessageStore
from functions.logic.tenants import TenantDirectory
from tests.integration.test_message_store import _stamp, _store_message
from tests.phi_samples import CLIENT_PHONE, OTHER_CLIENT_PHONE

pytestmark = pytest.mark.integration


def test_a_listing_since_its_mark_holds_only_conversations_with_newer_activity(
    store: MessageStore, cipher: EnvelopeCipher, directory: TenantDirectory
) -> None:
    # Given two conversations, listed once
    _store_message(store, cipher, directory, phone=CLIENT_PHONE, at=_stamp(1))
    quiet = _store_message(store, cipher, directory, phone=OTHER_CLIENT_PHONE, at=_stamp(2))
    first = store.list_conversations("harbor")
    # When only the first client writes again and the list is asked since the mark
    moved = _store_message(store, cipher, directory, phone=CLIENT_PHONE, at=_stamp(3))
    changed = store.list_conversations("harbor", since=first.since)
    # Then only that conversation comes back, with a mark past it
    assert [c.conversation_id for c in changed.items] == [moved.conversation_id]
    assert quiet.conversation_id not in {c.conversation_id for c in changed.items}
    assert store.list_conversations("harbor", since=changed.since).items == []


def test_a_listing_with_nothing_new_keeps_the_mark_it_was_given(
    store: MessageStore, cipher: EnvelopeCipher, directory: TenantDirectory
) -> None:
    _store_message(store, cipher, directory, at=_stamp(1))
    mark = store.list_conversations("harbor").since
    again = store.list_conversations("harbor", since=mark)
    assert again.items == []
    assert again.since == mark


def test_a_forged_since_mark_is_refused(store: MessageStore) -> None:
    with pytest.raises(InvalidCursorError):
        store.list_conversations("harbor", since="not-a-mark")


def test_a_thread_after_a_message_holds_only_newer_messages(
    store: MessageStore, cipher: EnvelopeCipher, directory: TenantDirectory
) -> None:
    # Given a thread of three messages, the middle one last seen
    sent = [_store_message(store, cipher, directory, at=_stamp(i)) for i in range(3)]
    conversation_id = sent[0].conversation_id
    # When the thread is read after it
    page = store.list_messages("harbor", conversation_id, after=sent[1].message_id)
    # Then only the newest comes back
    assert [m.message_id for m in page.items] == [sent[2].message_id]
    latest = store.list_messages("harbor", conversation_id, after=sent[2].message_id)
    assert latest.items == []
