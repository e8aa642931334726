"""Known answers for every encryption location: a rename here would orphan stored ciphertext.

Each expected AAD was built outside Python (printf | xxd) from the documented layout:
b"quietline" | version:u8 | (length:u16 | UTF-8) of tenant, conversation, record, field.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from functions.crypto import contexts
from functions.crypto.envelope import FieldLocation

pytestmark = pytest.mark.unit

TENANT = "harbor"
CONVERSATION = "conv1"
MESSAGE = "01JMSG0000000000000000000A"
EXPORT = "01JEXP0000000000000000000B"
CALL = "01JCAL0000000000000000000C"
USER = "user1"

KNOWN_ANSWERS: list[tuple[str, Callable[[], FieldLocation], dict[str, str], str]] = [
    (
        "message-body",
        lambda: contexts.body_location(TENANT, CONVERSATION, MESSAGE),
        {
            "tenant_id": "harbor",
            "conversation_id": "conv1",
            "record_id": "01JMSG0000000000000000000A",
            "field": "body",
        },
        "71756965746c696e65010006686172626f720005636f6e7631001a30314a4d5347303030303030303030"
        "30303030303030303030410004626f6479",
    ),
    (
        "sms-text",
        lambda: contexts.sms_text_location(TENANT, CONVERSATION, MESSAGE),
        {
            "tenant_id": "harbor",
            "conversation_id": "conv1",
            "record_id": "01JMSG0000000000000000000A",
            "field": "sms_text",
        },
        "71756965746c696e65010006686172626f720005636f6e7631001a30314a4d5347303030303030303030"
        "30303030303030303030410008736d735f74657874",
    ),
    (
        "contact-phone",
        lambda: contexts.phone_location(TENANT, CONVERSATION),
        {
            "tenant_id": "harbor",
            "conversation_id": "conv1",
            "record_id": "contact",
            "field": "phone",
        },
        "71756965746c696e65010006686172626f720005636f6e76310007636f6e74616374000570686f6e65",
    ),
    (
        "contact-name",
        lambda: contexts.name_location(TENANT, CONVERSATION),
        {
            "tenant_id": "harbor",
            "conversation_id": "conv1",
            "record_id": "contact",
            "field": "name",
        },
        "71756965746c696e65010006686172626f720005636f6e76310007636f6e7461637400046e616d65",
    ),
    (
        "blind-index-key",
        lambda: contexts.index_key_location(TENANT),
        {
            "tenant_id": "harbor",
            "conversation_id": "-",
            "record_id": "tenant",
            "field": "blind_index_key",
        },
        "71756965746c696e65010006686172626f7200012d000674656e616e74000f626c696e645f696e6465"
        "785f6b6579",
    ),
    (
        "export-bundle",
        lambda: contexts.export_location(TENANT, EXPORT),
        {
            "tenant_id": "harbor",
            "conversation_id": "export",
            "record_id": "01JEXP0000000000000000000B",
            "field": "fhir_bundle",
        },
        "71756965746c696e65010006686172626f7200066578706f7274001a30314a4558503030303030303030"
        "303030303030303030303042000b666869725f62756e646c65",
    ),
    (
        "voicemail-audio",
        lambda: contexts.voicemail_location(TENANT, CONVERSATION, CALL),
        {
            "tenant_id": "harbor",
            "conversation_id": "conv1",
            "record_id": "01JCAL0000000000000000000C",
            "field": "voicemail_audio",
        },
        "71756965746c696e65010006686172626f720005636f6e7631001a30314a43414c303030303030303030"
        "3030303030303030303043000f766f6963656d61696c5f617564696f",
    ),
    (
        "voicemail-transcript",
        lambda: contexts.transcript_location(TENANT, CONVERSATION, CALL),
        {
            "tenant_id": "harbor",
            "conversation_id": "conv1",
            "record_id": "01JCAL0000000000000000000C",
            "field": "voicemail_transcript",
        },
        "71756965746c696e65010006686172626f720005636f6e7631001a30314a43414c303030303030303030"
        "30303030303030303030430014766f6963656d61696c5f7472616e736372697074",
    ),
    (
        "forwarding-number",
        lambda: contexts.forwarding_number_location(TENANT, USER),
        {
            "tenant_id": "harbor",
            "conversation_id": "staff",
            "record_id": "user1",
            "field": "forwarding_number",
        },
        "71756965746c696e65010006686172626f7200057374616666000575736572310011666f72776172"
        "64696e675f6e756d626572",
    ),
    (
        "push-subscription",
        lambda: contexts.push_subscription_location(TENANT, USER, "sub1"),
        {
            "tenant_id": "harbor",
            "conversation_id": "push",
            "record_id": "user1:sub1",
            "field": "push_subscription",
        },
        "71756965746c696e65010006686172626f72000470757368000a75736572313a7375623100117075"
        "73685f737562736372697074696f6e",
    ),
]
IDS = [name for name, *_ in KNOWN_ANSWERS]


@pytest.mark.parametrize(("name", "build", "context", "aad_hex"), KNOWN_ANSWERS, ids=IDS)
def test_each_location_has_the_kms_encryption_context_stored_records_were_sealed_under(
    name: str, build: Callable[[], FieldLocation], context: dict[str, str], aad_hex: str
) -> None:
    assert build().encryption_context() == context


@pytest.mark.parametrize(("name", "build", "context", "aad_hex"), KNOWN_ANSWERS, ids=IDS)
def test_each_location_has_the_gcm_associated_data_stored_records_were_sealed_under(
    name: str, build: Callable[[], FieldLocation], context: dict[str, str], aad_hex: str
) -> None:
    assert build().associated_data(1).hex() == aad_hex
