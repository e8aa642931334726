"""Section "Voice": call-control handler latency per event, AWS calls per event, and the cost
of a forwarded-call minute and a voicemail minute.

Each carrier's handler plays whole calls on the in-process moto deployment
(bench/world.py + bench/voice_world.py), warm (one container for the run, as one Lambda
instance), each event delayed by the round-trips section's modeled network latency on every
AWS call (and on the fake Twilio REST API's). Answered and missed calls alternate. A few
untimed calls more capture request bodies for the DynamoDB capacity estimate. The cost
figures multiply the measured calls by bench/prices.json: its AWS list prices and its
"voice" block (each carrier price with its source, the date it was read and whether it
was verified; a price without a source is never used).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from bench.aws_calls import AwsCall, count_by_operation, count_by_service
from bench.cost import FunctionInfo, Prices, lambda_cost
from bench.round_trips import LATENCY_S, ByteCounter
from bench.stats import median, percentile, sequential_depth
from bench.voice_world import (
    STAGING_BUCKET,
    TALK_SECONDS,
    VOICE_FUNCTION_MEMORY_MB,
    VOICEMAIL_BUCKET,
    VOICEMAIL_SECONDS,
    CallEvent,
    VoiceWorld,
    fake_twilio_rest,
    mp3_audio,
)
from bench.world import World
from functions.core.observability import logger

CALLS = 40  # of each kind (answered, missed) per carrier: 2 x CALLS samples of incoming
CAPACITY_CALLS = 2
WARM_UP_CALLS = 2  # per kind and carrier, untimed: the instance is warm when timing starts
FUNCTION = FunctionInfo(memory_mb=VOICE_FUNCTION_MEMORY_MB, arm=True)
CARRIERS = ("chime", "twilio")
# Counters a failed event leaves (the handlers answer the carrier instead of raising).
FAILURE_METRICS = (
    "CallControlFailed",
    "CallControlMalformed",
    "VoiceWebhookRetry",
    "VoiceWebhookMalformed",
    "VoiceWebhookSignatureRejected",
    "VoiceCallNotFound",
    "StagedVoicemailFailed",
)
# The modeled round trips moto cannot serve: not AWS calls, so neither priced nor counted
# as AWS calls (they are counted on their own).
_NOT_AWS = frozenset({"twilio-rest"})


class _Samples:
    def __init__(self) -> None:
        self.walls: list[float] = []
        self.calls: list[list[AwsCall]] = []
        self.units: list[tuple[float, float]] = []
        self.log_bytes: list[int] = []


def _play(
    world: World,
    events: Sequence[CallEvent],
    into: dict[str, _Samples] | None,
    capture: bool,
    log: ByteCounter,
) -> None:
    recorder = world.recorder
    for event in events:
        if event.before is not None:
            event.before()
        recorder.start(latency=0.0 if capture else LATENCY_S, capture_bodies=capture)
        logged = log.bytes
        started = time.perf_counter()
        try:
            event.run()
        finally:
            wall = time.perf_counter() - started
            calls = recorder.stop()
        if into is None:
            continue
        samples = into.setdefault(event.name, _Samples())
        if capture:
            rru = wru = 0.0
            for call in calls:
                read, write = world.probe.units(call)
                rru, wru = rru + read, wru + write
            samples.units.append((rru, wru))
        else:
            samples.walls.append(wall)
            samples.calls.append(calls)
            samples.log_bytes.append(log.bytes - logged)


def _summary(kind: str, name: str, samples: _Samples) -> dict[str, Any]:
    last = samples.calls[-1]
    aws = [c for c in last if c.service not in _NOT_AWS]
    counts = [sum(1 for c in run if c.service not in _NOT_AWS) for run in samples.calls]
    depths = [sequential_depth([(c.start, c.end) for c in run]) for run in samples.calls]
    units = samples.units or [(0.0, 0.0)]
    return {
        "event": name,
        "call": kind,
        "samples": len(samples.walls),
        "p50_ms": round(percentile(samples.walls, 50) * 1000, 1),
        "p99_ms": round(percentile(samples.walls, 99) * 1000, 1),
        "aws_calls": median(counts),
        "aws_calls_range": [min(counts), max(counts)],
        "sequential_depth": median(depths),
        "calls_by_service": count_by_service(aws),
        "calls_by_operation": count_by_operation(aws),
        "other_round_trips": count_by_operation([c for c in last if c.service in _NOT_AWS]),
        "read_units": round(median(u[0] for u in units), 2),
        "write_units": round(median(u[1] for u in units), 2),
        "log_bytes": median(samples.log_bytes),
    }


def measure(voice: VoiceWorld, carrier: str, log: ByteCounter) -> list[dict[str, Any]]:
    """Events of answered and missed calls on one carrier, alternating, summarized."""
    play = voice.chime_call if carrier == "chime" else voice.twilio_call
    world = voice.world
    for _ in range(WARM_UP_CALLS):
        for answered in (True, False):
            _play(world, play(answered=answered), None, capture=False, log=log)
    found: dict[str, dict[str, _Samples]] = {"answered": {}, "missed": {}}
    for index in range(2 * CALLS + 2 * CAPACITY_CALLS):
        kind = "answered" if index % 2 == 0 else "missed"
        capture = index >= 2 * CALLS
        _play(world, play(answered=kind == "answered"), found[kind], capture=capture, log=log)
    return [
        {"carrier": carrier, **_summary(kind, name, samples)}
        for kind, events in found.items()
        for name, samples in events.items()
    ]


# --- cost -------------------------------------------------------------------------------------
def _price_entry(prices: Prices, key: str) -> dict[str, Any]:
    entry = dict(prices.data["voice"]["prices"][key])
    entry["key"] = key
    return entry


def aws_cost_of_call(
    events: Sequence[Mapping[str, Any]], prices: Prices, *, behind_api_gateway: bool
) -> dict[str, float]:
    """What AWS bills for one call's events: Lambda (invocations and measured duration at
    the function's memory), KMS, DynamoDB capacity, S3 requests, SNS, API Gateway."""
    calls: Counter[str] = Counter()
    for event in events:
        calls.update(event["calls_by_operation"])
    lam = sum(lambda_cost(prices, FUNCTION, 1, e["p50_ms"] / 1000) for e in events)
    kms = (
        sum(n for op, n in calls.items() if op.startswith("kms."))
        * prices.usd("kms_requests_10k")
        / 1e4
    )
    dynamodb = (
        sum(e["read_units"] for e in events) * prices.usd("dynamodb_read_request_million") / 1e6
        + sum(e["write_units"] for e in events) * prices.usd("dynamodb_write_request_million") / 1e6
    )
    s3 = (
        calls["s3.PutObject"] * prices.usd("s3_put_1k") / 1e3
        + calls["s3.GetObject"] * prices.usd("s3_get_1k") / 1e3
    )
    sns = calls["sns.Publish"] * prices.usd("sns_publish_million") / 1e6
    logs = sum(e["log_bytes"] for e in events) / 1024**3 * prices.usd("cloudwatch_logs_ingest_gb")
    apigw = len(events) * prices.usd("api_gateway_rest_million") / 1e6 if behind_api_gateway else 0
    parts = {
        "lambda": lam,
        "kms": kms,
        "dynamodb": dynamodb,
        "s3_requests": s3,
        "sns": sns,
        "api_gateway": apigw,
        "cloudwatch_logs": logs,
    }
    return {k: round(v, 8) for k, v in parts.items()} | {"total": round(sum(parts.values()), 8)}


