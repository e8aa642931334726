"""How many SMS segments a body costs, counted the way carriers bill it.

GSM-7 (GSM 03.38 basic set, extension characters cost two septets) fits 160 septets in one
segment, 153 per segment once concatenated (the header takes the rest). Anything outside
GSM-7 sends the whole text as UCS-2: 70 UTF-16 code units, 67 when concatenated. A segment
never ends between an escape and its character, or between the halves of a surrogate pair,
so such a character moves whole to the next segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from functions.core.errors import ValidationError

Encoding = Literal["GSM-7", "UCS-2"]

MAX_BODY_CHARS = 1600  # both AWS End User Messaging and Twilio refuse longer bodies

_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = frozenset("\f^{}\\[~]|€")  # sent as ESC + character: two septets

_GSM_SINGLE, _GSM_MULTI = 160, 153
_UCS2_SINGLE, _UCS2_MULTI = 70, 67


@dataclass(frozen=True)
class SegmentInfo:
    encoding: Encoding
    segments: int
    characters: int  # Unicode code points, as the 1600 limit counts them
    units: int  # what the segment limits count: septets (GSM-7) or UTF-16 code units (UCS-2)


def _gsm_cost(char: str) -> int | None:
    if char in _GSM_BASIC:
        return 1
    if char in _GSM_EXTENSION:
        return 2
    return None


def _pack(costs: list[int], single: int, multi: int) -> int:
    total = sum(costs)
    if total <= single:
        return 1  # an empty body still costs one segment if sent
    segments, used = 1, 0
    for cost in costs:
        if used + cost > multi:  # an indivisible character starts the next segment
            segments, used = segments + 1, 0
        used += cost
    return segments


def count_segments(body: str) -> SegmentInfo:
    gsm_costs = [_gsm_cost(char) for char in body]
    if all(cost is not None for cost in gsm_costs):
        costs = [cost for cost in gsm_costs if cost is not None]
        return SegmentInfo("GSM-7", _pack(costs, _GSM_SINGLE, _GSM_MULTI), len(body), sum(costs))
    # Characters beyond the BMP (most emoji) are a surrogate pair: two code units.
    costs = [2 if ord(char) > 0xFFFF else 1 for char in body]
    return SegmentInfo("UCS-2", _pack(costs, _UCS2_SINGLE, _UCS2_MULTI), len(body), sum(costs))


def validate_body_length(body: str, max_chars: int = MAX_BODY_CHARS) -> None:
    """Raise ValidationError past `max_chars` Unicode code points (not bytes, not segments)."""
    if not isinstance(body, str):
        raise ValidationError("body", "must be text")
    if len(body) > max_chars:
        raise ValidationError("body", f"must be at most {max_chars} characters")
