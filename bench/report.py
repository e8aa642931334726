"""Turns the sections' raw results into docs/benchmarks.json and docs/benchmarks.md."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bench import cost

INBOUND_TARGET = 3
THREAD_TARGET = 5
IDLE_TARGET_USD = 5.0


# --- assembling ---------------------------------------------------------------------------------
def assemble(
    raw: Mapping[str, Any],
    timings: Mapping[str, float],
    machine: Mapping[str, Any],
    previous_cost: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the documents show, computed from the sections' raw results."""
    results: dict[str, Any] = {
        "generated_by": "python -m bench (make bench)",
        "machine": dict(machine),
        "section_seconds": dict(timings),
        "raw": {k: v for k, v in raw.items() if k != "cost_synth"},
    }
    round_trips = raw.get("round_trips")
    synth = raw.get("cost_synth")
    if synth and synth.get("templates") and round_trips:
        results["cost"] = cost_section(synth, round_trips, cost.Prices.load())
    elif previous_cost:
        results["cost"] = dict(previous_cost)
    results["targets"] = targets(results)
    return results


def cost_section(
    synth: Mapping[str, Any], round_trips: Mapping[str, Any], prices: cost.Prices
) -> dict[str, Any]:
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
    }
    if idle:
        result["adds"] = {
            name: added_items(idle["items"], variant["items"])
            | {"delta_usd": variant["total_usd"] - idle["total_usd"]}
            for name, variant in variants.items()
            if name != "idle"
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
        }
        result["idle_target_met"] = idle["total_usd"] <= IDLE_TARGET_USD
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


