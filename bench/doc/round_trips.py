"""The round-trips section: AWS calls and sequential round trips per operation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bench.doc.base import (
    Doc,
    Figures,
    Lines,
    Section,
    listing,
    met,
    method,
    raw,
    services,
    table,
    verdict,
)

# Operations with a target that the targets table judges, each with the variants of the same
# path shown beside it (judged in the section's own table, not in the targets table).
HEADLINES: Mapping[str, Sequence[tuple[str, str]]] = {
    "inbound_sns": (
        ("inbound_twilio", "via Twilio"),
        ("inbound_first_contact", "on a first contact"),
        ("inbound_cold_instance", "on a new instance"),
    ),
    "thread_read_50": (),
}


def _operations(data: Figures) -> dict[str, Mapping[str, Any]]:
    return {op["key"]: op for op in data["operations"]}


def op_met(op: Mapping[str, Any]) -> bool | None:
    target = op.get("target_sequential_round_trips")
    return None if target is None else met(op["sequential_depth"], target)


def _depth(op: Mapping[str, Any]) -> str:
    low, high = op.get("sequential_depth_range") or (op["sequential_depth"],) * 2
    if low == high:
        return str(op["sequential_depth"])
    return f"{op['sequential_depth']} ({low} to {high})"


def targets(data: Figures, _doc: Doc) -> list[dict[str, Any]]:
    ops = _operations(data)
    found = []
    for key, variants in HEADLINES.items():
        op = ops.get(key)
        if not op or op.get("target_sequential_round_trips") is None:
            continue
        beside = [f"{ops[k]['sequential_depth']} {label}" for k, label in variants if k in ops]
        found.append(
            {
                "target": f"{op['operation']}: ≤ {op['target_sequential_round_trips']} "
                "sequential round trips",
                "measured": f"{op['sequential_depth']} ({op['aws_calls']} calls"
                + ("; " + ", ".join(beside) if beside else "")
                + ")",
                "met": op_met(op),
            }
        )
    return found


def _modeled_note(modeled: Sequence[str]) -> str:
    if not modeled:
        return ""
    return (
        "Calls moto cannot serve are modeled the same way: "
        + ", ".join(modeled)
        + " (the simulated carrier, delayed and counted like an AWS call). "
    )


def body(data: Figures, _doc: Doc) -> Lines:
    latency = data["latency_ms"]
    ops = data["operations"]
    reference = data["one_round_trip"]
    rows = [
        (
            op["operation"],
            f"{op['aws_calls']} ({services(op['calls_by_service'])})",
            _depth(op),
            op["effective_sequential_round_trips"],
            op["latency_attributable_round_trips"],
            f"{op['wall_ms_with_latency']} / {op['wall_ms_without_latency']}",
            op["target_sequential_round_trips"] or "—",
            verdict(op_met(op)),
        )
        for op in ops
    ]
    modeled = sorted({name for op in ops for name in op.get("modeled_calls", [])})
    lines = [
        method(
            "Each operation runs through its real Lambda handler on an in-process moto ",
            "deployment (`bench/world.py`, one container per simulated Lambda instance): the ",
            "functions build their own boto3 clients, read the deployed environment variables ",
            "and get the events API Gateway, SNS, SQS and EventBridge would send; the staff API ",
            "is called as an admin after the Cognito authorizer. A recorder registered on every ",
            "client's `meta.events` counts each AWS call (`before-call`) and, during the timed ",
            f"runs, sleeps {latency:g} ms in that hook before the call goes out: a modeled ",
            "network round trip on top of moto. The hook runs on the calling thread, so calls ",
            "made in parallel wait in parallel. ",
            _modeled_note(modeled),
            f"{data['runs']} runs with the latency and {data['runs']} without, alternating; ",
            "medians. Columns: *calls* — AWS API calls; *sequential* — the critical path: the ",
            "longest chain of calls each starting after the previous one ended (measured from ",
            "the calls' start and end times), with the range over the timed runs when it ",
            f"varied; *effective* — wall time ÷ {latency:g} ms, which also counts moto's and ",
            "the code's own CPU time; *latency-attributable* — (wall with latency \u2212 wall ",
            f"without) ÷ {latency:g} ms. The targets are judged on the median *sequential*. ",
            "By construction *effective* is at least *sequential* (the modeled waits of one ",
            "chain add up); *latency-attributable* can be lower, when moto's CPU work overlaps ",
            "the modeled waits of parallel calls.",
        ),
        "",
        f"For scale: one GetItem through the same client took "
        f"{reference['wall_ms_with_latency']} ms with the latency and "
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
    ]
    return lines + _steps(ops)


def _steps(ops: Sequence[Mapping[str, Any]]) -> Lines:
    """Where the round trips go, read off the calls' own times (older results: the order)."""
    if not all(op.get("steps") for op in ops if op["aws_calls"]):
        return [
            "Call sequences of the last timed run (in order; `\u00d7n` = n calls in a row):",
            "",
            *(f"- **{op['operation']}**: {op['sequence']}" for op in ops),
            "",
        ]
    lines = [
        "Calls by step on the critical path, from the last timed run: each bracket is one "
        "step, and the calls in one bracket overlapped in time (`\u00d7n` = n such calls).",
        "",
    ]
    for op in ops:
        steps = op.get("steps", [])
        differs = (
            f" (this run: {len(steps)} steps; median {op['sequential_depth']})"
            if len(steps) != op["sequential_depth"]
            else ""
        )
        lines.append(f"- **{op['operation']}**: " + " → ".join(f"[{s}]" for s in steps) + differs)
    return [*lines, ""]


def next_steps(data: Figures, doc: Doc) -> Lines:
    ops = _operations(data)
    missed = [ops[key] for key in HEADLINES if key in ops and op_met(ops[key]) is False]
    if not missed:
        return []
    return [
        f"Round trips ({doc.ref('round_trips')}): "
        + listing(
            [
                f"{op['operation']} takes {op['sequential_depth']} sequential round trips "
                f"against a target of {op['target_sequential_round_trips']}"
                for op in missed
            ]
        )
        + "; the steps in that section show which calls wait for which."
    ]


SECTION = Section(
    key="round_trips",
    title="Round trips per operation",
    figures=raw("round_trips"),
    body=body,
    targets=targets,
    next_steps=next_steps,
)
