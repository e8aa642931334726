"""The cost section: assembled from the synthesized templates and the round-trip figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bench import cost
from bench.doc import lifetime as lifetime_doc
from bench.doc.base import (
    PER_THOUSAND,
    Doc,
    Figures,
    Lines,
    Section,
    listing,
    met,
    method,
    percent,
    qty,
    table,
    top,
    usd,
    verdict,
)

IDLE_TARGET_USD = 5.0


# --- assembling ----------------------------------------------------------------------------
def assemble(
    synth: Mapping[str, Any],
    round_trips: Mapping[str, Any],
    prices: cost.Prices,
    voice: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """results["cost"]: every variant priced, and the variable cost from the round trips."""
    operations = round_trips["operations"]
    sweep = next((op for op in operations if op["key"] == "sweep"), None)
    variants: dict[str, Any] = {}
    for name, template in synth["templates"].items():
        items = cost.fixed_monthly(template, prices, sweep=sweep)
        variants[name] = {
            "items": cost.items_as_dicts(items),
            "total_usd": sum(i.monthly_usd for i in items),
            "free_tier_credit_usd": sum(i.free_tier_credit_usd for i in items),
            "resource_counts": cost.resource_counts(template),
            "resources": sum(cost.resource_counts(template).values()),
        }
    idle = variants.get("idle")
    result: dict[str, Any] = {
        "prices_as_of": prices.data["as_of"],
        "prices_basis": prices.data["basis"],
        "region": prices.data["region"],
        "synth_seconds": synth.get("seconds"),
        "synth_errors": synth.get("errors", {}),
        "variants": variants,
        "assumptions": {
            "message_mix_per_1000": cost.MESSAGE_MIX,
            "staff_users": cost.STAFF_USERS,
            "lambda_platform_log_bytes": cost.LAMBDA_PLATFORM_LOG_BYTES,
            "apigw_execution_log_bytes": cost.APIGW_EXECUTION_LOG_BYTES,
            "apigw_access_log_bytes": cost.APIGW_ACCESS_LOG_BYTES,
            "trail_event_bytes": cost.TRAIL_EVENT_BYTES,
            "trail_s3_event_bytes": cost.TRAIL_S3_EVENT_BYTES,
            "trail_files_per_month": cost.TRAIL_FILES_PER_MONTH,
            "idle_sqs_polls_per_source_month": cost.IDLE_SQS_POLLS_PER_SOURCE,
            "backup_copies": cost.BACKUP_COPIES,
        },
        "idle_target_usd": IDLE_TARGET_USD,
    }
    if idle:
        result["adds"] = {
            name: added_items(idle["items"], variant["items"])
            | {"delta_usd": variant["total_usd"] - idle["total_usd"]}
            for name, variant in variants.items()
            if name != "idle"
        }
        # The price file's own words for each free tier the idle total could use.
        result["free_tiers"] = {
            i["item"]: prices.data["prices"][i["price_key"]].get("free_tier", "")
            for i in idle["items"]
            if i["free_tier_credit_usd"] > 0
        }
        result["variable_per_1000"] = cost.per_thousand_messages(
            operations, synth["templates"]["idle"], prices
        )
        result["retention_per_1000_per_month"] = cost.retention_per_thousand(
            round_trips["stored_sizes"]["bytes_per_message"], prices
        )
        names = round_trips.get("metric_names", [])
        result["custom_metrics_when_active"] = {
            "names": names,
            "monthly_usd": len(names) * prices.usd("cloudwatch_custom_metric_month"),
            "free_tier": prices.data["prices"]["cloudwatch_custom_metric_month"].get(
                "free_tier", ""
            ),
        }
        result["idle_target_met"] = met(idle["total_usd"], IDLE_TARGET_USD)
    variable = result.get("variable_per_1000", {}).get("total_usd")
    result["lifetime"] = lifetime_doc.assemble(
        synth["templates"], variants, prices, variable, voice
    )
    return result


def added_items(
    base: Sequence[Mapping[str, Any]], other: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Line items of `other` that `base` lacks or prices differently."""
    before = {i["item"]: i["monthly_usd"] for i in base}
    changed = [
        {
            "item": i["item"],
            "quantity": i["quantity"],
            "delta_usd": i["monthly_usd"] - before.get(i["item"], 0.0),
        }
        for i in other
        if abs(i["monthly_usd"] - before.get(i["item"], 0.0)) > 1e-9
    ]
    return {"items": changed}