def targets(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    raw = results["raw"]
    if "round_trips" in raw:
        ops = {op["key"]: op for op in raw["round_trips"]["operations"]}
        inbound = ops.get("inbound_sns")
        if inbound:
            others = ", ".join(
                f"{ops[k]['sequential_depth']} {label}"
                for k, label in (
                    ("inbound_twilio", "via Twilio"),
                    ("inbound_first_contact", "on a first contact"),
                    ("inbound_cold_instance", "on a new instance"),
                )
                if k in ops
            )
            found.append(
                {
                    "section": 1,
                    "target": f"inbound store ≤ {INBOUND_TARGET} sequential round trips",
                    "measured": f"{inbound['sequential_depth']} (warm instance; {others})",
                    "met": inbound["sequential_depth"] <= INBOUND_TARGET,
                }
            )
        thread = ops.get("thread_read_50")
        if thread:
            found.append(
                {
                    "section": 1,
                    "target": f"thread read of 50 messages ≤ {THREAD_TARGET} sequential "
                    "round trips",
                    "measured": f"{thread['sequential_depth']} ({thread['aws_calls']} calls)",
                    "met": thread["sequential_depth"] <= THREAD_TARGET,
                }
            )
    if "cold_start" in raw:
        cold = raw["cold_start"]
        worst = max(cold["handlers"], key=lambda h: h["ratio_to_baseline"])
        found.append(
            {
                "section": 2,
                "target": f"each handler's import ≤ {cold['target_ratio']}\u00d7 "
                "(import boto3 + one client)",
                "measured": f"worst {worst['ratio_to_baseline']}\u00d7 "
                f"({_short(worst['module'])}); "
                f"{sum(h['target_met'] for h in cold['handlers'])} of {len(cold['handlers'])} met",
                "met": cold["all_met"],
            }
        )
    if "crypto" in raw:
        crypto = raw["crypto"]
        ours = [r for r in crypto["results"] if r["variant"] == "ours_constant_key"]
        found.append(
            {
                "section": 3,
                "target": f"envelope encrypt + decrypt ≤ {crypto['target_ratio']}\u00d7 "
                "raw AES-256-GCM",
                "measured": ", ".join(
                    f"{r['ratio_to_floor']}\u00d7 at {r['body_chars']} chars" for r in ours
                )
                + (
                    " (against raw AES-256-GCM with a new key object per call, as any "
                    "key-per-field scheme needs: "
                    + ", ".join(f"{r['ratio_to_key_per_call_floor']}\u00d7" for r in ours)
                    + ")"
                    if all("ratio_to_key_per_call_floor" in r for r in ours)
                    else ""
                ),
                "met": crypto["target_met"],
            }
        )
    if (
        "cost" in results
        and "variants" in results["cost"]
        and "idle" in results["cost"]["variants"]
    ):
        idle = results["cost"]["variants"]["idle"]
        found.append(
            {
                "section": 5,
                "target": f"idle single-tenant deployment ≤ ${IDLE_TARGET_USD:.0f} a month "
                "(VPC, WAF off)",
                "measured": f"{usd(idle['total_usd'])} at list prices "
                f"({usd(idle['total_usd'] - idle['free_tier_credit_usd'])} "
                "with the always-free tiers)",
                "met": idle["total_usd"] <= IDLE_TARGET_USD,
            }
        )
    if "load" in raw:
        configs = raw["load"]["configurations"]
        found.append(
            {
                "section": 6,
                "target": "every accepted message stored exactly once (load test, "
                "duplicates included)",
                "measured": "; ".join(
                    f"{c['name']}: {c['stored_check']['accepted_messages']} accepted, "
                    f"{c['stored_check']['missing']} missing, "
                    f"{c['stored_check']['stored_more_than_once']} doubled"
                    for c in configs
                ),
                "met": all(c["stored_check"]["exactly_once"] for c in configs),
            }
        )
    return found


def to_json(results: Mapping[str, Any]) -> str:
    return json.dumps(results, indent=2, sort_keys=False, default=str) + "\n"


# --- formatting -----------------------------------------------------------------------------------
def usd(value: float) -> str:
    if value < 0:
        return "\u2212" + usd(-value)
    if value == 0:
        return "$0"
    if abs(value) >= 1:
        return f"${value:,.2f}"
    if abs(value) >= 0.01:
        return f"${value:.3f}"
    return f"${value:.5f}"


def _short(module: str) -> str:
    return module.rsplit(".", 1)[-1]


def _yes(met: bool | None) -> str:
    return "—" if met is None else ("**met**" if met else "**not met**")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _services(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items())


# --- the document ---------------------------------------------------------------------
def to_markdown(results: Mapping[str, Any]) -> str:
    machine = results["machine"]
    parts = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`, code in `bench/`); every figure is also in "
        "[benchmarks.json](benchmarks.json). Do not edit by hand: re-run the benchmark. It is "
        "not part of `make test`, and the test suite holds no timing assertion.",
        "",
        f"Run on {machine['date']}: {machine['nproc']} CPUs, Python {machine['python']} "
        f"({machine['implementation']}), {machine['platform']}"
        + (f"; whole run {results['total_seconds']} s." if results.get("total_seconds") else "."),
        "This is a development machine, not Lambda: absolute times are for comparison within "
        "one run. Each figure is a median over repeated runs (the count is given per section); "
        "a ratio is always against a baseline measured in the same run.",
        "",
        "## Targets",
        "",
        table(
            ("§", "Target", "Measured", "Result"),
            (
                (t["section"], t["target"], t["measured"], _yes(t["met"]))
                for t in results["targets"]
            ),
        ),
        "",
    ]
    raw = results["raw"]
    if "round_trips" in raw:
        parts += section_round_trips(raw["round_trips"])
    if "cold_start" in raw:
        parts += section_cold_start(raw["cold_start"])
    if "crypto" in raw:
        parts += section_crypto(raw["crypto"])
    if "round_trips" in raw:
        parts += section_usage(raw["round_trips"])
    if "cost" in results:
        parts += section_cost(results["cost"])
    if "load" in raw:
        parts += section_load(raw["load"])
    parts += section_recommendations(results)
    return "\n".join(parts).rstrip() + "\n"


def section_round_trips(data: Mapping[str, Any]) -> list[str]:
    latency = data["latency_ms"]
    ops = data["operations"]
    reference = data["one_round_trip"]
    rows = [
        (
            op["operation"],
            f"{op['aws_calls']} ({_services(op['calls_by_service'])})",
            op["sequential_depth"],
            op["effective_sequential_round_trips"],
            op["latency_attributable_round_trips"],
            f"{op['wall_ms_with_latency']} / {op['wall_ms_without_latency']}",
            op["target_sequential_round_trips"] or "—",
            _yes(op["target_met"]),
        )
        for op in ops
    ]
    sequences = [f"- **{op['operation']}**: {op['sequence']}" for op in ops]
    modeled = sorted({name for op in ops for name in op.get("modeled_calls", [])})
    return [
        "## 1. Round trips per operation",
        "",
        f"**Method.** Each operation runs through its real Lambda handler on an in-process "
        f"moto deployment (`bench/world.py`): the functions build their own boto3 clients "
        f"(`functions/dal/aws.py`), read the deployed environment variables and get the "
        f"events API Gateway, SNS, SQS and EventBridge would send; the staff API is called "
        f"as an admin after the Cognito authorizer, so idle-logoff, audit and read-volume "
        f"writes are included. A recorder registered on every client's `meta.events` counts "
        f"each AWS call (`before-call`) and, during the timed runs, sleeps {latency:g} ms "
        f"in that hook before the call goes out: a modeled network round trip on top of "
        f"moto. The hook runs on the calling thread, so the parallel KMS decrypts of "
        f"`EnvelopeCipher.decrypt_many` wait in parallel. "
        f"{_modeled_note(modeled)}"
        f"{data['runs']} runs with the latency and {data['runs']} without, alternating; "
        f"medians. Columns: *calls* — AWS API calls; *sequential* — the critical path: the "
        f"longest chain of calls each starting after the previous one ended (measured from "
        f"the calls' start and end times); *effective* — wall time ÷ {latency:g} ms, the "
        f"issue's measure, which also counts moto's and the code's own CPU time; "
        f"*latency-attributable* — (wall with latency \u2212 wall without) ÷ {latency:g} ms. "
        f"The targets are judged on *sequential*. *Latency-attributable* can fall below it "
        f"when moto's CPU work overlaps the modeled waits of parallel calls; *effective* "
        f"lies above it because it includes that work. For scale: one GetItem through the same "
        f"client takes {reference['wall_ms_with_latency']} ms with the latency and "
        f"{reference['wall_ms_without_latency']} ms without.",
        "",
        table(
            (
                "Operation",
                "AWS calls",
                "Sequential",
                f"Effective (wall ÷ {latency:g} ms)",
                "Latency-attributable",
                "Wall ms (latency / none)",
                "Target",
                "Result",
            ),
            rows,
        ),
        "",
        "Call sequences (in order; `\u00d7n` = n calls in a row, parallel where the sequential "
        "count is lower than the call count):",
        "",
        *sequences,
        "",
        *analysis_round_trips(ops),
        "",
    ]


def _modeled_note(modeled: Sequence[str]) -> str:
    if not modeled:
        return ""
    return (
        "Calls moto cannot serve are modeled the same way: "
        + ", ".join(modeled)
        + " (the simulated carrier, delayed and counted like an AWS call). "
    )


def analysis_round_trips(ops: Sequence[Mapping[str, Any]]) -> list[str]:
    """How each hot path overlaps its calls (the cipher's KMS waves and the data layer's
    combined reads, docs/architecture.md "Concurrency"), and what is left."""
    by_key = {op["key"]: op for op in ops}
    lines = ["**Where the round trips go.**", ""]
    inbound = by_key.get("inbound_sns")
    if inbound:
        verdict = "met" if inbound["target_met"] else "not met"
        lines += [
            f"- *Inbound ({inbound['sequential_depth']} sequential, target {INBOUND_TARGET}, "
            f"{verdict})*: the tenant profile and the conversation in one BatchGetItem (the "
            "conversation id comes from the cached blind-index key), then the data keys the "
            "write needs in one KMS wave (the body; a first contact's number and any reply "
            "with it, never a key ahead of need), then one TransactWriteItems, then any "
            "reply's enqueue. Staff are told off the request path, from the table's stream "
            "(no SNS Publish here). A new instance first looks up the number's tenant and "
            "unwraps the tenant's blind-index key, in order (the key lives in the tenant "
            "profile), once per instance.",
        ]
    thread = by_key.get("thread_read_50")
    if thread:
        verdict = "met" if thread["target_met"] else "not met"
        kms = thread["calls_by_service"].get("kms", 0)
        lines += [
            f"- *Thread read ({thread['sequential_depth']} sequential, target {THREAD_TARGET}, "
            f"{verdict})*: the session touch (idle logoff), the tenant and conversation "
            "(one BatchGetItem) and the page's Query are one data-layer wave; the page is "
            "decrypted only after the session "
            f"and visibility checks pass, its {kms} Decrypts in one wave on a thread pool that "
            "outlives the request; then the audit append (its chain head read at the start of "
            "the request) and the read counter together. On a busy two-CPU machine a wave's "
            "starts can spread over two modeled waits (each thread needs the interpreter lock "
            "to send), which is why this figure varies by one between runs.",
        ]
    accept = by_key.get("outbound_accept")
    if accept:
        lines += [
            f"- *Outbound accept ({accept['sequential_depth']} sequential, no target)*: the "
            "session touch, the tenant and the conversation in one wave; every check that can "
            "refuse the send (session, visibility, tenant, length, consent, opt-out) before "
            "the body's data key, so a refused send spends none; then the transaction, the "
            "enqueue and the audit append.",
        ]
    send = by_key.get("send")
    if send:
        lines += [
            f"- *Send ({send['sequential_depth']} sequential, no target)*: the claim returns "
            "the message (`ReturnValues=ALL_NEW`), the tenant and conversation are read "
            "alongside it (one BatchGetItem), the body and number are decrypted together, "
            "then the carrier call "
            "and the status transaction.",
        ]
    return lines


def _cold_start_gc(data: Mapping[str, Any]) -> str:
    slowest = next((h for h in data["handlers"] if h["module"] == data["slowest"]), {})
    if "gc_ms" not in slowest or "baseline_gc_ms" not in data:
        return ""
    return (
        f" The garbage collector's pauses are part of every figure: {slowest['gc_ms']} ms of "
        f"the slowest's import, {data['baseline_gc_ms']} ms of the baseline (medians); a "
        "larger heap makes each collection longer, and the self times above include the "
        "pauses wherever they fell, which is why boto3's own packages (botocore, urllib3) "
        "look slower inside a handler than in the baseline."
    )


def section_cold_start(data: Mapping[str, Any]) -> list[str]:
    rows = [
        (
            f"`{h['module']}`",
            h["import_ms"],
            f"{h['ratio_to_baseline']}\u00d7",
            _yes(h["target_met"]),
        )
        for h in data["handlers"]
    ]
    rows.append(
        (
            f"baseline: `import boto3` + one client (boto3 alone: {data['import_boto3_ms']} ms)",
            data["baseline_ms"],
            "1.00\u00d7",
            "",
        )
    )
    breakdown = data.get("slowest_breakdown_s", {})
    base_breakdown = data.get("baseline_breakdown_s", {})
    lines = [
        "## 2. Cold start: handler import time",
        "",
        "**Method.** Each sample is a fresh `python` process that times one "
        "`importlib.import_module(handler)` with `perf_counter` (interpreter start-up not "
        "counted), in a deployed function's environment: Powertools settings as "
        "`infra/constructs/function.py` sets them and `AWS_LAMBDA_FUNCTION_NAME` set, so "
        "Powertools behaves as in Lambda (tracing is Lambda's own active tracing: the "
        "functions run no X-Ray SDK). The baseline, timed the same way in "
        "the same run, is `import boto3` plus creating one DynamoDB client. The handlers are "
        "found by listing `functions/handlers/`. One discarded warm-up round (byte-code, page "
        f"cache), then {data['runs']} rounds, baseline and handlers interleaved; medians. "
        "The functions' boto3 clients are created lazily on the first request, so a "
        "handler's import does not include one (the baseline does). Every other module a "
        "handler's every request uses is imported at init, so it is in the figure "
        "(`tests/unit/test_handler_imports.py`); only path-specific ones load on first use "
        "(the staff API's user-admin and secure-link-send services, `phonenumbers` where "
        "only some requests parse a number, each of the staff API's pydantic body "
        "validators, built on its route's first request).",
        "",
        table(("Module", "Import ms", "\u00d7 baseline", f"≤ {data['target_ratio']}\u00d7"), rows),
        "",
        f"Where the slowest (`{_short(data['slowest'])}`) spends its import, by top-level package "
        "(self time summed over its modules, from one `python -X importtime` run, which "
        "inflates all figures a little): "
        + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in breakdown.items())
        + ". The baseline's: "
        + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in base_breakdown.items())
        + " (creating the client mostly loads the service model from JSON)."
        + _cold_start_gc(data),
        "",
    ]
    if not data["all_met"]:
        lines += [
            "**What dominates.** Every handler but `health` imports boto3, Powertools' Logger "
            "and Metrics and the data layer (with `cryptography`); the staff API and the "
            "secure page add Powertools' REST event handler, and the staff API pydantic, "
            "which its request validation needs on every request. The breakdown above lists "
            "the slowest's largest items; the staff API's excess over the secure page (same "
            "resolver, no pydantic) is pydantic with Powertools' validation and OpenAPI "
            "modules, its own routes and models, and the longer collections of its larger "
            "heap. The import is paid once per instance; a warm instance pays nothing.",
            "",
        ]
    return lines


def section_crypto(data: Mapping[str, Any]) -> list[str]:
    names = {
        "floor": "raw AES-256-GCM, prebuilt key (the floor)",
        "floor_key_object_per_call": "raw AES-256-GCM, new key object per call "
        "(the key-per-field floor)",
        "ours_constant_key": "**EnvelopeCipher, constant-key provider** (the target's subject)",
        "ours_local_wrap": "EnvelopeCipher, local AES-GCM key wrap (like-for-like with the ESDK)",
        "esdk_raw_aes_committing": "AWS Encryption SDK, raw AES master key, committing suite, "
        "no signature (the peer)",
        "esdk_raw_aes_default_suite": "AWS Encryption SDK, raw AES master key, default suite "
        "(ECDSA P-384)",
    }
    rows = [
        (
            r["body_chars"],
            names.get(r["variant"], r["variant"]),
            r["microseconds"],
            f"{r['per_second']:,}",
            f"{r['ratio_to_floor']}\u00d7",
            f"{r['ratio_to_key_per_call_floor']}\u00d7"
            if "ratio_to_key_per_call_floor" in r
            else "—",
            f"{r['ratio_to_esdk']}\u00d7" if r["ratio_to_esdk"] is not None else "—",
        )
        for r in data["results"]
    ]
    components = data.get("components_us", {})

    def by_size(variant: str) -> dict[int, Mapping[str, Any]]:
        return {r["body_chars"]: r for r in data["results"] if r["variant"] == variant}

    ours, floors = by_size("ours_constant_key"), by_size("floor")
    key_floors = by_size("floor_key_object_per_call")
    target = data["target_ratio"]
    lines = [
        "## 3. Envelope encryption (KMS excluded)",
        "",
        "**Method.** One figure is one encrypt followed by one decrypt of a body of the given "
        "length (ASCII, str in and str out, the stored record serialized and parsed in "
        "between), KMS excluded. Our scheme unwraps a data key per field through its "
        "`DataKeyProvider`; measured with a provider that returns one constant key and wraps "
        "nothing, the ratio to the floor is our own framing: a new AES-GCM key object per "
        "data key (inherent to a key per field), the length-prefixed AAD binding tenant, "
        "conversation, record and field, the KMS context dict, and the versioned record. "
        "The cipher caches nothing per key or location (in service each is used once), so "
        "reusing one location and one constant key across calls gives it no advantage. Two "
        "floors: the target is judged against raw AES-GCM with a prebuilt key; *\u00d7 "
        "key-per-field floor* is a second, separate judgement against raw AES-GCM that builds "
        "a new key object for each encryption and decryption, as any key-per-field scheme "
        "must. The "
        "local-wrap variant adds the data-key wrap that KMS does server-side in production, "
        "to compare like for like with the AWS Encryption SDK's raw AES master key (the "
        "legacy equivalent of its raw AES keyring; the keyring classes need the separate "
        f"material-providers library). ESDK {data.get('esdk_version') or '(not installed)'}; "
        "committing suite without signatures as the peer, the SDK's default suite (adds an "
        f"ECDSA P-384 signature) for reference. `timeit`, loop sized to "
        f"≥ {data.get('loop_seconds', 0.1):g} s, "
        f"{data['repeats']} rounds with all variants interleaved; medians.",
        "",
        table(
            (
                "Body chars",
                "Variant",
                "µs per encrypt+decrypt",
                "per second",
                "\u00d7 floor",
                "\u00d7 key-per-field floor",
                "\u00d7 ESDK",
            ),
            rows,
        ),
        "",
        "Our per-field pieces, timed alone (µs): "
        + ", ".join(f"{name} {us}" for name, us in components.items())
        + " (an encrypt and a decrypt each build a key object, the context dict and the AAD "
        "once; an encrypt also builds the record object and serializes it, a decrypt parses "
        "the stored bytes without building one).",
        "",
    ]
    if not (ours and floors and key_floors) or not all(
        "ratio_to_key_per_call_floor" in r for r in ours.values()
    ):
        return lines

    def ratios(key: str) -> str:
        return " and ".join(f"{r[key]}\u00d7 at {size} chars" for size, r in sorted(ours.items()))

    small = ours[min(ours)]
    floor, key_floor = floors[min(floors)], key_floors[min(key_floors)]
    peer = small.get("ratio_to_esdk")
    verdict = "Met" if data["target_met"] else "Not met"
    second = "met" if data.get("key_per_call_target_met") else "not met"
    lines += [
        f"**Result.** {verdict}: {small['microseconds']} µs against the floor's "
        f"{floor['microseconds']} µs at {min(ours)} chars ({ratios('ratio_to_floor')}). "
        "Second judgement, against the key-per-field floor: "
        f"{ratios('ratio_to_key_per_call_floor')} "
        f"(≤ {target}\u00d7: {second}). "
        "Above that floor remain the binding and the format, each paid once per field and "
        "none cached across calls: the AAD and the KMS context built on encrypt and again on "
        "decrypt (different requests in service), the typed record object and its "
        "serialization, and the strict parse. "
        + (
            f"The key-per-field floor is itself {key_floor['ratio_to_floor']}\u00d7 the "
            f"prebuilt-key floor, so ≤ {target}\u00d7 the prebuilt-key floor is out of reach "
            "for any key-per-field scheme. "
            if key_floor["ratio_to_floor"] > target
            else ""
        )
        + "In context: the whole envelope costs about "
        f"{small['microseconds']:.0f} µs per field against ~10 ms for the KMS round trip it "
        "rides on"
        + (f", and it is about {1 / peer:.0f}\u00d7 faster than the ESDK peer." if peer else "."),
        "",
    ]
    return lines


def section_usage(data: Mapping[str, Any]) -> list[str]:
    ops = data["operations"]
    rows = [
        (
            op["operation"],
            op.get("kms_requests", "—"),
            op["calls_by_service"].get("dynamodb", 0),
            op.get("read_units", "—"),
            op.get("write_units", "—"),
            op.get("log_bytes", "—"),
        )
        for op in ops
    ]
    batch = data["kms_inbound_batch"]
    sizes = data["stored_sizes"]
    thread = next((op for op in ops if op["key"] == "thread_read_50"), None)
    return [
        "## 4. KMS and DynamoDB usage",
        "",
        "**Method.** From the same operations as §1, in "
        f"{data['capacity_runs']} further untimed runs each (medians). KMS requests are the "
        "recorded calls. DynamoDB capacity: moto answers `ReturnConsumedCapacity` only with "
        "constants (1.0 per GetItem or Query whatever the item size, nothing at all for "
        "TransactWriteItems), so the units are *estimated* from the items actually read and "
        "written, by DynamoDB's documented on-demand rules (`bench/capacity.py`): reads "
        "ceil(size/4 KB), halved when eventually consistent; writes ceil(size/1 KB) of the "
        "larger of the item before and after (both fetched around each write with an "
        "unrecorded client); doubled inside transactions; plus one index write per index "
        "the item is in (two when its index key changes). *App log bytes* is what the "
        "function's logger wrote at INFO (Lambda's own START/END/REPORT lines not included).",
        "",
        table(
            (
                "Operation",
                "KMS requests",
                "DynamoDB calls",
                "Read units",
                "Write units",
                "App log bytes",
            ),
            rows,
        ),
        "",
        f"**KMS per 1,000 inbound messages:** {batch['kms_per_1000_inbound']:,}. Measured on a "
        f"new Lambda instance taking {batch['messages']} inbound texts from "
        f"{batch['first_contacts']} numbers in turn (so {batch['first_contacts']} first contacts, "
        f"{batch['first_contacts'] * 100 // batch['messages']} %): "
        f"{_services(batch['kms_by_operation'])}. Steady state is one GenerateDataKey per text, "
        "plus one per first contact (the number) and one Decrypt per new instance (the "
        "blind-index key)."
        + (
            f" **Per thread read of 50:** {thread.get('kms_requests')} Decrypts, one per "
            "message body (a data key per field: every read is a CloudTrail event naming the "
            "record)."
            if thread
            else ""
        ),
        "",
        f"Stored size: {sizes['bytes_per_message']:.0f} bytes per message on average (the "
        "message item with its encrypted body, plus its carrier-id item), counted over "
        f"{sizes['messages']} messages of this run.",
        "",
    ]


def section_cost(data: Mapping[str, Any]) -> list[str]:
    variants = data.get("variants", {})
    idle = variants.get("idle")
    lines = [
        "## 5. Monthly AWS cost model",
        "",
        "**Method.** The stack is synthesized by `infra.app_factory` from the repository's "
        "`quietline.config.json` (one practice, the AWS carrier) in four variants — as "
        "configured with VPC and WAF off (*idle*), VPC on, WAF on, the Twilio carrier — all "
        "in one app, bundling skipped, cdk-nag on "
        f"({data.get('synth_seconds')} s). The model reads each template at run time and "
        "prices every resource that is billed by the month or hour (counted by type), plus "
        "what an idle deployment runs by itself (its schedules and its SQS event sources' "
        "long polling). The variable cost multiplies §1/§4's measured figures per operation "
        "(handler wall time with the modeled latency as billed duration, AWS calls, KMS "
        "requests, capacity units, log bytes) by the prices, for the stated mix. Carrier "
        "fees (SMS, numbers) excluded. Resources with no standing charge (IAM, log groups, "
        "tables on demand, queues, topics, buckets, the trail's first copy of management "
        "events) appear only through their usage. The inbox's CloudFront distribution and "
        "its viewer function are billed per request and GB only, and a practice's staff and "
        "clients stay inside CloudFront's always-free tier (1 TB and 10 million requests a "
        "month), so the model leaves them out.",
        "",
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
    if idle:
        lines += [
            f"**Idle, VPC and WAF off** ({idle['resources']} resources):",
            "",
            table(
                ("Item", "Quantity", "Unit", "Monthly", "Note"),
                (
                    (
                        i["item"],
                        _qty(i["quantity"]),
                        usd(i["unit_usd"]),
                        usd(i["monthly_usd"]),
                        i["note"],
                    )
                    for i in idle["items"]
                ),
            ),
            "",
            f"Total **{usd(idle['total_usd'])} a month** at list prices; "
            f"{usd(idle['total_usd'] - idle['free_tier_credit_usd'])} if the account's "
            "always-free tiers are still unused (the first 10 alarm metrics, 1 million SQS "
            f"requests). Target ≤ ${IDLE_TARGET_USD:.0f}: {_yes(data.get('idle_target_met'))}.",
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
                            f"{i['item']} ({_qty(i['quantity'])}): {usd(i['delta_usd'])}"
                            for i in add["items"]
                        )
                        or "—",
                    )
                    for name, add in data.get("adds", {}).items()
                ),
            ),
            "",
        ]
    variable = data.get("variable_per_1000")
    if variable:
        mix = ", ".join(f"{_qty(n)} {k}" for k, n in variable["mix"].items())
        lines += [
            f"**Variable cost per 1,000 messages: {usd(variable['total_usd'])}** (AWS only, "
            f"carrier fees excluded). Mix per 1,000 messages: {mix} — half inbound, half "
            "outbound, each outbound sent and reported delivered once, and staff opening "
            "the inbox and one thread (a page of 50) per inbound text.",
            "",
            table(
                ("Component", "Per 1,000 messages"),
                ((name, usd(v)) for name, v in variable["by_component"].items()),
            ),
            "",
            table(
                ("Operation", "Count", "Each", "Per 1,000 messages"),
                (
                    (k, _qty(v["count"]), usd(v["usd_each"]), usd(v["usd"]))
                    for k, v in variable["by_operation"].items()
                ),
            ),
            "",
            "Assumptions: "
            + ", ".join(
                f"{k} = {v}" for k, v in data["assumptions"].items() if k != "message_mix_per_1000"
            )
            + ". Lambda duration is billed per ms at the template's memory size and "
            "architecture; free tiers not applied.",
            "",
        ]
    retention = data.get("retention_per_1000_per_month")
    metrics = data.get("custom_metrics_when_active")
    if retention:
        total = retention["storage"] + retention["pitr"] + retention["backups"]
        lines += [
            f"**Keeping messages:** 1,000 stored messages cost {usd(total)} a month while kept "
            f"(table {usd(retention['storage'])}, point-in-time recovery {usd(retention['pitr'])}, "
            f"AWS Backup {usd(retention['backups'])} for {cost.BACKUP_COPIES} retained full copies "
            "at steady state).",
            "",
        ]
    if metrics:
        lines += [
            f"**Once traffic flows**, the functions publish {len(metrics['names'])} custom "
            f"metrics seen in this run ({', '.join(metrics['names'])}): "
            f"{usd(metrics['monthly_usd'])} "
            "a month for the months they are published (prorated by the hour; the 10-metric "
            "free tier would cover most of it). Not part of the idle figure.",
            "",
        ]
    if idle and not data.get("idle_target_met"):
        keys = next((i for i in idle["items"] if i["price_key"] == "kms_key_month"), None)
        alarms = next(
            (i for i in idle["items"] if i["price_key"] == "cloudwatch_alarm_metric_month"), None
        )
        lines += [
            "**What dominates, and what would fix it.** "
            + (f"{_qty(keys['quantity'])} KMS keys ({usd(keys['monthly_usd'])}) " if keys else "")
            + (
                f"and {_qty(alarms['quantity'])} alarm metrics ({usd(alarms['monthly_usd'])}) "
                if alarms
                else ""
            )
            + "make up nearly all of the idle cost; everything else is cents. The tenant key is "
            "the design (crypto-shredding per practice) and the platform key protects the "
            "table, logs and queues; the other keys (see the note above) could be folded into "
            "the platform key with a key-policy statement for their service (\u2212$1 a month "
            "each; the price is less separation between, e.g., the trail's readers and the "
            "platform's). Alarms are billed per metric evaluated, so merging them with metric "
            "math saves nothing; only dropping some does (e.g. the account-level security "
            "alarms where the organization already alarms on the same events). In an account "
            "with no other alarms, the always-free tier covers ten of them.",
            "",
        ]
    if idle:
        counts = idle["resource_counts"]
        lines += [
            "<details><summary>Resources of the idle template, by type</summary>",
            "",
            table(("Type", "Count"), counts.items()),
            "",
            "</details>",
            "",
        ]
    return lines


def _num(value: float) -> str:
    """One decimal at most (a median of two runs is a mean)."""
    return f"{value:,.1f}".removesuffix(".0")


def _qty(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def section_load(data: Mapping[str, Any]) -> list[str]:
    configs = data["configurations"]
    rows = [
        (
            c["name"],
            f"{len(c['per_run'])} \u00d7 {c['seconds_per_run']:g} s",
            _num(c["median"]["messages_per_second"]),
            _num(c["median"]["latency_ms_p50"]),
            _num(c["median"]["latency_ms_p99"]),
            _num(c["median"]["errors"]),
            _num(c["median"]["requests"]),
            _num(c["median"]["duplicates_sent"]),
        )
        for c in configs
    ]
    checks = [
        (
            c["name"],
            c["stored_check"]["accepted_messages"],
            c["stored_check"]["duplicate_requests_answered_200"],
            c["stored_check"]["missing"],
            c["stored_check"]["stored_more_than_once"],
            f"{c['stored_check']['runs_not_exactly_once']} of {len(c['per_run'])}",
            ", ".join(f"{k} {v}" for k, v in c["webhook_outcomes"].items()),
            f"{c['stored_check']['retry_queue_at_end']} / {c['stored_check']['retry_dlq_at_end']}",
            f"{c['runtime_log']['moto_server_errors']} ({c['runtime_log']['moto_copy_races']})",
        )
        for c in configs
    ]
    logs = sum(c["runtime_log"]["lines"] for c in configs)
    phone = sum(c["runtime_log"]["phone_shaped_strings"] for c in configs)
    lost = [c for c in configs if not c["stored_check"]["exactly_once"]]
    lines = [
        "## 6. Load on the local stack",
        "",
        "**Method.** `python -m local.runtime` (what `make run` starts) runs as a subprocess on "
        "127.0.0.1 with `QUIETLINE_PORT=0` and its state in a temporary directory; the "
        "benchmark reads `local.json` for the webhook URL, the Twilio auth token, the "
        "business number and the moto endpoint. Sender threads post signed inbound Twilio "
        "webhooks, each with a distinct MessageSid, "
        "from the fictional 555-01xx numbers (one area code per thread); every "
        f"{data['duplicate_every']}th request of a thread re-sends one of its earlier webhooks "
        "unchanged (a carrier retry), except in the control configuration. Each run starts a "
        "fresh runtime (the same empty table); runs and seconds per configuration as in the "
        "table, medians (latency percentiles are per run, then the median of the runs). "
        "Afterwards, "
        "once the retry queue is empty, the inbound message items in the runtime's table are "
        "scanned through the moto endpoint and counted by carrier id: every message answered "
        "200 must be stored exactly once. The outcomes the webhook handler logged, the retry "
        "queue and its DLQ, and moto's own errors in the runtime's log are counted too. "
        "Bounded: at most 5,000 requests per run, 127.0.0.1 only.",
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
        f"Throughput with {configs[0]['senders']} senders is "
        f"{data['throughput_ratio_to_one_sender']}\u00d7 that with one (the baseline).",
        "",
        table(
            (
                "Configuration",
                "Accepted",
                "Duplicates answered 200",
                "Missing",
                "Stored twice",
                "Runs not exactly once",
                "Handler outcomes (all runs)",
                "Retry queue / DLQ at end",
                "moto 500s (copy races)",
            ),
            checks,
        ),
        "",
        f"The runtime's log ({logs:,} lines over all runs) held {phone} phone-number-shaped "
        "strings.",
        "",
        "**Reading it.** These are local-mode figures, not Lambda's: one Python process serves "
        "the webhooks, runs moto (over HTTP, on the same two cores) and the queue workers, so "
        "concurrent senders mostly contend for the interpreter lock and more senders raise "
        "latency, not throughput. Local mode also runs one request at a time per handler, as "
        "one Lambda instance does (`local/server.py`; Lambda would add instances), and moto's "
        "DynamoDB one request at a time (`local/moto_dynamodb.py`: moto does not isolate "
        "concurrent transactions, DynamoDB does).",
        "",
    ]
    if lost:
        lines += ["**Why messages were lost or doubled.** " + _load_evidence(configs, lost), ""]
    else:
        races = sum(c["runtime_log"]["moto_copy_races"] for c in configs)
        lines += [
            "Every accepted message was stored exactly once, duplicates included."
            + (
                f" moto's transaction copy raced with concurrent writers {races} times "
                "(answered as 500s that botocore retried). That copy is also a hazard: moto "
                "5's `transact_write_items` deep-copies every table a transaction touches, "
                "without a lock, and when a condition fails (as the carrier-id guard does for "
                "each duplicate) it puts the copy back as the whole table, undoing writes "
                "other threads committed meanwhile. In some runs of this benchmark that lost "
                "or doubled a message under concurrent duplicates; real DynamoDB isolates "
                "transactions and cannot. `local/moto_dynamodb.py` serializes moto's "
                "DynamoDB requests to remove it: check it is installed."
                if races
                else ""
            ),
            "",
        ]
    return lines


def _load_evidence(configs: Sequence[Mapping[str, Any]], lost: Sequence[Mapping[str, Any]]) -> str:
    """The moto explanation, with each piece of evidence stated only if this run shows it."""
    deferred = sum(c["webhook_outcomes"].get("deferred", 0) for c in lost)
    queued = sum(
        c["stored_check"]["retry_queue_at_end"] + c["stored_check"]["retry_dlq_at_end"]
        for c in lost
    )
    single = next((c for c in configs if c["senders"] == 1), None)
    control = next((c for c in configs if c["duplicate_every"] == 0), None)
    evidence = [
        f"the handler answered *deferred* {deferred} times"
        + (
            " (so every accepted message was answered *stored* or *duplicate*)"
            if deferred == 0
            else ""
        ),
        f"{queued} messages were left on the retry queue and its DLQ",
    ]
    if single:
        evidence.append(
            "the one-sender runs (no concurrent transactions) were "
            + ("exact" if single["stored_check"]["exactly_once"] else "NOT exact")
        )
    if control:
        evidence.append(
            "the control without duplicates (no failing transactions, so no rollbacks) was "
            + ("exact" if control["stored_check"]["exactly_once"] else "NOT exact")
        )
    return (
        "moto 5's `transact_write_items` (moto/dynamodb/models/__init__.py) deep-copies "
        "every table a transaction touches before applying it, without a lock, and when any "
        "condition fails — as the carrier-id guard does for every duplicate — it puts that "
        "copy back as the whole table. Writes other threads committed in between are "
        "silently undone (a message answered *stored* disappears), and an undone guard item "
        "lets a later copy of the same message through (stored twice). The same copy also "
        "races with concurrent writers (`RuntimeError: dictionary changed size during "
        "iteration`, answered as a 500 that botocore retries; counted above). Real DynamoDB "
        "isolates transactions and does neither. In this run: "
        + "; ".join(evidence)
        + ". Read this as a limit of the local stack under concurrent duplicates, not as a "
        "loss in Quietline's logic; `local/moto_dynamodb.py` serializes moto's DynamoDB "
        "requests to prevent it: check it is installed in the process that served the run."
    )


