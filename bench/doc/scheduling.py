"""The scheduling section: what a reminder costs, and what the one-minute sweep adds idle."""

from __future__ import annotations

from typing import Any

from bench.doc.base import PER_THOUSAND, Doc, Figures, Lines, Section, met, method, raw, table

# Targets (upper bounds) the design was argued against in docs/scheduling.md.
TARGET_USD_PER_1000 = 0.25
TARGET_IDLE_USD_PER_MONTH = 0.50  # a tenth of the deployment's $5 idle target


def _usd(value: float) -> str:
    return f"${value:.4f}"


def targets(data: Figures, _doc: Doc) -> list[dict[str, Any]]:
    return [
        {
            "target": f"AWS cost per {PER_THOUSAND:,} reminders ≤ {_usd(TARGET_USD_PER_1000)}",
            "measured": _usd(data["usd_per_1000_total"]),
            "met": met(data["usd_per_1000_total"], TARGET_USD_PER_1000),
        },
        {
            "target": f"idle cost the scheduler adds ≤ {_usd(TARGET_IDLE_USD_PER_MONTH)}/month",
            "measured": _usd(data["idle_usd_per_month"]) + "/month",
            "met": met(data["idle_usd_per_month"], TARGET_IDLE_USD_PER_MONTH),
        },
    ]


def body(data: Figures, _doc: Doc) -> Lines:
    n = data["reminders"]
    rows = [
        (phase, operation, f"{count:g}")
        for phase in ("booking", "sending")
        for operation, count in data["calls_per_reminder"][phase].items()
    ]
    idle_calls = ", ".join(f"{v} {k}" for k, v in data["idle_calls"].items()) or "none"
    cheaper_idle = data["idle_usd_per_month"] > data["alternative_idle_usd_per_month"]
    idle_gap = data["idle_usd_per_month"] - data["alternative_idle_usd_per_month"]
    return [
        method(
            f"In-process on moto: one tenant and key, the deployed table and outbound queue; "
            f"{n} appointments booked with one reminder each (24 h before), the sweep run once "
            "with nothing due and once when all were due, then the sender on what it queued. "
            "Every AWS call is counted by a botocore hook (with the items of each transaction "
            "or batch: transactions bill two write units per item) and priced with "
            f"bench/prices.json (as of {data['prices_as_of']}); Lambda duration is the moto "
            "wall time, an upper bound. Carrier fees are excluded."
        ),
        "",
        table(("Phase", "AWS call", "Per reminder"), rows),
        "",
        f"The sweep sent {data['sent']} of {n} reminders in one run "
        f"({data['due_sweep_ms'] / 1000:.1f} s on moto); the idle sweep sent "
        f"{data['idle_sent']} and made {idle_calls} ({data['idle_sweep_ms']:.1f} ms).",
        "",
        f"Cost per {PER_THOUSAND:,} reminders: {_usd(data['usd_per_1000']['booking'])} to book and "
        f"{_usd(data['usd_per_1000']['sweep_and_send'])} to sweep and send, "
        f"{_usd(data['usd_per_1000_total'])} in all. Idle, the scheduler adds "
        f"{_usd(data['idle_usd_per_month'])} a month: {_usd(data['idle_sweeps_usd_per_month'])} "
        f"for {data['sweeps_per_month']:,} empty sweeps and "
        f"{_usd(data['idle_alarms_usd_per_month'])} for its {data['alarm_metrics']} alarm "
        f"metrics (before the free tier), plus at most "
        f"{_usd(data['rule_usd_per_month_upper_bound'])} for the rule's events.",
        "",
        "The alternative, an EventBridge Scheduler one-time schedule per message, adds "
        f"{_usd(data['alternative_usd_per_1000_extra'])} per {PER_THOUSAND:,} in invocations "
        f"and {_usd(data['alternative_idle_usd_per_month'])} idle (the same alarms): "
        + (
            f"the sweep costs {_usd(idle_gap)} a month more at rest, the price of its other "
            "properties (docs/scheduling.md)."
            if cheaper_idle
            else "no cheaper at rest than the sweep."
        ),
        "",
    ]


SECTION = Section(
    "scheduling", "Scheduled messages and reminders", raw("scheduling"), body, targets
)
