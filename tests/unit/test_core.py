"""Phone numbers, ids, blind indexes and status ranks."""

from __future__ import annotations

import re

import pytest

from functions.core.errors import InvalidPhoneNumberError
from functions.core.ids import new_id
from functions.core.models import STATUS_RANK, MessageStatus
from functions.core.phone import is_region, require_e164, to_e164
from functions.crypto.blind_index import blind_index
from tests.phi_samples import CLIENT_PHONE, OTHER_CLIENT_PHONE
from tests.phone_samples import (
    NOT_A_NUMBER_PEOPLE_TYPE,
    NOT_E164_FROM_A_CARRIER,
    TYPED_FORMS_OF_CLIENT_PHONE,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("raw", [CLIENT_PHONE, " +1 (206) 555-0142 ", "+1.206.555.0142"])
def test_valid_numbers_normalize_to_e164(raw: str) -> None:
    assert to_e164(raw) == CLIENT_PHONE


@pytest.mark.parametrize(
    "raw", ["", "12065550142", "+1206555", "+99912345678", "hello", "+" + "1" * 40]
)
def test_invalid_numbers_raise_without_echoing_the_value(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumberError) as caught:
        to_e164(raw, field="to")
    assert str(caught.value).startswith("to: ")
    assert raw.strip() == "" or raw not in str(caught.value)


def test_a_national_number_needs_an_explicit_region() -> None:
    assert to_e164("(206) 555-0142", default_region="US") == CLIENT_PHONE


# --- strict E.164 from carriers ----------------------------------------------------------
def test_given_an_e164_number_from_a_carrier_when_required_then_it_is_kept_as_sent() -> None:
    assert require_e164(CLIENT_PHONE, field="from") == CLIENT_PHONE


@pytest.mark.parametrize(
    "raw", NOT_E164_FROM_A_CARRIER.values(), ids=NOT_E164_FROM_A_CARRIER.keys()
)
def test_given_anything_but_exact_e164_from_a_carrier_when_required_then_it_is_refused(
    raw: str,
) -> None:
    with pytest.raises(InvalidPhoneNumberError) as caught:
        require_e164(raw, field="from")

    assert caught.value.field == "from"
    assert raw not in str(caught.value) and CLIENT_PHONE not in str(caught.value)


@pytest.mark.parametrize("raw", [None, 12065550142, b"+12065550142"])
def test_given_a_non_string_from_a_carrier_when_required_then_it_is_refused(raw: object) -> None:
    with pytest.raises(InvalidPhoneNumberError):
        require_e164(raw, field="to")


def test_given_e164_shaped_digits_of_no_real_number_when_required_then_it_is_refused() -> None:
    with pytest.raises(InvalidPhoneNumberError):
        require_e164("+99912345678", field="to")


# --- national formats from people --------------------------------------------------------
@pytest.mark.parametrize(
    "typed", TYPED_FORMS_OF_CLIENT_PHONE.values(), ids=TYPED_FORMS_OF_CLIENT_PHONE.keys()
)
def test_given_a_number_typed_in_the_practices_region_when_normalized_then_it_is_e164(
    typed: str,
) -> None:
    assert to_e164(typed, default_region="US") == CLIENT_PHONE


def test_given_another_region_when_a_national_number_is_normalized_then_that_region_applies() -> (
    None
):
    london = "020 7946 0018"  # Ofcom's drama range

    assert to_e164(london, default_region="GB") == "+442079460018"
    with pytest.raises(InvalidPhoneNumberError):
        to_e164(london, default_region="US")


@pytest.mark.parametrize(
    "typed", NOT_A_NUMBER_PEOPLE_TYPE.values(), ids=NOT_A_NUMBER_PEOPLE_TYPE.keys()
)
def test_given_letters_prefixes_other_digits_or_an_extension_when_typed_then_refused(
    typed: str,
) -> None:
    with pytest.raises(InvalidPhoneNumberError) as caught:
        to_e164(typed, field="phone_number", default_region="US")

    assert caught.value.field == "phone_number"
    assert typed not in str(caught.value) and CLIENT_PHONE not in str(caught.value)


@pytest.mark.parametrize(
    ("code", "known"), [("US", True), ("GB", True), ("XX", False), ("us", False), ("USA", False)]
)
def test_given_a_region_code_when_checked_then_only_real_ones_pass(code: str, known: bool) -> None:
    assert is_region(code) is known


def test_ids_sort_by_creation_time_and_are_unique() -> None:
    ids = [new_id(now_ms=1_700_000_000_000 + i) for i in range(50)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 50
    assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", i) for i in ids)  # Crockford base32
    assert new_id(now_ms=5) != new_id(now_ms=5)


def test_blind_index_is_stable_per_key_and_differs_across_keys_and_numbers() -> None:
    key_a, key_b = b"a" * 32, b"b" * 32
    first = blind_index(key_a, "contact_phone", CLIENT_PHONE)
    assert first == blind_index(key_a, "contact_phone", CLIENT_PHONE)
    assert first != blind_index(key_b, "contact_phone", CLIENT_PHONE)
    assert first != blind_index(key_a, "contact_phone", OTHER_CLIENT_PHONE)
    assert first != blind_index(key_a, "other_purpose", CLIENT_PHONE)
    assert len(first) == 26 and CLIENT_PHONE.lstrip("+") not in first


def test_blind_index_refuses_a_short_key() -> None:
    with pytest.raises(ValueError):
        blind_index(b"short", "contact_phone", CLIENT_PHONE)


@pytest.mark.parametrize(
    ("current", "new", "advances"),
    [
        (MessageStatus.QUEUED, MessageStatus.SENT, True),
        (MessageStatus.SENT, MessageStatus.DELIVERED, True),
        (MessageStatus.QUEUED, MessageStatus.FAILED, True),
        (MessageStatus.DELIVERED, MessageStatus.SENT, False),
        (MessageStatus.FAILED, MessageStatus.DELIVERED, False),
        (MessageStatus.DELIVERED, MessageStatus.FAILED, False),
        (MessageStatus.SENT, MessageStatus.SENT, False),
    ],
)
def test_status_only_moves_forward(
    current: MessageStatus, new: MessageStatus, advances: bool
) -> None:
    assert (STATUS_RANK[new] > STATUS_RANK[current]) is advances
