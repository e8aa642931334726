"""E.164 phone-number parsing with `phonenumbers`; errors never echo the number.

`phonenumbers` is imported on first use, not with this module: the staff API and the
status-event handlers import this module but parse a number only on some paths. A
handler that parses a number on every request calls `preload()` at import instead, so
its cold start, not its first request, pays for the library.
"""

from __future__ import annotations

from functions.core.errors import InvalidPhoneNumberError


def preload() -> None:
    """Import the parser now (for handlers that parse a number on every request)."""
    import phonenumbers  # noqa: F401, PLC0415 - see the module docstring


def to_e164(raw: str, *, field: str = "phone_number", default_region: str | None = None) -> str:
    """Return the E.164 form of `raw`, or raise InvalidPhoneNumberError naming `field`.

    Without `default_region` the input must already carry a leading '+' and country code;
    carriers always send E.164, so a bare national number is rejected rather than guessed.
    """
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 32:
        raise InvalidPhoneNumberError(field)
    import phonenumbers  # noqa: PLC0415 - see the module docstring

    try:
        parsed = phonenumbers.parse(raw.strip(), default_region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumberError(field) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumberError(field)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
