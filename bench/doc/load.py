"""The load section: concurrent signed webhooks against the local stack, and exactly-once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bench.doc.base import Doc, Figures, Lines, Section, listing, method, num, raw, table, times

Config = Mapping[str, Any]


def _exact(config: Config) -> bool:
    """Judged on the two counts the document shows (summed over the configuration's runs)."""
    check = config["stored_check"]
    return bool(check["missing"] == 0 and check["stored_more_than_once"] == 0)


def targets(data: Figures, _doc: Doc) -> list[dict[str, Any]]:
    configs = data["configurations"]
    return [
        {
            "target": "every accepted message stored exactly once (load test, duplicates included)",
            "measured": "; ".join(
                f"{c['name']}: {c['stored_check']['accepted_messages']} accepted, "
                f"{c['stored_check']['missing']} missing, "
                f"{c['stored_check']['stored_more_than_once']} doubled"
                for c in configs
            ),
            "met": all(_exact(c) for c in configs),
        }
    ]


def _single(configs: Sequence[Config]) -> Config | None:
    return next((c for c in configs if c["senders"] == 1), None)


def _scaling(configs: Sequence[Config]) -> str:
    """Throughput and latency of the first configuration against one sender, from the medians."""
    many, one = configs[0], _single(configs)
    if one is None or one is many:
        return ""
    rate = one["median"]["messages_per_second"]
    p50 = one["median"]["latency_ms_p50"]
    if not rate or not p50:
        return ""
    return (
        f"In *{many['name']}*, throughput is "
        f"{times(round(many['median']['messages_per_second'] / rate, 2))} and median latency "
        f"{times(round(many['median']['latency_ms_p50'] / p50, 2))} those of *{one['name']}*."
    )


def _checks(configs: Sequence[Config]) -> str:
    return table(
        (
            "Configuration",
            "Accepted",
            "Duplicates acknowledged",
            "Missing",
            "Stored twice",
            "Runs not exactly once",
            "Handler outcomes (all runs)",
            "Retry queue / DLQ at end",
            "moto server errors (copy races)",
        ),
        (
            (
                c["name"],
                c["stored_check"]["accepted_messages"],
                c["stored_check"]["duplicate_requests_answered_200"],
                c["stored_check"]["missing"],
                c["stored_check"]["stored_more_than_once"],
                f"{c['stored_check']['runs_not_exactly_once']} of {len(c['per_run'])}",
                ", ".join(f"{k} {v}" for k, v in c["webhook_outcomes"].items()),
                f"{c['stored_check']['retry_queue_at_end']} / "
                f"{c['stored_check']['retry_dlq_at_end']}",
                f"{c['runtime_log']['moto_server_errors']} ({c['runtime_log']['moto_copy_races']})",
            )
            for c in configs
        ),
    )


def _outcome(configs: Sequence[Config]) -> str:
    errors = sum(c["runtime_log"]["moto_server_errors"] for c in configs)
    races = sum(c["runtime_log"]["moto_copy_races"] for c in configs)
    moto = (
        f" moto answered {errors} requests with a server error over all runs, {races} of them its "
        "transaction-copy error (`dictionary changed size during iteration`)."
        if errors
        else ""
    )
    lost = [c for c in configs if not _exact(c)]
    if not lost:
        return "Every accepted message was stored exactly once, duplicates included." + moto
    return (
        "Not every accepted message was stored exactly once: "
        + listing(
            [
                f"{c['name']}: {c['stored_check']['missing']} missing and "
                f"{c['stored_check']['stored_more_than_once']} stored twice in "
                f"{c['stored_check']['runs_not_exactly_once']} of {len(c['per_run'])} runs"
                for c in lost
            ]
        )
        + ". "
        + _evidence(configs, lost)
        + moto
    )


def _evidence(configs: Sequence[Config], lost: Sequence[Config]) -> str:
    """What this run shows about where the losses happened (the notes discuss a cause)."""
    deferred = sum(c["webhook_outcomes"].get("deferred", 0) for c in lost)
    queued = sum(
        c["stored_check"]["retry_queue_at_end"] + c["stored_check"]["retry_dlq_at_end"]
        for c in lost
    )
    evidence = [
        f"the handler answered *deferred* {deferred} times in those configurations",
        f"{queued} messages were left on the retry queue and its DLQ",
    ]
    single = _single(configs)
    if single:
        evidence.append("the one-sender runs were " + ("exact" if _exact(single) else "NOT exact"))
    control = next((c for c in configs if c["duplicate_every"] == 0), None)
    if control:
        evidence.append(
            "the control without duplicates was " + ("exact" if _exact(control) else "NOT exact")
        )
    return "In this run " + "; ".join(evidence) + "."


def body(data: Figures, _doc: Doc) -> Lines:
    configs = data["configurations"]
    rows = [
        (
            c["name"],
            f"{len(c['per_run'])} \u00d7 {c['seconds_per_run']:g} s",
            num(c["median"]["messages_per_second"]),
            num(c["median"]["latency_ms_p50"]),
            num(c["median"]["latency_ms_p99"]),
            num(c["median"]["errors"]),
            num(c["median"]["requests"]),
            num(c["median"]["duplicates_sent"]),
        )
        for c in configs
    ]
    logs = sum(c["runtime_log"]["lines"] for c in configs)
    phone = sum(c["runtime_log"]["phone_shaped_strings"] for c in configs)
    bound = data.get("max_requests_per_run")
    return [
        method(
            "`python -m local.runtime` (what `make run` starts) runs as a subprocess on ",
            "127.0.0.1 with `QUIETLINE_PORT=0` and its state in a temporary directory; the ",
            "benchmark reads `local.json` for the webhook URL, the Twilio auth token, the ",
            "business number and the moto endpoint. Sender threads post signed inbound Twilio ",
            "webhooks, each with a distinct MessageSid, from the fictional 555-01xx numbers ",
            f"(one area code per thread); every {data['duplicate_every']}th request of a thread ",
            "re-sends one of its earlier webhooks unchanged (a carrier retry), except in the ",
            "control configuration. Each run starts a fresh runtime (the same empty table); ",
            "runs and seconds per configuration as in the table, medians (latency percentiles ",
            "are per run, then the median of the runs). Afterwards, once the retry queue is ",
            "empty, the inbound message items in the runtime's table are scanned through the ",
            "moto endpoint and counted by carrier id: every message answered 200 must be ",
            "stored exactly once (a re-sent webhook answered 200 is *acknowledged*). The ",
            "outcomes the webhook handler logged, the retry queue and ",
            "its DLQ, moto's own errors in the runtime's log and phone-number-shaped strings in ",
            "that log are counted too. 127.0.0.1 only",
            f", at most {bound:,} requests per run." if bound else ".",
        ),
        "",
        table(
            (
                "Configuration",
                "Runs",
                "Messages/s",
                "p50 ms",
                "p99 ms",
                "Errors",
                "Requests",
                "Duplicates",
            ),
            rows,
        ),
        "",
        _scaling(configs),
        "",
        _checks(configs),
        "",
        f"The runtime's log ({logs:,} lines over all runs) held {phone} phone-number-shaped "
        "strings.",
        "",
        _outcome(configs),
        "",
    ]


def next_steps(data: Figures, doc: Doc) -> Lines:
    configs = data["configurations"]
    lost = [c["name"] for c in configs if not _exact(c)]
    races = sum(c["runtime_log"]["moto_copy_races"] for c in configs)
    if not lost and not races:
        return []
    found = []
    if lost:
        found.append(f"exactly-once failed in {listing(lost)}")
    if races:
        found.append(f"moto's transaction copy raced {races} times")
    return [
        f"Local mode ({doc.ref('load')}): {' and '.join(found)}; check that "
        "`local/moto_dynamodb.py` (which serializes moto's DynamoDB requests) is installed in "
        "the runtime that served the run."
    ]


SECTION = Section(
    key="load",
    title="Load on the local stack",
    figures=raw("load"),
    body=body,
    targets=targets,
    next_steps=next_steps,
)
