"""The voice section: call-control latency per event, AWS calls per event, cost per minute."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bench.doc.base import (
    PER_THOUSAND,
    Doc,
    Figures,
    Lines,
    Section,
    method,
    num,
    raw,
    services,
    table,
    times,
    usd,
)

_CARRIER = {"chime": "Chime SDK call control", "twilio": "Twilio voice webhook"}
_MODULE = {
    "chime": "functions.handlers.chime_call_control",
    "twilio": "functions.handlers.twilio_voice",
}


def _latency(data: Figures) -> Lines:
    rows = [
        (
            _CARRIER[e["carrier"]],
            e["call"],
            f"`{e['event']}`",
            e["samples"],
            e["p50_ms"],
            e["p99_ms"],
            num(e["aws_calls"]),
            services(e["calls_by_service"]) or "—",
            ", ".join(f"{k} {n}" for k, n in e["other_round_trips"].items()) or "—",
            num(e["sequential_depth"]),
            f"{e['read_units']} / {e['write_units']}",
        )
        for e in data["events"]
    ]
    return [
        table(
            (
                "Handler",
                "Call",
                "Event",
                "Samples",
                "p50 ms",
                "p99 ms",
                "AWS calls",
                "By service",
                "Other round trips",
                "Sequential",
                "RRU / WRU",
            ),
            rows,
        ),
        "",
    ]


def _cold_start(doc: Doc) -> Lines:
    found = doc.raw("cold_start")
    if not found:
        return []
    by_module = {h["module"]: h for h in found["handlers"]}
    rows = [
        (
            f"`{module}`",
            by_module[module]["import_ms"],
            times(by_module[module]["ratio_to_baseline"]),
        )
        for module in _MODULE.values()
        if module in by_module
    ]
    if not rows:
        return []
    return [
        f"Import time of both handlers, from {doc.ref('cold_start')} of the same document "
        f"(baseline `import boto3` + one client: {found['baseline_ms']} ms):",
        "",
        table(("Module", "Import ms", "\u00d7 baseline"), rows),
        "",
    ]


def _price(value: float | None) -> str:
    return "not priced" if value is None else usd(value)


def _verified(entry: Mapping[str, Any]) -> str:
    return "yes" if entry.get("verified") else "**unverified**"


def _prices(cost: Figures) -> Lines:
    rows = [
        (
            f"`{p['key']}`",
            _price(p.get("usd")),
            p["unit"],
            p.get("source") or "none found",
            p.get("read") or "—",
            _verified(p),
            p.get("note", ""),
        )
        for p in cost["prices"]
    ]
    return [
        table(("Price", "USD", "Unit", "Source", "Read", "Verified", "Note"), rows),
        "",
        f"AWS prices (Lambda, KMS, DynamoDB, S3, SNS, API Gateway, CloudWatch Logs): "
        f"bench/prices.json as of {cost['aws_prices_as_of']}, **unverified**: "
        f"{cost['aws_prices_basis']}",
        "",
    ]


def _costs(cost: Figures) -> Lines:
    rows = []
    for row in cost["rows"]:
        unpriced = ", ".join(f"`{k}`" for k in row["carrier_prices_unpriced"])
        for label, key, call in (
            ("forwarded-call minute", "forwarded_minute", "aws_per_answered_call"),
            ("voicemail minute", "voicemail_minute", "aws_per_voicemail_call"),
        ):
            figures = row[key]
            rows.append(
                (
                    _CARRIER[row["carrier"]],
                    label,
                    _price(figures["carrier_usd"]),
                    usd(row[call]["total"] * PER_THOUSAND),
                    usd(figures["aws_usd"]),
                    _price(figures["total_usd"]),
                    unpriced or "—",
                )
            )
    parts = [
        table(
            (
                "Carrier",
                "Per",
                "Carrier minutes",
                f"AWS per {PER_THOUSAND:,} calls",
                "AWS per minute",
                "Total per minute",
                "Not priced (no verified source)",
            ),
            rows,
        ),
        "",
        f"AWS per {PER_THOUSAND:,} calls, by service (answered / voicemail):",
        "",
    ]
    for row in cost["rows"]:
        answered, missed = row["aws_per_answered_call"], row["aws_per_voicemail_call"]
        parts.append(
            f"- **{_CARRIER[row['carrier']]}**: "
            + ", ".join(
                f"{name} {usd(answered[name] * PER_THOUSAND)} / {usd(missed[name] * PER_THOUSAND)}"
                for name in answered
                if name != "total"
            )
        )
    parts += [
        "",
        f"Storing one sealed voicemail ({num(cost['sealed_voicemail_bytes'] / 1024)} KiB): "
        f"{usd(cost['voicemail_storage_usd_month'])} a month in S3 Standard.",
        "",
        "Per-seat prices of the SaaS peers: "
        + "; ".join(
            f"{name}: {said['note'] if isinstance(said, dict) else said}"
            for name, said in cost["peers"].items()
        )
        + ".",
        "",
    ]
    return parts


def body(data: Figures, doc: Doc) -> Lines:
    cost = data["cost"]
    return [
        method(
            "Each carrier's real handler plays whole inbound calls on the in-process moto ",
            "deployment (`bench/world.py`, `bench/voice_world.py`): the staff user pool, the ",
            "voicemail and staging buckets, one clinician with a forwarding cell routed from ",
            "the business number. Chime: the committed SMA fixtures (`tests/events/chime_*.json`) ",
            "with a new TransactionId per call and the TransactionAttributes the previous answer ",
            "set, in the order the SMA sends them (answered: NEW_INBOUND_CALL, CallAndBridge ",
            'success, SpeakAndGetDigits "1", HANGUP; missed: NEW_INBOUND_CALL, CallAndBridge ',
            "not answered, RecordAudio success after the WAV was written to the staging bucket, ",
            "untimed). Twilio: each webhook signed with `X-Twilio-Signature` and posted to the ",
            "URL the previous TwiML handed out; the recording is fetched from and deleted at a ",
            "fake Twilio REST API on 127.0.0.1. One container per handler for the whole run ",
            f"(warm; {data['warm_up_calls']} untimed calls of each kind first), answered and ",
            f"missed calls alternating, {data['calls_per_kind']} of each per carrier. Every AWS ",
            f"call, and every request to the fake Twilio API, waits {data['latency_ms']:g} ms ",
            "in the recorder's hook: the round-trip section's modeled network latency. p50 and ",
            "p99 interpolate between ranks of the samples (with few samples, p99 is near the ",
            f"largest). RRU / WRU: DynamoDB capacity from {data['capacity_calls']} further ",
            "untimed calls of each kind with request bodies captured. *Sequential* is the ",
            "critical path over the AWS calls and the Twilio REST round trips together. Audio: a ",
            f"{data['voicemail_seconds']} s voicemail ({num(data['chime_wav_bytes'] / 1024)} KiB ",
            f"8 kHz WAV on Chime, {num(data['twilio_mp3_bytes'] / 1024)} KiB MP3 at Twilio); ",
            f"answered calls report {data['talk_seconds']} s of talk. Cost: a forwarded minute ",
            "is the carrier's inbound plus outbound leg per minute plus AWS per answered call ",
            f"over {num(cost['talk_minutes'])} minutes; a voicemail minute is the inbound leg ",
            f"plus AWS per missed call over {num(cost['voicemail_minutes'])} minute(s) (ringing ",
            "and greeting time not counted). AWS per call: Lambda invocations and the p50 wall ",
            f"time of each event billed at {cost['function_memory_mb']} MB arm64, KMS requests, ",
            "DynamoDB units, S3 PUT/GET requests (DELETE is free), SNS publishes, API Gateway ",
            "requests (Twilio only), CloudWatch Logs ingestion of the bytes logged. Cognito ",
            "ListUsers has no per-request price. A carrier price with no source is not priced ",
            "and is named in the table: where it is the carrier's minutes no total is given, ",
            "otherwise the total leaves it out; every carrier price is ",
            "shown with its source, the date ",
            "it was read and whether it was verified on the carrier's live price list.",
        ),
        "",
        f"Voicemails stored sealed in this run: {data['voicemails_stored']}; staged copies "
        f"left in the staging bucket: {data['staged_left']}.",
        "",
        *_latency(data),
        *_cold_start(doc),
        "### Cost per minute at list prices",
        "",
        *_costs(cost),
        *_prices(cost),
    ]


SECTION = Section(
    key="voice",
    title="Voice: call-control latency, AWS calls and cost per minute",
    figures=raw("voice"),
    body=body,
)
