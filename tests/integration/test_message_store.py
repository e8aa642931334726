"""The message store on moto DynamoDB with the real table definition."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from functions.core.errors import (
    ConflictError,
    DuplicateError,
    InvalidCursorError,
    NotFoundError,
    TenantUnavailableError,
)
from functions.core.ids import new_id
from functions.core.models import Direction, Message, MessageRef, MessageStatus
from functions.crypto.envelope import EnvelopeCipher, FieldLocation
from functions.dal.store import MessageStore
from functions.logic.tenants import TenantDirectory, provision_tenant
from tests.integration.conftest import TENANTS, record_operations
from tests.phi_samples import (
    BODY,
    BUSINESS_NUMBER,
    CLIENT_PHONE,
    OTHER_BUSINESS_NUMBER,
    OTHER_CLIENT_PHONE,
)

pytestmark = pytest.mark.integration


def _stamp(i: int) -> str:
    return f"2026-11-28T10:{i // 60:02d}:{i % 60:02d}.000Z"


def _store_message(
    store: MessageStore,
    cipher: EnvelopeCipher,
    directory: TenantDirectory,
    *,
    tenant_id: str = "harbor",
    phone: str = CLIENT_PHONE,
    body: str = BODY,
    at: str = "2026-11-28T10:00:00.000Z",
    carrier_id: str | None = None,
    direction: Direction = Direction.INBOUND,
) -> Message:
    tenant = directory.active_tenant(tenant_id)
    conversation_id = directory.conversation_id_for(tenant, phone)
    message_id = new_id()
    record = cipher.encrypt(FieldLocation(tenant_id, conversation_id, message_id, "body"), body)
    message = Message(
        tenant_id=tenant_id,
        conversation_id=conversation_id,
        message_id=message_id,
        direction=direction,
        status=MessageStatus.RECEIVED if direction is Direction.INBOUND else MessageStatus.QUEUED,
        body_record=record.to_bytes(),
        created_at=at,
        updated_at=at,
        expires_at=1_900_000_000,
        carrier="twilio" if carrier_id else None,
        carrier_message_id=carrier_id,
    )
    try:
        store.get_conversation(tenant_id, conversation_id)
        phone_record = None
    except NotFoundError:
        location = FieldLocation(tenant_id, conversation_id, "contact", "phone")
        phone_record = cipher.encrypt(location, phone).to_bytes()
    store.record_message(message, new_phone_record=phone_record)
    return message


def test_provisioning_maps_numbers_to_tenants_and_is_idempotent(
    store: MessageStore, cipher: EnvelopeCipher, directory: TenantDirectory
) -> None:
    assert directory.tenant_for_number(BUSINESS_NUMBER) == "harbor"
    assert directory.tenant_for_number(OTHER_BUSINESS_NUMBER) == "cedar"
    before = store.get_tenant("harbor").index_key_record
    provision_tenant(TENANTS[0], store, cipher)
    assert store.get_tenant("harbor").index_key_record == before
    with pytest.raises(TenantUnavailableError):
        directory.tenant_for_number("+19995550000")


def test_a_business_number_cannot_be_taken_by_another_tenant(
    store: MessageStore, directory: TenantDirectory
) -> None:
    with pytest.raises(ConflictError):
        store.assign_business_number(BUSINESS_NUMBER, "cedar")
    assert store.tenant_id_for_number(BUSINESS_NUMBER) == "harbor"


def test_the_same_client_number_is_a_different_conversation_in_each_tenant(
    directory: TenantDirectory,
) -> None:
    harbor = directory.conversation_id_for(directory.active_tenant("harbor"), CLIENT_PHONE)
    cedar = directory.conversation_id_for(directory.active_tenant("cedar"), CLIENT_PHONE)
    assert harbor != cedar


def test_an_inbound_message_is_stored_encrypted_and_opens_a_conversation(
    store: MessageStore, cipher: EnvelopeCipher, directory: TenantDirectory, table: Any
) -> None:
    message = _store_message(store, cipher, directory, carrier_id="SM1")
    conversation = store.get_conversation("harbor", message.conversation_id)
    assert conversation.unread_count == 1
    assert conversation.last_activity_at == message.created_at
    phone_location = FieldLocation("harbor", message.conversation_id, "contact", "phone")
    assert cipher.decrypt(phone_location, conversation.phone_record) == CLIENT_PHONE
    stored = store.get_message(MessageRef("harbor", message.conversation_id, message.message_id))
    location = FieldLocation("harbor", message.conversation_id, message.message_id, "body")
    assert cipher.decrypt(location, stored.body_record) == BODY
    # Nothing in the raw table holds the number or the body in the clear.
    raw = json.dumps(table.scan()["Items"], default=repr)
    assert CLIENT_PHONE not in raw and CLIENT_PHONE.lstrip("+") not in raw
    assert BODY not in raw


def test_the_same_carrier_message_twice_is_stored_once(
    store: MessageStore, cipher: EnvelopeCipher, directory: TenantDirectory
) -> None:
    first = _store_message(store, cipher, directory, carrier_id="SM-dup")
    with pytest.raises(DuplicateError):
        _store_message(store, cipher, directory, carrier_id="SM-dup")
    page = store.list_messages("harbor", first.conversation_id)
    assert [m.message_id for m in page.items] == [first.message_id]
    assert store.get_conversation("harbor", first.conversation_id).unread_count == 1
    assert store.find_by_carrier_id("twilio", "SM-dup").message_id == first.message_id


def test_conversations_list_by_last_activity_with_opaque_cursors(
    store: MessageStore, cipher: EnvelopeCipher, directory: TenantDirectory
) -> None:
    old = _store_message(store, cipher, directory, phone=CLIENT_PHONE, at=_stamp(1))
    new = _store_message(store, cipher, directory, phone=OTHER_CLIENT_PHONE, at=_stamp(2))
    first = store.list_conversations("harbor", limit=1)
    assert [c.conversation_id for c in first.items] == [new.conversation_id]
    assert first.cursor is not None
    second = store.list_conversations("harbor", limit=1, cursor=first.cursor)
    assert [c.conversation_id for c in second.items] == [old.conversation_id]
    # A reply to the older conversation moves it to the top.
    _store_message(store, cipher, directory, phone=CLIENT_PHONE, at=_stamp(3))
    assert store.list_conversations("harbor").items[0].conversation_id == old.conversation_id
    assert store.list_conversations("cedar").items == []


def test_a_thread_reads_newest_first_across_pages(
    store: MessageStore, cipher: EnvelopeCipher, directory: TenantDirectory
) -> None:
    sent = [_store_message(store, cipher, directory, at=_stamp(i)) for i in range(7)]
    conversation_id = sent[0].conversation_id
    seen: list[str] = []
    cursor = None
    while True:
        page = store.list_messages("harbor", conversation_id, limit=3, cursor=cursor)
        seen += [m.message_id for m in page.items]
        if not page.cursor:
            break
        cursor = page.cursor
    assert seen == [m.message_id for m in reversed(sent)]


def test_a_cursor_from_another_tenant_or_forged_is_refused(
    store: MessageStore, cipher: EnvelopeCipher, directory: TenantDirectory
) -> None:
    _store_message(store, cipher, directory, phone=CLIENT_PHONE, at=_stamp(1))
    _store_message(store, cipher, directory, phone=OTHER_CLIENT_PHONE, at=_stamp(2))
    cursor = store.list_conversations("harbor", limit=1).cursor
    with pytest.raises(InvalidCursorError):
        store.list_conversations("cedar", cursor=cursor)
    forged = base64.urlsafe_b64encode(b'{"pk": 1}').decode()
    for bad in ("not-base64!!", forged, "e30"):
        with pytest.raises(InvalidCursorError):
            store.list_conversations("harbor", cursor=bad)


def test_page_size_is_clamped_to_the_maximum(
    store: MessageStore, cipher: EnvelopeCipher, directory: TenantDirectory
) -> None:
    sent = [_store_message(store, cipher, directory, at=_stamp(i)) for i in range(3)]
    page = store.list_messages("harbor", sent[0].conversation_id, limit=10_000)
    assert len(page.items) == 3


def test_status_advances_and_never_regresses(
    store: MessageStore, cipher: EnvelopeCipher, directory: TenantDirectory
) -> None:
    message = _store_message(store, cipher, directory, direction=Direction.OUTBOUND)
    ref = MessageRef("harbor", message.conversation_id, message.message_id)
    assert store.advance_status(
        ref, MessageStatus.SENT, at=_stamp(1), carrier="aws", carrier_message_id="aws-1"
    )
    assert store.advance_status(ref, MessageStatus.DELIVERED, at=_stamp(3))
    # Late and repeated events change nothing.
    assert not store.advance_status(ref, MessageStatus.SENT, at=_stamp(4))
    assert not store.advance_status(ref, MessageStatus.DELIVERED, at=_stamp(5))
    assert not store.advance_status(ref, MessageStatus.FAILED, at=_stamp(6), failure_reason="x")
    final = store.get_message(ref)
    assert final.status is MessageStatus.DELIVERED
    assert final.carrier_message_id == "aws-1"
    assert store.find_by_carrier_id("aws", "aws-1") == ref


def test_status_for_an_unknown_message_is_not_found(store: MessageStore) -> None:
    with pytest.raises(NotFoundError):
        store.advance_status(
            MessageRef("harbor", "nope", new_id()), MessageStatus.SENT, at=_stamp(1)
        )
    with pytest.raises(NotFoundError):
        store.find_by_carrier_id("twilio", "SM-unknown")


def test_an_outbound_message_to_an_unknown_conversation_needs_its_number(
    store: MessageStore, cipher: EnvelopeCipher, directory: TenantDirectory
) -> None:
    message = Message(
        "harbor",
        "no-such-conversation",
        new_id(),
        Direction.OUTBOUND,
        MessageStatus.QUEUED,
        b"x",
        _stamp(1),
        _stamp(1),
        1_900_000_000,
    )
    with pytest.raises(NotFoundError):
        store.record_message(message)


def test_request_paths_never_scan(
    store: MessageStore, cipher: EnvelopeCipher, directory: TenantDirectory
) -> None:
    operations = record_operations(store._table.meta.client)
    message = _store_message(store, cipher, directory, carrier_id="SM-scan")
    store.list_conversations("harbor")
    store.list_messages("harbor", message.conversation_id)
    store.find_by_carrier_id("twilio", "SM-scan")
    store.mark_conversation_read("harbor", message.conversation_id)
    assert operations and "Scan" not in operations
    assert store.get_conversation("harbor", message.conversation_id).unread_count == 0


def test_a_wiped_tenant_is_refused(
    store: MessageStore, directory: TenantDirectory, table: Any
) -> None:
    table.update_item(
        Key={"pk": "TENANT#harbor", "sk": "PROFILE"},
        UpdateExpression="SET #s = :w",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":w": "wiped"},
    )
    with pytest.raises(TenantUnavailableError):
        directory.active_tenant("harbor")
    assert directory.active_tenant("cedar").tenant_id == "cedar"