# --- judging -------------------------------------------------------------------------------
def _target(data: Figures) -> float:
    return float(data.get("idle_target_usd", IDLE_TARGET_USD))


def _idle_met(data: Figures) -> bool | None:
    idle = data.get("variants", {}).get("idle")
    return None if idle is None else met(idle["total_usd"], _target(data))


def targets(data: Figures, _doc: Doc) -> list[dict[str, Any]]:
    idle = data.get("variants", {}).get("idle")
    if not idle:
        return []
    return [
        *lifetime_doc.targets(data.get("lifetime", {})),
        {
            "target": f"idle single-tenant deployment ≤ {usd(_target(data))} a month "
            "(VPC, WAF off)",
            "measured": f"{usd(idle['total_usd'])} at list prices "
            f"({usd(idle['total_usd'] - idle['free_tier_credit_usd'])} "
            "with the always-free tiers)",
            "met": _idle_met(data),
        },
    ]


def _largest(idle: Figures, count: int) -> Sequence[Mapping[str, Any]]:
    return sorted(idle["items"], key=lambda i: -i["monthly_usd"])[:count]


def _made_of(idle: Figures) -> str:
    """What the idle total is made of: its two largest items' share, and the rest."""
    total = idle["total_usd"]
    largest = _largest(idle, 2)
    rest = total - sum(i["monthly_usd"] for i in largest)
    named = listing([f"{i['item']} ({usd(i['monthly_usd'])})" for i in largest])
    return (
        f"The largest items, {named}, are {percent(total - rest, total)} of the idle total; "
        f"the other {len(idle['items']) - len(largest)} items come to {usd(rest)}."
    )


# --- rendering -----------------------------------------------------------------------------
def body(data: Figures, doc: Doc) -> Lines:
    lines = [
        method(
            "The stack is synthesized by `infra.app_factory` from the repository's ",
            "`quietline.config.json` (one practice, the AWS carrier) in these variants, all in ",
            "one app, bundling skipped, cdk-nag on: ",
            ", ".join(f"*{name}*" for name in data.get("variants", {})),
            " (*idle* as configured with VPC and WAF off, each other one option changed). ",
            "The model reads each template at run ",
            "time and prices every resource that is billed by the month or hour (counted by ",
            "type), plus what an idle deployment runs by itself (its schedules and its SQS ",
            "event sources' long polling). The variable cost multiplies the measured figures ",
            f"per operation of {doc.ref('round_trips')} and {doc.ref('usage')} (handler wall ",
            "time with the modeled latency as billed duration, AWS calls, KMS requests, ",
            "capacity units, log bytes) by the prices, for the stated mix. Carrier fees (SMS, ",
            "numbers) excluded. Resources with no standing charge (IAM, log groups, tables on ",
            "demand, queues, topics, buckets, the trail's first copy of management events) ",
            "appear only through their usage. The inbox's CloudFront distribution and its ",
            "viewer function are left out (billed per request and GB only).",
        ),
        "",
    ]
    if data.get("synth_seconds") is not None:
        lines += [f"Synthesis took {data['synth_seconds']} s.", ""]
    lines += [
        f"**Prices** (`bench/prices.json`, {data['region']}, as of {data['prices_as_of']}): "
        f"{data['prices_basis']}",
        "",
    ]
    if data.get("synth_errors"):
        lines += [
            "Variants that failed to synthesize: "
            + "; ".join(f"{k}: {v}" for k, v in data["synth_errors"].items()),
            "",
        ]
    idle = data.get("variants", {}).get("idle")
    if idle:
        lines += _idle(data, idle)
    if data.get("lifetime"):
        lines += lifetime_doc.body(data["lifetime"])
    lines += _variable(data) + _kept(data)
    if idle:
        lines += [
            "<details><summary>Resources of the idle template, by type</summary>",
            "",
            table(("Type", "Count"), idle["resource_counts"].items()),
            "",
            "</details>",
            "",
        ]
    return lines


