"""Consent records and the send checks: opt-out first, then plain-SMS consent."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from functions.core.errors import ConsentRequiredError, OptedOutError, ValidationError
from functions.logic.consent import (
    ConsentMode,
    ConsentRecord,
    check_can_send_plain_sms,
    check_can_send_secure_link,
)

pytestmark = pytest.mark.unit

PLAIN = ConsentRecord(ConsentMode.PLAIN_SMS, "user-7", "2026-11-28T10:00:00.000Z", "v1")
SECURE = ConsentRecord(ConsentMode.SECURE_LINK, "user-7", "2026-11-28T10:00:00.000Z", "v1")


def test_given_a_record_when_turned_into_an_item_then_it_is_plain_strings() -> None:
    assert PLAIN.to_item() == {
        "mode": "plain_sms",
        "captured_by": "user-7",
        "captured_at": "2026-11-28T10:00:00.000Z",
        "wording_version": "v1",
    }


@pytest.mark.parametrize("record", [PLAIN, SECURE])
def test_given_an_item_when_read_back_then_the_record_round_trips(record: ConsentRecord) -> None:
    assert ConsentRecord.from_item(record.to_item()) == record


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"mode": "carrier_pigeon"}, "consent.mode"),
        ({"mode": None}, "consent.mode"),
        ({"captured_by": ""}, "consent.captured_by"),
        ({"captured_at": None}, "consent.captured_at"),
        ({"wording_version": 2}, "consent.wording_version"),
    ],
)
def test_given_a_malformed_item_when_read_then_validation_names_the_field(
    changes: dict[str, Any], field: str
) -> None:
    item: dict[str, Any] = {**PLAIN.to_item(), **changes}

    with pytest.raises(ValidationError) as caught:
        ConsentRecord.from_item(item)

    assert caught.value.field == field


def test_given_a_record_when_changed_then_it_refuses() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        PLAIN.mode = ConsentMode.SECURE_LINK  # type: ignore[misc]


def test_given_plain_sms_consent_and_no_opt_out_when_checked_then_sending_is_allowed() -> None:
    check_can_send_plain_sms(PLAIN, opted_out=False)


@pytest.mark.parametrize("consent", [None, SECURE])
def test_given_no_plain_sms_consent_when_checked_then_consent_is_required(
    consent: ConsentRecord | None,
) -> None:
    with pytest.raises(ConsentRequiredError) as caught:
        check_can_send_plain_sms(consent, opted_out=False)

    assert str(caught.value) == "plain SMS needs the client's recorded plain_sms consent"


@pytest.mark.parametrize("consent", [None, SECURE, PLAIN])
def test_given_an_opted_out_client_when_checked_then_opt_out_wins_over_any_consent(
    consent: ConsentRecord | None,
) -> None:
    with pytest.raises(OptedOutError) as caught:
        check_can_send_plain_sms(consent, opted_out=True)

    assert str(caught.value) == "recipient opted out; they must text START"


def test_given_an_opted_out_client_when_a_secure_link_is_checked_then_it_is_refused_too() -> None:
    with pytest.raises(OptedOutError):
        check_can_send_secure_link(opted_out=True)


def test_given_a_subscribed_client_when_a_secure_link_is_checked_then_it_is_allowed() -> None:
    check_can_send_secure_link(opted_out=False)
