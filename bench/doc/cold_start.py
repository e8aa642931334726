"""The cold-start section: each handler's import time against `import boto3` + one client."""

from __future__ import annotations

from collections.abc import Mapping
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
    short,
    table,
    times,
    verdict,
)


def _met(handler: Mapping[str, Any], data: Figures) -> bool:
    return met(handler["ratio_to_baseline"], data["target_ratio"])


def targets(data: Figures, _doc: Doc) -> list[dict[str, Any]]:
    handlers = data["handlers"]
    worst = max(handlers, key=lambda h: h["ratio_to_baseline"])
    passed = sum(_met(h, data) for h in handlers)
    return [
        {
            "target": f"each handler's import ≤ {times(data['target_ratio'])} "
            "(import boto3 + one client)",
            "measured": f"worst {times(worst['ratio_to_baseline'])} "
            f"({short(worst['module'])}); {passed} of {len(handlers)} met",
            "met": passed == len(handlers),
        }
    ]


def _ms(breakdown: Mapping[str, float]) -> str:
    return ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in breakdown.items())


def _comparison(data: Figures) -> Lines:
    """Figures about the slowest handler against the baseline, each from this run."""
    slowest = next((h for h in data["handlers"] if h["module"] == data["slowest"]), None)
    if slowest is None:
        return []
    name = short(data["slowest"])
    excess = slowest["import_ms"] - data["baseline_ms"]
    found = [
        f"The slowest handler (`{name}`) imports in {slowest['import_ms']} ms, "
        f"{abs(excess):.1f} ms {'more' if excess >= 0 else 'less'} than the baseline's "
        f"{data['baseline_ms']} ms."
    ]
    breakdown = data.get("slowest_breakdown_s", {})
    base = data.get("baseline_breakdown_s", {})
    if breakdown:
        found.append(f"Its largest packages by self time: {_ms(breakdown)}.")
    if base:
        found.append(f"The baseline's: {_ms(base)}.")
    both = [k for k in breakdown if k in base]
    if both:
        found.append(
            f"In both lists ({name} / baseline): "
            + ", ".join(f"{k} {breakdown[k] * 1000:.0f} / {base[k] * 1000:.0f} ms" for k in both)
            + "."
        )
    if "gc_ms" in slowest and "baseline_gc_ms" in data:
        found.append(
            f"Garbage-collector pauses (median): {slowest['gc_ms']} ms of the slowest's "
            f"import, {data['baseline_gc_ms']} ms of the baseline's."
        )
    return [" ".join(found), ""]


def body(data: Figures, _doc: Doc) -> Lines:
    rows = [
        (
            f"`{h['module']}`",
            h["import_ms"],
            times(h["ratio_to_baseline"]),
            verdict(_met(h, data)),
        )
        for h in data["handlers"]
    ]
    rows.append(
        (
            f"baseline: `import boto3` + one client (boto3 alone: {data['import_boto3_ms']} ms)",
            data["baseline_ms"],
            times(1),
            "",
        )
    )
    return [
        method(
            "Each sample is a fresh `python` process that times one ",
            "`importlib.import_module(handler)` with `perf_counter` (interpreter start-up not ",
            "counted), in a deployed function's environment: Powertools settings as ",
            "`infra/constructs/function.py` sets them and `AWS_LAMBDA_FUNCTION_NAME` set. The ",
            "baseline, timed the same way in the same run, is `import boto3` plus creating one ",
            "DynamoDB client. The handlers are found by listing `functions/handlers/`. One ",
            f"discarded warm-up round (byte-code, page cache), then {data['runs']} rounds, ",
            "baseline and handlers interleaved; medians. The per-package self times come from ",
            "one further `python -X importtime` run each (which adds its own overhead), summed ",
            "by top-level package; the garbage collector's pauses are timed with `gc.callbacks` ",
            "and are part of every import figure.",
        ),
        "",
        table(
            ("Module", "Import ms", "\u00d7 baseline", f"≤ {times(data['target_ratio'])}"),
            rows,
        ),
        "",
        *_comparison(data),
    ]


def next_steps(data: Figures, doc: Doc) -> Lines:
    over = [h for h in data["handlers"] if not _met(h, data)]
    if not over:
        return []
    return [
        f"Cold start ({doc.ref('cold_start')}): "
        + listing([f"`{short(h['module'])}` ({times(h['ratio_to_baseline'])})" for h in over])
        + f" above the {times(data['target_ratio'])} target; that section lists where the "
        "slowest handler's import spends its time."
    ]


SECTION = Section(
    key="cold_start",
    title="Cold start: handler import time",
    figures=raw("cold_start"),
    body=body,
    targets=targets,
    next_steps=next_steps,
)
