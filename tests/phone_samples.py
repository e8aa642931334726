"""Numbers a carrier must never hand us, each the client's number in a disguise that a
lenient parser would quietly turn into (or past) a real E.164 number."""

from __future__ import annotations

from tests.phi_samples import CLIENT_PHONE

_DIGITS = CLIENT_PHONE.lstrip("+")
assert _DIGITS.startswith("1") and len(_DIGITS) == 11, "the samples assume a US number"
_AREA, _EXCHANGE, _LINE = _DIGITS[1:4], _DIGITS[4:7], _DIGITS[7:]


def _digits_from(zero: int) -> str:
    """The number's digits in the script whose zero is code point `zero`."""
    return "".join(chr(zero + int(digit)) for digit in _DIGITS)


ARABIC_INDIC_ZERO, FULL_WIDTH_ZERO, FULL_WIDTH_PLUS = 0x0660, 0xFF10, "\uff0b"

# name -> value; the names are the test ids, so no number appears in a report.
NOT_E164_FROM_A_CARRIER: dict[str, str] = {
    "vanity letters": "+1-800-FLOWERS",
    "vanity letters unformatted": "+1800FLOWERS",
    "whatsapp prefix": "whatsapp:" + CLIENT_PHONE,
    "tel uri": "tel:" + CLIENT_PHONE,
    "sms uri": "sms:" + CLIENT_PHONE,
    "arabic-indic digits": "+" + _digits_from(ARABIC_INDIC_ZERO),
    "full-width digits": "+" + _digits_from(FULL_WIDTH_ZERO),
    "full-width plus": FULL_WIDTH_PLUS + _DIGITS,
    "extension ext.": CLIENT_PHONE + " ext. 12",
    "extension x": CLIENT_PHONE + "x12",
    "extension rfc3966": CLIENT_PHONE + ";ext=12",
    "formatted": f"+1 ({_AREA}) {_EXCHANGE}-{_LINE}",
    "no plus": _DIGITS,
    "surrounding spaces": f" {CLIENT_PHONE} ",
}

# What people may type for CLIENT_PHONE in the practice's region (US).
TYPED_FORMS_OF_CLIENT_PHONE: dict[str, str] = {
    "e164": CLIENT_PHONE,
    "us national with parentheses": f"({_AREA}) {_EXCHANGE}-{_LINE}",
    "us national with dashes": f"{_AREA}-{_EXCHANGE}-{_LINE}",
    "us national with dots": f"{_AREA}.{_EXCHANGE}.{_LINE}",
    "us with country code, no plus": f"1 {_AREA} {_EXCHANGE} {_LINE}",
    "international formatted": f"+1 ({_AREA}) {_EXCHANGE}-{_LINE}",
    "padded": f"  {_AREA} {_EXCHANGE} {_LINE} ",
}

# Refused even from people: each would become a different number, or drop part of it.
NOT_A_NUMBER_PEOPLE_TYPE: dict[str, str] = {
    name: NOT_E164_FROM_A_CARRIER[name]
    for name in (
        "vanity letters",
        "whatsapp prefix",
        "tel uri",
        "arabic-indic digits",
        "full-width digits",
        "extension ext.",
        "extension x",
        "extension rfc3966",
    )
}