def section_recommendations(results: Mapping[str, Any]) -> list[str]:
    ops = {op["key"]: op for op in results["raw"].get("round_trips", {}).get("operations", [])}
    items = []
    if "inbound_sns" in ops and not ops["inbound_sns"]["target_met"]:
        items.append(
            "Inbound: read the tenant profile and the conversation in one batch, then the "
            "data keys in one wave, then write; notify off the request path: "
            f"{ops['inbound_sns']['sequential_depth']} → 3 sequential round trips."
        )
    if "thread_read_50" in ops and not ops["thread_read_50"]["target_met"]:
        items.append(
            "Thread read and conversation list: raise `max_parallel_decrypts` to the page size "
            "with a matching `max_pool_connections` (`functions/container.py`, "
            "`functions/dal/aws.py`); run the session touch and the tenant, conversation and "
            "page reads together, and the read counter alongside the audit append: "
            f"{ops['thread_read_50']['sequential_depth']} → 4."
        )
    cold = results["raw"].get("cold_start")
    if cold and not cold["all_met"]:
        items.append("Cold start: see §2 for where the slowest handler's import spends its time.")
    idle = results.get("cost", {}).get("idle_target_met")
    if idle is False:
        items.append(
            "Idle cost: fold the single-purpose KMS keys (inbound-SMS topic, trail) into the "
            "platform key if that separation is not required (\u2212$1 a month each)."
        )
    crypto = results["raw"].get("crypto")
    if crypto and not crypto["target_met"]:
        items.append(
            "Envelope: nothing left that is not the scheme's own price (a key object, AAD and "
            "KMS context per encryption and per decryption, the typed record); the target "
            "would need a different scheme (docs/key-scheme.md), not leaner framing (§3)."
        )
    load = results["raw"].get("load")
    if load and (
        not all(c["stored_check"]["exactly_once"] for c in load["configurations"])
        or any(c["runtime_log"]["moto_copy_races"] for c in load["configurations"])
    ):
        items.append(
            "Local mode: check that `local/moto_dynamodb.py` is installed in the runtime "
            "(it serializes moto's DynamoDB requests, which moto does not isolate), so `make "
            "run` keeps exactly-once under concurrent duplicates as DynamoDB does (§6)."
        )
    if not items:
        return ["## Recommendations", "", "All targets met; nothing to change.", ""]
    return [
        "## Recommendations (changes to `functions/`, `infra/` and `local/` not made by the "
        "benchmark)",
        "",
        *(f"{n}. {text}" for n, text in enumerate(items, 1)),
        "",
    ]
