"""SMS segment counting (GSM-7 / UCS-2, concatenation headers) and the body length limit."""

from __future__ import annotations

import pytest

from functions.core.errors import ValidationError
from functions.logic.segments import SegmentInfo, count_segments, validate_body_length
from tests.phi_samples import LONG_BODY

pytestmark = pytest.mark.unit

EURO = "€"  # GSM-7 extension table: escape + character, two septets
HAN = "你"  # outside GSM-7, one UTF-16 code unit
EMOJI = "😀"  # outside the BMP: a surrogate pair, two UTF-16 code units


def test_given_an_empty_body_when_counted_then_one_gsm7_segment_as_carriers_bill() -> None:
    assert count_segments("") == SegmentInfo("GSM-7", 1, 0, 0)


@pytest.mark.parametrize(
    ("length", "segments"), [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)]
)
def test_given_plain_gsm7_text_when_counted_then_160_single_and_153_per_part(
    length: int, segments: int
) -> None:
    info = count_segments("a" * length)

    assert (info.encoding, info.segments, info.characters, info.units) == (
        "GSM-7",
        segments,
        length,
        length,
    )


@pytest.mark.parametrize("char", "^{}\\[~]|€\f")
def test_given_an_extension_character_when_counted_then_it_costs_two_septets(char: str) -> None:
    info = count_segments(char)

    assert (info.encoding, info.characters, info.units) == ("GSM-7", 1, 2)


def test_given_an_extension_char_filling_exactly_160_septets_when_counted_then_one_segment() -> (
    None
):
    assert count_segments("a" * 158 + EURO).segments == 1


def test_given_an_extension_char_reaching_161_septets_when_counted_then_two_segments() -> None:
    assert count_segments("a" * 159 + EURO).segments == 2


def test_given_an_extension_char_straddling_a_part_boundary_when_counted_then_it_moves_whole() -> (
    None
):
    # 306 septets would fit two parts, but the escape pair cannot split at 153.
    body = "a" * 152 + EURO + "a" * 152

    info = count_segments(body)

    assert (info.units, info.segments) == (306, 3)


def test_given_an_extension_char_ending_a_part_exactly_when_counted_then_no_extra_part() -> None:
    body = "a" * 151 + EURO + "a" * 153

    assert (count_segments(body).units, count_segments(body).segments) == (306, 2)


def test_given_gsm7_accents_and_symbols_when_counted_then_they_stay_gsm7() -> None:
    info = count_segments("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!¤§¿¡ÄÖÑÜäöñüà\r\n")

    assert info.encoding == "GSM-7"


@pytest.mark.parametrize("char", ["\u2019", "\u201c", "ç", "ą", HAN, EMOJI, "\x1b"])
def test_given_one_character_outside_gsm7_when_counted_then_the_whole_text_is_ucs2(
    char: str,
) -> None:
    assert count_segments("a" * 100 + char).encoding == "UCS-2"


@pytest.mark.parametrize(
    ("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
)
def test_given_ucs2_text_when_counted_then_70_single_and_67_per_part(
    length: int, segments: int
) -> None:
    info = count_segments(HAN * length)

    assert (info.encoding, info.segments, info.units) == ("UCS-2", segments, length)


def test_given_an_emoji_when_counted_then_one_character_but_two_code_units() -> None:
    info = count_segments(EMOJI)

    assert (info.encoding, info.characters, info.units, info.segments) == ("UCS-2", 1, 2, 1)


def test_given_an_emoji_filling_exactly_70_units_when_counted_then_one_segment() -> None:
    assert count_segments(HAN * 68 + EMOJI).segments == 1


def test_given_an_emoji_reaching_71_units_when_counted_then_two_segments() -> None:
    assert count_segments(HAN * 69 + EMOJI).segments == 2


def test_given_an_emoji_straddling_a_part_boundary_when_counted_then_it_moves_whole() -> None:
    # 134 units would fit two parts, but a surrogate pair cannot split at 67.
    body = HAN * 66 + EMOJI + HAN * 66

    info = count_segments(body)

    assert (info.units, info.segments) == (134, 3)


def test_given_a_realistic_long_message_when_counted_then_parts_follow_its_length() -> None:
    info = count_segments(LONG_BODY)

    assert info.encoding == "GSM-7"
    assert info.segments == -(-len(LONG_BODY) // 153)


def test_given_a_body_at_the_limit_when_validated_then_it_passes() -> None:
    validate_body_length("a" * 1600)


def test_given_a_body_past_the_limit_when_validated_then_the_error_names_body_only() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_body_length(LONG_BODY + "a" * 1600)

    assert caught.value.field == "body"
    assert LONG_BODY[:20] not in str(caught.value)


def test_given_emoji_when_validated_then_code_points_not_code_units_are_counted() -> None:
    validate_body_length(EMOJI * 1600)

    with pytest.raises(ValidationError):
        validate_body_length(EMOJI * 1601)


def test_given_a_practice_limit_when_validated_then_it_applies() -> None:
    validate_body_length("a" * 320, max_chars=320)

    with pytest.raises(ValidationError):
        validate_body_length("a" * 321, max_chars=320)


def test_given_a_body_that_is_not_text_when_validated_then_validation_fails() -> None:
    with pytest.raises(ValidationError):
        validate_body_length(None)  # type: ignore[arg-type]
