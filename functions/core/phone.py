"""E.164 phone-number parsing with `phonenumbers`; errors never echo the number."""

from __future__ import annotations

import phonenumbers

from functions.core.errors import InvalidPhoneNumberError


def to_e164(raw: str, *, field: str = "phone_number", default_region: str | None = None) -> str:
    """Return the E.164 form of `raw`, or raise InvalidPhoneNumberError naming `field`.

    Without `default_region` the input must already carry a leading '+' and country code;
    carriers always send E.164, so a bare national number is rejected rather than guessed.
    """
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 32:
        raise InvalidPhoneNumberError(field)
    try:
        parsed = phonenumbers.parse(raw.strip(), default_region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumberError(field) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumberError(field)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def is_e164(raw: str) -> bool:
    try:
        return to_e164(raw) == raw
    except InvalidPhoneNumberError:
        return False
