"""Part of the cost section: idle cost by year (KMS rotation), the way to the year-3 target,
the prices' check status, and two practices' whole monthly bills beside peer seat prices."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from bench import bills, lifetime
from bench.cost import Prices
from bench.doc.base import Figures, Lines, listing, met, method, qty, table, usd, verdict

YEAR3_TARGET_USD = 3.0
TARGET_YEAR = 3
FIRST_YEAR = 1
BILL_YEAR = 3  # bills at the steady state of the keys' charges (year 3 and later by default)
STATUS_WORDS = {
    "checked": "checked on the provider's page",
    "secondary": "secondary page, not checked against its page",
    "unchecked": "not checked against its page",
    "measured": "measured by this benchmark",
}
COUNT_WORDS = {
    "checked": "were checked on the provider's own page or documentation",
    "secondary": "were read only on a secondary page quoting it (dated where the page is)",
    "unchecked": "are not checked against their page",
}


# --- assembling ----------------------------------------------------------------------------
def price_status(prices: Prices) -> dict[str, Any]:
    entries = {
        **{k: v for k, v in prices.data["prices"].items()},
        **{k: v for k, v in prices.data.get("carriers", {}).get("prices", {}).items()},
        **{k: v for k, v in prices.data["voice"]["prices"].items()},
    }
    statuses = {k: str(v.get("status", "unchecked")) for k, v in entries.items()}
    return {"counts": dict(Counter(statuses.values())), "by_key": statuses}


def _without_carrier_items(items: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [i for i in items if i["price_key"] != "chime_phone_number_month"]


def assemble(
    templates: Mapping[str, Mapping[str, Any]],
    variants: Mapping[str, Mapping[str, Any]],
    prices: Prices,
    variable_per_1000_usd: float | None,
    voice: Mapping[str, Any] | None,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "rotation": {
            "page": prices.data["prices"]["kms_key_rotation_month"]["checked_at"],
            "cap": prices.data["prices"]["kms_key_rotation_month"]["billed_rotations_max"],
            "per_rotation_usd": prices.data["prices"]["kms_key_rotation_month"]["usd"],
            "choices": lifetime.rotation_choices(prices),
        },
        "price_status": price_status(prices),
        "year3_target_usd": YEAR3_TARGET_USD,
    }
    idle = variants.get("idle")
    if idle and "idle" in templates:
        keys = lifetime.template_keys(templates["idle"])
        years = lifetime.idle_by_year(idle["items"], keys, prices)
        result["idle_years"] = years
        year_total = next(y["total_usd"] for y in years if y["year"] == TARGET_YEAR)
        result["target"] = lifetime.cheapest_design(
            templates["idle"],
            idle["items"],
            year_total,
            TARGET_YEAR,
            keys,
            prices,
            YEAR3_TARGET_USD,
        )
        result["target"]["free_tiers"] = "; ".join(
            prices.data["prices"][key]["free_tier"]
            for key in ("cloudwatch_alarm_metric_month", "sqs_requests_million")
        )
        result["idle_price_status"] = {
            i["item"]: result["price_status"]["by_key"].get(i["price_key"], "unchecked")
            for i in idle["items"]
            if i["monthly_usd"] > 0
        }
    if variable_per_1000_usd is not None and voice and voice.get("cost"):
        result["bills"] = _bills(templates, variants, prices, variable_per_1000_usd, voice["cost"])
        result["peers"] = dict(prices.data["voice"]["peers"])
    return result


def _bills(
    templates: Mapping[str, Mapping[str, Any]],
    variants: Mapping[str, Mapping[str, Any]],
    prices: Prices,
    variable_per_1000_usd: float,
    voice_cost: Mapping[str, Any],
) -> list[dict[str, Any]]:
    rows = {row["carrier"]: row for row in voice_cost["rows"]}
    found = []
    for carrier, variant, voice_carrier in (
        ("aws", "aws-voice", "chime"),
        ("twilio", "twilio-voice", "twilio"),
    ):
        if variant not in variants or variant not in templates or voice_carrier not in rows:
            continue
        items = _without_carrier_items(variants[variant]["items"])
        keys = lifetime.template_keys(templates[variant])
        idle = {
            y["year"]: y["total_usd"]
            for y in lifetime.idle_by_year(items, keys, prices, years=(FIRST_YEAR, BILL_YEAR))
        }
        for practice in bills.PRACTICES:
            made = {
                year: bills.bill(
                    practice,
                    carrier,
                    prices,
                    idle_usd=idle[year],
                    idle_variant=variant,
                    variable_per_1000_usd=variable_per_1000_usd,
                    voice_row=rows[voice_carrier],
                    talk_minutes=float(voice_cost["talk_minutes"]),
                    voicemail_minutes=float(voice_cost["voicemail_minutes"]),
                )
                for year in (FIRST_YEAR, BILL_YEAR)
            }
            found.append({**made[BILL_YEAR], "year": BILL_YEAR, "year1": made[FIRST_YEAR]})
    return found


# --- judging -------------------------------------------------------------------------------
def targets(data: Figures) -> list[dict[str, Any]]:
    target = data.get("target")
    if not target:
        return []
    return [
        {
            "target": f"idle ≤ {usd(target['target_usd'])} a month in year {target['year']} "
            "at list prices (VPC, WAF off)",
            "measured": f"{usd(target['start_usd'])} as built; {usd(target['end_usd'])} with "
            f"the {len(target['steps'])} consolidations priced in the cost section",
            "met": met(target["start_usd"], target["target_usd"]),
        }
    ]


# --- rendering -----------------------------------------------------------------------------
def body(data: Figures) -> Lines:
    lines: Lines = []
    lines += _status(data)
    lines += _years(data)
    lines += _target(data)
    lines += _bills_lines(data)
    return lines


def _status(data: Figures) -> Lines:
    counts = data["price_status"]["counts"]
    said = listing([f"{counts[s]} {COUNT_WORDS[s]}" for s in COUNT_WORDS if counts.get(s)])
    idle = data.get("idle_price_status", {})
    flagged = [f"{item} ({status})" for item, status in idle.items() if status != "checked"]
    return [
        f"**Prices checked:** of the {sum(counts.values())} prices in `bench/prices.json`, {said}. "
        "Each entry names the page read and the date (`status`, `checked_at`, `read`, "
        "`page_date`)."
        + (
            f" Idle items priced from a figure not checked against its page: {'; '.join(flagged)}."
            if flagged
            else ""
        ),
        "",
    ]


def _years(data: Figures) -> Lines:
    years = data.get("idle_years")
    rotation = data["rotation"]
    lines = [
        method(
            "A customer-managed key costs its monthly price, and each of its first ",
            f"{rotation['cap']} rotations adds the rotation price a month, prorated hourly; ",
            f'later rotations are not billed ({rotation["page"]}, "Key rotation and pricing"). ',
            "Each key's rotation period is read from the *idle* template ",
            "(`RotationPeriodInDays`, 365 when absent); a year's figure is the exact average ",
            "of the key's charge over that year of the deployment. The other idle items do not ",
            "change with age.",
        ),
        "",
    ]
    if not years:
        return lines
    keys = years[0]["keys"]
    lines += [
        "**Idle cost by year of the deployment** (VPC and WAF off, list prices, a month):",
        "",
        table(
            ("Key", "Rotates every", *(f"Year {y['year']}" for y in years)),
            [
                (
                    ("tenant key: " if k["tenant"] else "platform key: ") + k["description"],
                    "never" if k["rotation_days"] is None else f"{k['rotation_days']:,} days",
                    *(usd(y["keys"][n]["monthly_usd"]) for y in years),
                )
                for n, k in enumerate(keys)
            ]
            + [
                ("All other idle items", "", *(usd(y["other_usd"]) for y in years)),
                ("**Idle total**", "", *(f"**{usd(y['total_usd'])}**" for y in years)),
            ],
        ),
        "",
        *_per_tenant(years),
        "**What one tenant key costs a year under each rotation period** (KMS allows "
        f"{lifetime.KMS_ROTATION_DAYS_RANGE[0]} to {lifetime.KMS_ROTATION_DAYS_RANGE[1]:,} days):",
        "",
        rotation_table(rotation["choices"]),
        "",
    ]
    return lines


def rotation_table(choices: Sequence[Mapping[str, Any]]) -> str:
    """One tenant key's yearly cost under each rotation period (also in docs/key-scheme.md,
    where tests/unit/test_bench_lifetime.py checks it against this)."""
    return table(
        (
            "Rotates every",
            *(f"Year {y}" for y in choices[0]["per_year_usd"]),
            f"{choices[0]['horizon_years']} years",
        ),
        (
            (
                f"{c['period_days']:,} days",
                *(usd(v) for v in c["per_year_usd"].values()),
                usd(c["horizon_usd"]),
            )
            for c in choices
        ),
    )


def _per_tenant(years: Sequence[Mapping[str, Any]]) -> Lines:
    tenant = next((n for n, k in enumerate(years[0]["keys"]) if k["tenant"]), None)
    if tenant is None:
        return []
    return [
        "Each further tenant adds its own key: "
        + ", ".join(f"{usd(y['keys'][tenant]['monthly_usd'])} in year {y['year']}" for y in years)
        + " a month.",
        "",
    ]


def _target(data: Figures) -> Lines:
    target = data.get("target")
    if not target:
        return []
    lines = [
        f"**Year-{target['year']} goal ≤ {usd(target['target_usd'])}:** "
        f"{verdict(target['met_as_built'])} as built ({usd(target['start_usd'])}; its keys "
        f"{usd(target['keys_floor_usd'])}, against {usd(target['keys_at_default_rotation_usd'])} "
        "at KMS's default yearly rotation).",
        "",
    ]
    if target["steps"]:
        lines += [
            "Alarms are billed per metric, so the cheaper designs consolidate alarms that watch "
            "the same kind of metric (counted in the template):",
            "",
            table(
                ("Consolidation", "From → to", "Saves a month", "Idle after", "Gives up"),
                (
                    (
                        s["family"].replace("_", " "),
                        f"{s['count_from']} → {s['count_to']}",
                        usd(s["saves_usd"]),
                        usd(s["total_after_usd"]),
                        s["what"],
                    )
                    for s in target["steps"]
                ),
            ),
            "",
        ]
    gap = target["end_usd"] - target["target_usd"]
    if target["met_with_steps"]:
        lines += [
            f"With all of them the idle cost is {usd(target['end_usd'])}: "
            f"{verdict(True)}, {usd(-gap)} under the goal.",
            "",
        ]
    else:
        lines += [
            f"With all of them the idle cost is still {usd(target['end_usd'])}, {usd(gap)} "
            f"over the goal at list prices: {verdict(False)}. What remains is the keys "
            f"({usd(target['keys_floor_usd'])}: one per tenant and the platform's, which the "
            "HIPAA rules' customer-managed encryption of log groups and the trail needs) and "
            f"{usd(target['end_usd'] - target['keys_floor_usd'])} of alarms, polling and "
            "schedules the items above show. The account's always-free tiers "
            f"({target.get('free_tiers', '')}) take off "
            f"{usd(target['free_tier_credit_usd'])} more: "
            f"{usd(target['end_with_free_tiers_usd'])}, "
            f"{verdict(met(target['end_with_free_tiers_usd'], target['target_usd']))} "
            "that way.",
            "",
        ]
    return lines


def _bills_lines(data: Figures) -> Lines:
    found = data.get("bills")
    if not found:
        return []
    lines = [
        method(
            "Each practice's month on each carrier: the AWS side is the voice-enabled ",
            f"template's idle cost in year {BILL_YEAR} (its keys' steady charge; the Chime number ",
            "moved to the carrier side), the measured variable cost per 1,000 messages above ",
            "times the practice's texts, and the voice section's measured AWS cost per call. ",
            "Texts are half inbound, one segment each; a forwarded call lasts the voice ",
            "section's talk time, a voicemail its voicemail time. The carrier side prices ",
            'every line from `bench/prices.json` ("carriers" and the voice block); one-time ',
            "fees are shown apart. A line with no price is listed, never counted.",
        ),
        "",
        table(
            (
                "Practice",
                "Carrier",
                "AWS",
                "Carrier",
                f"Month (year {BILL_YEAR})",
                f"Month (year {FIRST_YEAR})",
                "Per clinician",
                "One-time",
                "Not in the total",
            ),
            (
                (
                    b["practice_name"],
                    b["carrier_name"],
                    usd(b["aws_usd"]),
                    usd(b["carrier_usd"]),
                    f"**{usd(b['total_usd'])}**",
                    usd(b["year1"]["total_usd"]),
                    usd(b["per_clinician_usd"]),
                    usd(b["once_usd"]),
                    "; ".join(b["unpriced"]) or "—",
                )
                for b in found
            ),
        ),
        "",
    ]
    for b in found:
        lines += [
            f"<details><summary>{b['practice_name']}, {b['carrier_name']}: every line</summary>",
            "",
            table(
                ("Side", "Item", "Quantity", "Unit", "Month", "Price", "Source"),
                (
                    (
                        x["side"],
                        x["item"],
                        qty(x["quantity"]),
                        "no price" if x["unit_usd"] is None else usd(x["unit_usd"]),
                        "once"
                        if x["per"] == "once"
                        else ("—" if x["monthly_usd"] is None else usd(x["monthly_usd"])),
                        STATUS_WORDS.get(x["status"], x["status"]),
                        x["source"],
                    )
                    for x in b["lines"]
                ),
            ),
            "",
            "</details>",
            "",
        ]
    flagged = sorted({item for b in found for item in b["unchecked"]})
    if flagged:
        lines += [
            f"Lines priced from a figure not checked against its page (status *unchecked*): "
            f"{listing(flagged)}.",
            "",
        ]
    peers = data.get("peers", {})
    if peers:
        lines += [
            "**Per-seat prices of the apps a practice otherwise buys:** "
            + "; ".join(
                f"{name}: "
                + (
                    usd(p["per_seat_usd_month"]) + " a seat a month"
                    if p.get("per_seat_usd_month") is not None
                    else p.get("note", "not public / not found")
                )
                for name, p in peers.items()
            )
            + ".",
            "",
        ]
    return lines


def summary(data: Figures) -> Lines:
    """The year-by-year idle cost and the bills, as `python -m bench --only cost_synth` prints."""
    lines = [
        f"cost: idle year {y['year']}: {usd(y['total_usd'])} a month (keys {usd(y['keys_usd'])})"
        for y in data.get("idle_years", [])
    ]
    target = data.get("target")
    if target:
        lines.append(
            f"cost: year-{target['year']} goal {usd(target['target_usd'])}: as built "
            f"{usd(target['start_usd'])}, cheapest design {usd(target['end_usd'])}"
        )
    lines += [
        f"cost: {b['practice_name']}, {b['carrier_name']}: {usd(b['total_usd'])} a month "
        f"(AWS {usd(b['aws_usd'])}, carrier {usd(b['carrier_usd'])}"
        + (f"; unpriced: {', '.join(b['unpriced'])}" if b["unpriced"] else "")
        + ")"
        for b in data.get("bills", [])
    ]
    return lines


# --- the README's table ----------------------------------------------------------------------
README_START = "<!-- bench:bills (written by python -m bench from docs/benchmarks.json) -->"
README_END = "<!-- /bench:bills -->"


def readme_table(data: Figures) -> Lines:
    """The two practices' monthly bills beside the peers' seat prices, for README.md."""
    found = data.get("bills")
    if not found:
        return []
    peers = data.get("peers", {})
    seat = "; ".join(
        f"{name} "
        + (
            usd(p["per_seat_usd_month"])
            if p.get("per_seat_usd_month") is not None
            else "not public / not found"
        )
        for name, p in peers.items()
    )
    return [
        table(
            ("Practice", "Carrier", "AWS", "Carrier fees", "A month", "Per clinician"),
            (
                (
                    b["practice_name"],
                    b["carrier_name"],
                    usd(b["aws_usd"]),
                    usd(b["carrier_usd"]) + (" + unpriced call minutes" if b["unpriced"] else ""),
                    f"**{usd(b['total_usd'])}**",
                    usd(b["per_clinician_usd"]),
                )
                for b in found
            ),
        ),
        "",
        _checked_note(data)
        + f"List prices in year {found[0]['year']}, one-time registration fees apart; seat "
        f"prices of the apps it replaces: {seat or 'none found'}. Every line, its price's "
        "source and whether it was checked: [docs/benchmarks.md](docs/benchmarks.md) §5.",
    ]


def _checked_note(data: Figures) -> str:
    counts = data.get("price_status", {}).get("counts", {})
    total = sum(counts.values())
    if not total or counts.get("checked", 0) == total:
        return ""
    return (
        f"Of the {total} prices in `bench/prices.json`, {counts.get('checked', 0)} were "
        "checked on the provider's own page; the others were read on a secondary page or "
        "not found, and these figures use some of them. "
    )


def replace_readme_block(readme: str, lines: Lines) -> str:
    """README text with the marked block's contents replaced (unchanged without markers)."""
    start, end = readme.find(README_START), readme.find(README_END)
    if start < 0 or end < start or not lines:
        return readme
    head = readme[: start + len(README_START)]
    return head + "\n" + "\n".join(lines) + "\n" + readme[end:]
