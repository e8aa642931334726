"""Phone numbers: strict E.164 from carriers, national formats from people; errors never
echo the number.

Two doors, on purpose. A carrier always sends E.164 exactly, so anything else from one
(a vanity number, a 'whatsapp:' or 'tel:' prefix, another script's digits, an extension)
is refused, never repaired: `require_e164`. People type numbers the way they write them,
so the inbox, the contact import and the CLI accept national formats in the practice's
region and normalize them: `to_e164`. Neither guesses a letter into a digit or drops an
extension, which would turn what was typed into somebody else's number.

`phonenumbers` is imported on first use, not with this module: the staff API and the
status-event handlers import this module but parse a number only on some paths. A
handler that parses a number on every request calls `preload()` at import instead, so
its cold start, not its first request, pays for the library.
"""

from __future__ import annotations

import re
from typing import Any

from functions.core.errors import InvalidPhoneNumberError

# ASCII digits only: re's \d also matches Arabic-Indic, full-width and other digits.
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
# What a person may type: an optional leading +, ASCII digits and the usual separators.
# No letters (vanity numbers, "ext."), no ';' or '#' (extensions), no scheme prefixes.
_TYPED = re.compile(r"\+?[0-9 ()./-]+")
_MAX_TYPED_LENGTH = 32
TYPED_PROBLEM = (
    "must be a phone number: digits, optionally with +country code and spaces, ( ) - . /"
    " (no letters or extensions)"
)


def preload() -> None:
    """Import the parser now (for handlers that parse a number on every request)."""
    import phonenumbers  # noqa: F401, PLC0415 - see the module docstring


def is_region(code: str) -> bool:
    """Whether `code` is a region phonenumbers can parse national numbers for (US, GB...)."""
    import phonenumbers  # noqa: PLC0415 - see the module docstring

    return code in phonenumbers.SUPPORTED_REGIONS


def _valid(raw: str, region: str | None) -> Any:
    """The parsed number if phonenumbers reads `raw` as a valid one, else None."""
    import phonenumbers  # noqa: PLC0415 - see the module docstring

    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None


def _format_e164(parsed: Any) -> str:
    import phonenumbers  # noqa: PLC0415 - see the module docstring

    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def require_e164(raw: object, *, field: str) -> str:
    """`raw` itself if it is a valid number written exactly in E.164 ('+', country code,
    ASCII digits, nothing else); else InvalidPhoneNumberError naming `field`."""
    if not isinstance(raw, str) or not _E164.fullmatch(raw):
        raise InvalidPhoneNumberError(field)
    parsed = _valid(raw, None)
    if parsed is None or _format_e164(parsed) != raw:
        raise InvalidPhoneNumberError(field)
    return raw


def to_e164(raw: object, *, field: str = "phone_number", default_region: str | None = None) -> str:
    """The E.164 form of a number a person typed, or InvalidPhoneNumberError naming `field`.

    With `default_region` (the practice's, e.g. "US") a national number such as
    "(206) 555-0107" is read in that region; without it the number must start with '+'
    and its country code.
    """
    text = raw.strip() if isinstance(raw, str) else ""
    if not text or len(text) > _MAX_TYPED_LENGTH or not _TYPED.fullmatch(text):
        raise InvalidPhoneNumberError(field, TYPED_PROBLEM)
    parsed = _valid(text, default_region)
    if parsed is None:
        raise InvalidPhoneNumberError(field, TYPED_PROBLEM)
    return _format_e164(parsed)
