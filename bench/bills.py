"""A practice's whole monthly bill at list prices: AWS and the carrier apart, each line priced.

Two practices (PRACTICES), each on both carriers: AWS End User Messaging SMS + Chime SDK
voice, or Twilio (SMS and voice on one number). The AWS side is the synthesized template's
idle cost in a given year (bench/lifetime.py), plus the measured variable cost per 1,000
messages (bench/cost.py) and per call (the voice section, bench/voice.py). The carrier side
is number rental, 10DLC campaign fees, per-message and carrier pass-through fees and
per-minute fees from bench/prices.json ("carriers", and the voice block's per-minute
prices). One-time fees (brand registration, campaign vetting) are listed apart, never in a
monthly total. A price the file has no figure for is listed as unpriced, and every line
carries its price's status, so a figure not checked against its page is never shown as one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.cost import Prices

CARRIERS = ("aws", "twilio")
CARRIER_NAMES = {"aws": "AWS End User Messaging + Chime SDK", "twilio": "Twilio"}
DAYS_PER_MONTH = 30
INBOUND_SHARE = 0.5  # half the texts arrive, half are sent (bench/cost.py MESSAGE_MIX)
SEGMENTS_PER_TEXT = 1  # a text of at most 160 GSM-7 characters


@dataclass(frozen=True)
class Practice:
    key: str
    name: str
    clinicians: int
    texts_month: int
    answered_calls_month: int  # forwarded to a clinician's cell and answered
    voicemails_month: int


PRACTICES = (
    Practice("solo", "Solo clinician", 1, 300, 2 * DAYS_PER_MONTH, 0),
    Practice("group", "Group of 8 clinicians", 8, 5000, 0, 200),
)


@dataclass(frozen=True)
class Line:
    side: str  # "aws" or "carrier"
    item: str
    quantity: float
    unit_usd: float | None  # None: no figure in the price file, not in the total
    price_key: str
    status: str  # checked / secondary / unchecked / measured
    source: str
    per: str = "month"  # "month" or "once"

    @property
    def monthly_usd(self) -> float | None:
        if self.unit_usd is None or self.per == "once":
            return None
        return self.quantity * self.unit_usd


def _carrier_price(prices: Prices, key: str) -> Mapping[str, Any]:
    found = prices.data["carriers"]["prices"].get(key) or prices.data["voice"]["prices"][key]
    return dict(found)


def _line(side: str, item: str, quantity: float, prices: Prices, key: str) -> Line:
    entry = _carrier_price(prices, key)
    usd = entry.get("usd")
    return Line(
        side,
        item,
        quantity,
        None if usd is None else float(usd),
        key,
        str(entry.get("status", "unchecked")),
        str(entry.get("checked_at") or entry.get("source", "")),
        "once" if entry.get("per") == "once" else "month",
    )


def _measured(item: str, quantity: float, unit_usd: float, key: str) -> Line:
    return Line("aws", item, quantity, unit_usd, key, "measured", "docs/benchmarks.md")


def carrier_lines(practice: Practice, carrier: str, prices: Prices) -> list[Line]:
    inbound = practice.texts_month * INBOUND_SHARE * SEGMENTS_PER_TEXT
    outbound = practice.texts_month * (1 - INBOUND_SHARE) * SEGMENTS_PER_TEXT
    voice = practice.answered_calls_month + practice.voicemails_month > 0
    talk = practice.answered_calls_month  # minutes are multiplied in `bill`
    if carrier == "aws":
        lines = [
            _line("carrier", "10DLC number (texts)", 1, prices, "eum_10dlc_number_month"),
            _line("carrier", "10DLC campaign", 1, prices, "eum_10dlc_campaign_month"),
            _line("carrier", "Outbound SMS", outbound, prices, "eum_sms_outbound"),
            _line("carrier", "Inbound SMS", inbound, prices, "eum_sms_inbound"),
            _line(
                "carrier",
                "Carrier fees, outbound",
                outbound,
                prices,
                "us_carrier_fee_10dlc_outbound",
            ),
            _line("carrier", "10DLC brand registration", 1, prices, "eum_10dlc_brand_once"),
        ]
        if voice:
            lines.append(_chime_number(prices))
        legs = ("chime_pstn_inbound_minute", "chime_pstn_outbound_minute")
    else:
        lines = [
            _line(
                "carrier", "Local number (texts and calls)", 1, prices, "twilio_local_number_month"
            ),
            _line("carrier", "10DLC campaign", 1, prices, "twilio_10dlc_campaign_month"),
            _line("carrier", "Outbound SMS", outbound, prices, "twilio_sms_outbound"),
            _line("carrier", "Inbound SMS", inbound, prices, "twilio_sms_inbound"),
            _line(
                "carrier",
                "Carrier fees, outbound",
                outbound,
                prices,
                "us_carrier_fee_10dlc_outbound",
            ),
            _line("carrier", "10DLC brand registration", 1, prices, "twilio_10dlc_brand_once"),
            _line(
                "carrier", "10DLC campaign vetting", 1, prices, "twilio_10dlc_campaign_vetting_once"
            ),
        ]
        legs = ("twilio_inbound_local_minute", "twilio_outbound_minute")
    if talk:
        lines += [
            _line("carrier", "Call minutes in (forwarded calls)", talk, prices, legs[0]),
            _line("carrier", "Call minutes out (leg to the cell)", talk, prices, legs[1]),
        ]
    if practice.voicemails_month:
        lines.append(
            _line(
                "carrier", "Call minutes in (voicemail)", practice.voicemails_month, prices, legs[0]
            )
        )
    return lines


def _chime_number(prices: Prices) -> Line:
    entry = prices.data["prices"]["chime_phone_number_month"]
    return Line(
        "carrier",
        "Chime SDK number (calls; an SMS number cannot take them)",
        1,
        float(entry["usd"]),
        "chime_phone_number_month",
        str(entry.get("status", "unchecked")),
        str(entry.get("checked_at") or entry.get("source", "")),
    )


def _minutes(lines: list[Line], talk_minutes: float, voicemail_minutes: float) -> list[Line]:
    """Per-call counts to minutes (a forwarded call lasts talk_minutes, a voicemail
    voicemail_minutes, as the voice section plays them)."""
    scaled = []
    for line in lines:
        if line.item.startswith("Call minutes") and "voicemail" in line.item:
            scaled.append(_with_quantity(line, line.quantity * voicemail_minutes))
        elif line.item.startswith("Call minutes"):
            scaled.append(_with_quantity(line, line.quantity * talk_minutes))
        else:
            scaled.append(line)
    return scaled


def _with_quantity(line: Line, quantity: float) -> Line:
    return Line(
        line.side,
        line.item,
        quantity,
        line.unit_usd,
        line.price_key,
        line.status,
        line.source,
        line.per,
    )


def aws_lines(
    practice: Practice,
    *,
    idle_usd: float,
    idle_variant: str,
    variable_per_1000_usd: float,
    aws_per_answered_call_usd: float,
    aws_per_voicemail_call_usd: float,
) -> list[Line]:
    lines = [
        _measured(f"Idle deployment ({idle_variant} template)", 1, idle_usd, "idle"),
        _measured(
            "Texts handled (measured per 1,000)",
            practice.texts_month,
            variable_per_1000_usd / 1000,
            "variable_per_1000",
        ),
    ]
    if practice.answered_calls_month:
        lines.append(
            _measured(
                "Forwarded calls handled",
                practice.answered_calls_month,
                aws_per_answered_call_usd,
                "voice.aws_per_answered_call",
            )
        )
    if practice.voicemails_month:
        lines.append(
            _measured(
                "Voicemails handled and sealed",
                practice.voicemails_month,
                aws_per_voicemail_call_usd,
                "voice.aws_per_voicemail_call",
            )
        )
    return lines


def bill(
    practice: Practice,
    carrier: str,
    prices: Prices,
    *,
    idle_usd: float,
    idle_variant: str,
    variable_per_1000_usd: float,
    voice_row: Mapping[str, Any],
    talk_minutes: float,
    voicemail_minutes: float,
) -> dict[str, Any]:
    """One practice's month on one carrier."""
    lines = aws_lines(
        practice,
        idle_usd=idle_usd,
        idle_variant=idle_variant,
        variable_per_1000_usd=variable_per_1000_usd,
        aws_per_answered_call_usd=float(voice_row["aws_per_answered_call"]["total"]),
        aws_per_voicemail_call_usd=float(voice_row["aws_per_voicemail_call"]["total"]),
    ) + _minutes(carrier_lines(practice, carrier, prices), talk_minutes, voicemail_minutes)
    return summarize(practice, carrier, lines)


