"""A practice's whole monthly bill (bench/bills.py) on hand-made prices: what is counted,
what is shown apart, and what is flagged."""

from __future__ import annotations

from typing import Any

import pytest

from bench.bills import Practice, bill
from bench.cost import Prices

pytestmark = pytest.mark.unit


def _entry(usd: float | None, status: str = "checked", per: str = "month") -> dict[str, Any]:
    return {"usd": usd, "status": status, "per": per, "source": "https://example.test/p"}


def _prices() -> Prices:
    carriers = {
        "eum_10dlc_number_month": _entry(1.0),
        "eum_10dlc_campaign_month": _entry(10.0, "unchecked"),
        "eum_sms_outbound": _entry(0.006, per="message"),
        "eum_sms_inbound": _entry(0.008, per="message"),
        "us_carrier_fee_10dlc_outbound": _entry(0.003, "secondary", per="message"),
        "eum_10dlc_brand_once": _entry(4.0, per="once"),
        "twilio_local_number_month": _entry(1.15),
        "twilio_10dlc_campaign_month": _entry(10.0),
        "twilio_sms_outbound": _entry(0.0083, per="message"),
        "twilio_sms_inbound": _entry(0.0083, per="message"),
        "twilio_10dlc_brand_once": _entry(4.5, per="once"),
        "twilio_10dlc_campaign_vetting_once": _entry(15.0, per="once"),
    }
    voice = {
        "twilio_inbound_local_minute": _entry(0.0085, "secondary"),
        "twilio_outbound_minute": _entry(0.013, "secondary"),
        "chime_pstn_inbound_minute": _entry(None, "unchecked"),
        "chime_pstn_outbound_minute": _entry(None, "unchecked"),
    }
    return Prices(
        {
            "prices": {"chime_phone_number_month": _entry(1.0, "unchecked")},
            "carriers": {"prices": carriers},
            "voice": {"prices": voice},
        }
    )


VOICE_ROW = {
    "aws_per_answered_call": {"total": 0.0001},
    "aws_per_voicemail_call": {"total": 0.0002},
}


def _bill(practice: Practice, carrier: str) -> dict[str, Any]:
    return bill(
        practice,
        carrier,
        _prices(),
        idle_usd=5.0,
        idle_variant="idle",
        variable_per_1000_usd=0.25,
        voice_row=VOICE_ROW,
        talk_minutes=5.0,
        voicemail_minutes=1.0,
    )


SOLO = Practice("solo", "Solo", 1, 300, 60, 0)
GROUP = Practice("group", "Group", 8, 5000, 0, 200)


def test_given_a_solo_practice_on_twilio_when_billed_then_every_monthly_line_is_counted() -> None:
    found = _bill(SOLO, "twilio")

    aws = 5.0 + 300 * 0.25 / 1000 + 60 * 0.0001
    texts = 150 * 0.0083 + 150 * 0.0083 + 150 * 0.003
    calls = 60 * 5 * (0.0085 + 0.013)  # both legs of every forwarded minute
    assert found["aws_usd"] == pytest.approx(aws)
    assert found["carrier_usd"] == pytest.approx(1.15 + 10.0 + texts + calls)
    assert found["total_usd"] == pytest.approx(found["aws_usd"] + found["carrier_usd"])


def test_given_one_time_fees_when_billed_then_shown_apart_and_not_in_the_month() -> None:
    found = _bill(GROUP, "twilio")

    assert found["once_usd"] == pytest.approx(4.5 + 15.0)
    monthly = sum(x["monthly_usd"] or 0 for x in found["lines"])
    assert found["total_usd"] == pytest.approx(monthly)
    assert all(x["monthly_usd"] is None for x in found["lines"] if x["per"] == "once")


def test_given_chime_minutes_without_a_price_when_billed_then_listed_not_counted() -> None:
    found = _bill(GROUP, "aws")

    assert found["unpriced"] == ["Call minutes in (voicemail)"]
    voicemail = next(x for x in found["lines"] if x["item"] == "Call minutes in (voicemail)")
    assert voicemail["quantity"] == 200 and voicemail["monthly_usd"] is None
    assert "Chime SDK number (calls; an SMS number cannot take them)" in [
        x["item"] for x in found["lines"]
    ]


def test_given_unchecked_prices_when_billed_then_their_lines_are_flagged() -> None:
    found = _bill(SOLO, "aws")

    assert "10DLC campaign" in found["unchecked"]
    assert "Carrier fees, outbound" in found["not_checked"]
    assert "Outbound SMS" not in found["not_checked"]


def test_given_a_group_when_billed_then_the_per_clinician_share_divides_the_whole_bill() -> None:
    found = _bill(GROUP, "twilio")

    assert found["per_clinician_usd"] == pytest.approx(found["total_usd"] / 8)