def _usd(entry: Mapping[str, Any]) -> float | None:
    value = entry.get("usd")
    return None if value is None else float(value)


def cost(
    events: Sequence[Mapping[str, Any]], prices: Prices, sealed_bytes: float
) -> dict[str, Any]:
    """Per forwarded-call minute and per voicemail minute, each carrier: carrier minutes at
    the voice block's prices (unpriced where it has none) plus AWS per call over its minutes."""
    talk_minutes = TALK_SECONDS / 60
    voicemail_minutes = VOICEMAIL_SECONDS / 60
    twilio = {
        key: _price_entry(prices, key)
        for key in (
            "twilio_inbound_local_minute",
            "twilio_outbound_minute",
            "twilio_local_number_month",
            "twilio_recording_storage_minute_month",
            "twilio_recording_minute",
        )
    }
    chime = {
        key: _price_entry(prices, key)
        for key in ("chime_pstn_inbound_minute", "chime_pstn_outbound_minute")
    }
    chime["chime_phone_number_month"] = {
        "key": "chime_phone_number_month",
        "usd": prices.usd("chime_phone_number_month"),
        "unit": prices.data["prices"]["chime_phone_number_month"]["unit"],
        "source": prices.data["prices"]["chime_phone_number_month"]["source"],
        "read": prices.data["as_of"],
        "verified": False,
        "note": "bench/prices.json (" + prices.data["basis"] + ")",
    }
    rows = []
    for carrier in CARRIERS:
        mine = [e for e in events if e["carrier"] == carrier]
        per_call = {
            kind: aws_cost_of_call(
                [e for e in mine if e["call"] == kind],
                prices,
                behind_api_gateway=carrier == "twilio",
            )
            for kind in ("answered", "missed")
        }
        if carrier == "twilio":
            legs_in = _usd(twilio["twilio_inbound_local_minute"])
            legs_out = _usd(twilio["twilio_outbound_minute"])
            unpriced = ["twilio_recording_minute"]
            used = ["twilio_inbound_local_minute", "twilio_outbound_minute"]
        else:
            legs_in = _usd(chime["chime_pstn_inbound_minute"])
            legs_out = _usd(chime["chime_pstn_outbound_minute"])
            unpriced = ["chime_pstn_inbound_minute", "chime_pstn_outbound_minute"]
            used = []
        forwarded_carrier = None if legs_in is None or legs_out is None else legs_in + legs_out
        aws_forwarded = per_call["answered"]["total"] / talk_minutes
        aws_voicemail = per_call["missed"]["total"] / voicemail_minutes
        rows.append(
            {
                "carrier": carrier,
                "aws_per_answered_call": per_call["answered"],
                "aws_per_voicemail_call": per_call["missed"],
                # None: the carrier's minutes have no verified price, so no total is given.
                "forwarded_minute": {
                    "carrier_usd": _round(forwarded_carrier),
                    "aws_usd": round(aws_forwarded, 8),
                    "total_usd": _round(_plus(forwarded_carrier, aws_forwarded)),
                },
                "voicemail_minute": {
                    "carrier_usd": _round(legs_in),
                    "aws_usd": round(aws_voicemail, 8),
                    "total_usd": _round(_plus(legs_in, aws_voicemail)),
                },
                "carrier_prices_used": used,
                "carrier_prices_unpriced": unpriced,
            }
        )
    storage = sealed_bytes / 1024**3 * prices.usd("s3_standard_gb_month")
    return {
        "talk_minutes": talk_minutes,
        "voicemail_minutes": voicemail_minutes,
        "function_memory_mb": FUNCTION.memory_mb,
        "rows": rows,
        "voicemail_storage_usd_month": round(storage, 8),
        "sealed_voicemail_bytes": sealed_bytes,
        "prices": list(twilio.values()) + list(chime.values()),
        "aws_prices_as_of": prices.data["as_of"],
        "aws_prices_basis": prices.data["basis"],
        "peers": dict(prices.data["voice"]["peers"]),
    }