def _idle(data: Figures, idle: Figures) -> Lines:
    tiers = data.get("free_tiers") or {}
    free = f" ({'; '.join(f'{k}: {v}' for k, v in tiers.items())})" if tiers else ""
    return [
        f"**Idle, VPC and WAF off** ({idle['resources']} resources):",
        "",
        table(
            ("Item", "Quantity", "Unit", "Monthly", "Note"),
            (
                (
                    i["item"],
                    qty(i["quantity"]),
                    usd(i["unit_usd"]),
                    usd(i["monthly_usd"]),
                    i["note"],
                )
                for i in idle["items"]
            ),
        ),
        "",
        f"Total **{usd(idle['total_usd'])} a month** at list prices; "
        f"{usd(idle['total_usd'] - idle['free_tier_credit_usd'])} if the account's always-free "
        f"tiers are still unused{free}. Target ≤ {usd(_target(data))}: "
        f"{verdict(_idle_met(data))}. {_made_of(idle)}",
        "",
        "**What each option adds** (fixed monthly, against idle):",
        "",
        table(
            ("Variant", "Adds a month", "Items"),
            (
                (
                    name,
                    usd(add["delta_usd"]),
                    "; ".join(
                        f"{i['item']} ({qty(i['quantity'])}): {usd(i['delta_usd'])}"
                        for i in add["items"]
                    )
                    or "—",
                )
                for name, add in data.get("adds", {}).items()
            ),
        ),
        "",
    ]


def _variable(data: Figures) -> Lines:
    variable = data.get("variable_per_1000")
    if not variable:
        return []
    mix = ", ".join(f"{qty(n)} {k}" for k, n in variable["mix"].items())
    return [
        f"**Variable cost per {PER_THOUSAND:,} messages: {usd(variable['total_usd'])}** (AWS "
        f"only, carrier fees excluded), for this mix per {PER_THOUSAND:,} messages: {mix}.",
        "",
        table(
            ("Component", f"Per {PER_THOUSAND:,} messages"),
            ((name, usd(v)) for name, v in variable["by_component"].items()),
        ),
        "",
        table(
            ("Operation", "Count", "Each", f"Per {PER_THOUSAND:,} messages"),
            (
                (k, qty(v["count"]), usd(v["usd_each"]), usd(v["usd"]))
                for k, v in variable["by_operation"].items()
            ),
        ),
        "",
        "Assumptions: "
        + ", ".join(
            f"{k} = {v}" for k, v in data["assumptions"].items() if k != "message_mix_per_1000"
        )
        + ". Lambda duration is billed per ms at the template's memory size and architecture; "
        "free tiers not applied.",
        "",
    ]


def _kept(data: Figures) -> Lines:
    lines: Lines = []
    retention = data.get("retention_per_1000_per_month")
    if retention:
        total = retention["storage"] + retention["pitr"] + retention["backups"]
        copies = data.get("assumptions", {}).get("backup_copies")
        lines += [
            f"**Keeping messages:** {PER_THOUSAND:,} stored messages cost {usd(total)} a month "
            f"while kept (table {usd(retention['storage'])}, point-in-time recovery "
            f"{usd(retention['pitr'])}, AWS Backup {usd(retention['backups'])}"
            + (f" for {copies} retained full copies at steady state)." if copies else ")."),
            "",
        ]
    metrics = data.get("custom_metrics_when_active")
    if metrics:
        tier = f"; free tier: {metrics['free_tier']}" if metrics.get("free_tier") else ""
        lines += [
            f"**Once traffic flows**, the functions publish {len(metrics['names'])} custom "
            f"metrics seen in this run ({', '.join(metrics['names'])}): "
            f"{usd(metrics['monthly_usd'])} a month at list prices for the months they are "
            f"published (prorated by the hour{tier}). Not part of the idle figure.",
            "",
        ]
    return lines


def next_steps(data: Figures, doc: Doc) -> Lines:
    idle = data.get("variants", {}).get("idle")
    if not idle or _idle_met(data) is not False:
        return []
    return [
        f"Idle cost ({doc.ref('cost')}): {usd(idle['total_usd'])} a month against the "
        f"{usd(_target(data))} target. {_made_of(idle)}"
    ]


SECTION = Section(
    key="cost",
    title="Monthly AWS cost model",
    figures=top("cost"),
    body=body,
    targets=targets,
    next_steps=next_steps,
)