def summarize(practice: Practice, carrier: str, lines: Sequence[Line]) -> dict[str, Any]:
    def total(side: str) -> float:
        return sum(x.monthly_usd or 0.0 for x in lines if x.side == side)

    monthly = [x for x in lines if x.per == "month"]
    aws, carrier_usd = total("aws"), total("carrier")
    return {
        "practice": practice.key,
        "practice_name": practice.name,
        "clinicians": practice.clinicians,
        "carrier": carrier,
        "carrier_name": CARRIER_NAMES[carrier],
        "lines": [{**x.__dict__, "monthly_usd": x.monthly_usd} for x in lines],
        "aws_usd": aws,
        "carrier_usd": carrier_usd,
        "total_usd": aws + carrier_usd,
        "per_clinician_usd": (aws + carrier_usd) / practice.clinicians,
        "once_usd": sum(x.unit_usd or 0.0 for x in lines if x.per == "once"),
        "unpriced": [x.item for x in monthly if x.unit_usd is None and x.quantity],
        "not_checked": [
            x.item
            for x in monthly
            if x.status in ("unchecked", "secondary") and x.quantity and x.unit_usd is not None
        ],
        "unchecked": [
            x.item
            for x in monthly
            if x.status == "unchecked" and x.quantity and x.unit_usd is not None
        ],
    }