def _plus(carrier: float | None, aws: float) -> float | None:
    return None if carrier is None else carrier + aws


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _sealed_size(voice: VoiceWorld) -> float:
    s3 = voice.world.clients.client("s3")
    sizes = [o["Size"] for o in s3.list_objects_v2(Bucket=VOICEMAIL_BUCKET).get("Contents", [])]
    return float(median(sizes)) if sizes else 0.0


def run() -> dict[str, Any]:
    twilio_audio = mp3_audio(VOICEMAIL_SECONDS)
    log = ByteCounter()
    handler = logger.registered_handler
    stream = handler.stream if isinstance(handler, logging.StreamHandler) else None
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(log)
    try:
        with World() as world, fake_twilio_rest(world.recorder, twilio_audio) as twilio_api:
            voice = VoiceWorld(world)
            voice.setup(twilio_api)
            events = [e for carrier in CARRIERS for e in measure(voice, carrier, log)]
            sealed = _sealed_size(voice)
            left_staged = voice.objects(STAGING_BUCKET)
            stored = voice.objects(VOICEMAIL_BUCKET)
            failures = {k: n for k, n in world.metrics.counts.items() if k in FAILURE_METRICS}
    finally:
        if isinstance(handler, logging.StreamHandler) and stream is not None:
            handler.setStream(stream)
    if failures:
        raise RuntimeError(f"voice events failed during the run: {failures}")
    return {
        "latency_ms": LATENCY_S * 1000,
        "calls_per_kind": CALLS,
        "capacity_calls": CAPACITY_CALLS,
        "warm_up_calls": WARM_UP_CALLS,
        "voicemail_seconds": VOICEMAIL_SECONDS,
        "talk_seconds": TALK_SECONDS,
        "chime_wav_bytes": len(voice.wav),
        "twilio_mp3_bytes": len(twilio_audio),
        "voicemails_stored": stored,
        "staged_left": left_staged,
        "events": events,
        "cost": cost(events, Prices.load(), sealed),
    }
