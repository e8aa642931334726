"""Opt-out / opt-in / help keywords: whole message only, forgiving of case and punctuation."""

from __future__ import annotations

import pytest

from functions.logic.keywords import Keyword, classify, default_reply
from functions.logic.segments import count_segments

pytestmark = pytest.mark.unit

OPT_OUT_WORDS = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
    "OPT-OUT",
    "OPT OUT",
    "ARRET",
    "REMOVE",
    "TD",
]
THIRTY_CHAR_NAME = "Harbor Counseling & Wellness 1"


@pytest.mark.parametrize("word", OPT_OUT_WORDS)
def test_given_each_opt_out_keyword_when_classified_then_it_is_an_opt_out(word: str) -> None:
    assert classify(word) is Keyword.OPT_OUT
    assert classify(word.lower()) is Keyword.OPT_OUT
    assert classify(word.title()) is Keyword.OPT_OUT


@pytest.mark.parametrize(
    "body",
    [
        "STOP.",
        "Stop!",
        "stop!!",
        "  stop  ",
        "\tSTOP\n",
        "STOP !",
        "opt   out",
        "Opt Out.",
        "ArrÊt",
        "STOP,",
        "STOP;",
        "Stop:",
        "stop?",
        "STOP ,",
    ],
)
def test_given_spacing_and_trailing_punctuation_when_classified_then_still_an_opt_out(
    body: str,
) -> None:
    assert classify(body) is Keyword.OPT_OUT


@pytest.mark.parametrize("body", ["START", "start", "Unstop", "START."])
def test_given_start_or_unstop_when_classified_then_it_is_an_opt_in(body: str) -> None:
    assert classify(body) is Keyword.OPT_IN


@pytest.mark.parametrize("body", ["HELP", "help?", "Info", "INFO."])
def test_given_help_or_info_when_classified_then_it_is_help(body: str) -> None:
    assert classify(body) is Keyword.HELP


@pytest.mark.parametrize(
    "body",
    [
        "stop calling me after 5",
        "please stop",
        "STOP STOP",
        "STOPP",
        "S T O P",
        "YES",
        "y",
        "help me reschedule",
        "",
        "   ",
        "...",
    ],
)
def test_given_a_keyword_inside_a_sentence_or_no_keyword_when_classified_then_none(
    body: str,
) -> None:
    assert classify(body) is None


def test_given_an_opt_out_when_replied_then_the_text_names_the_practice_and_confirms_silence() -> (
    None
):
    reply = default_reply(Keyword.OPT_OUT, "Harbor Counseling", "(206) 555-0100")

    assert reply == (
        "You're unsubscribed from Harbor Counseling texts. No more messages will be sent. "
        "Reply START to resubscribe."
    )


def test_given_an_opt_in_when_replied_then_the_text_says_how_to_stop_and_get_help() -> None:
    reply = default_reply(Keyword.OPT_IN, "Harbor Counseling", "(206) 555-0100")

    assert reply == (
        "You're resubscribed to Harbor Counseling texts. Reply STOP to opt out, HELP for help."
    )


def test_given_help_when_replied_then_the_text_has_contact_rates_frequency_and_stop() -> None:
    reply = default_reply(Keyword.HELP, "Cedar Therapy", "https://cedar.example/help")

    assert reply == (
        "Cedar Therapy: for help call or visit https://cedar.example/help. "
        "Msg & data rates may apply. Msg frequency varies. Reply STOP to opt out."
    )


@pytest.mark.parametrize("keyword", list(Keyword))
@pytest.mark.parametrize("support", ["(206) 555-0100", "https://harbor-counseling.com/h"])
def test_given_a_thirty_char_name_when_replied_then_one_gsm7_segment(
    keyword: Keyword, support: str
) -> None:
    assert len(THIRTY_CHAR_NAME) == 30

    info = count_segments(default_reply(keyword, THIRTY_CHAR_NAME, support))

    assert (info.encoding, info.segments) == ("GSM-7", 1)
    assert info.units <= 160


def test_given_name_and_contact_of_61_chars_when_help_is_replied_then_it_just_fits() -> None:
    contact = "https://harbor-counseling.com/h"
    assert len(THIRTY_CHAR_NAME + contact) == 61

    assert count_segments(default_reply(Keyword.HELP, THIRTY_CHAR_NAME, contact)).units == 160
    assert (
        count_segments(default_reply(Keyword.HELP, THIRTY_CHAR_NAME, contact + "x")).segments == 2
    )


def test_given_a_69_char_name_when_stop_is_replied_then_it_still_fits_one_segment() -> None:
    assert count_segments(default_reply(Keyword.OPT_OUT, "N" * 69, "")).units == 160
