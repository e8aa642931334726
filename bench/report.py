"""Turns the sections' raw results into docs/benchmarks.json and docs/benchmarks.md.

The document is the header, the targets table, one numbered section per entry of SECTIONS
(bench/doc/), the recommendations the figures call for, and bench/notes.md verbatim under a
heading that says it was written by hand. To add a section: give its module a
`SECTION = Section(...)` (bench/doc/base.py) and list it in SECTIONS; its number is its
place there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench import cost
from bench.doc import audit, cold_start, crypto, load, memory, round_trips, usage, voice
from bench.doc import cost as cost_doc
from bench.doc import crisis as crisis_doc
from bench.doc import scheduling as scheduling_doc
from bench.doc import usage_hour as usage_hour_doc
from bench.doc.base import Doc, Lines, Section, table, verdict

SECTIONS: tuple[Section, ...] = (
    round_trips.SECTION,
    cold_start.SECTION,
    crypto.SECTION,
    usage.SECTION,
    cost_doc.SECTION,
    load.SECTION,
    audit.SECTION,
    memory.SECTION,
    voice.SECTION,
    crisis_doc.SECTION,
    usage_hour_doc.SECTION,
    scheduling_doc.SECTION,
)
NOTES_PATH = Path(__file__).with_name("notes.md")
NOTES_HEADING = "## Notes written by hand (not computed from this run)"


def document(results: Mapping[str, Any]) -> Doc:
    return Doc(results, {section.key: n for n, section in enumerate(SECTIONS, 1)})


def _present(results: Mapping[str, Any]) -> list[tuple[int, Section, Mapping[str, Any]]]:
    found = []
    for number, section in enumerate(SECTIONS, 1):
        figures = section.figures(results)
        if figures:
            found.append((number, section, figures))
    return found


# --- assembling ------------------------------------------------------------------------------
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
    trips = raw.get("round_trips")
    synth = raw.get("cost_synth")
    if synth and synth.get("templates") and trips:
        results["cost"] = cost_doc.assemble(synth, trips, cost.Prices.load(), raw.get("voice"))
    elif previous_cost:
        results["cost"] = dict(previous_cost)
    results["targets"] = targets(results)
    return results


def targets(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    doc = document(results)
    return [
        {"section": number, **row}
        for number, section, figures in _present(results)
        for row in section.targets(figures, doc)
    ]


def to_json(results: Mapping[str, Any]) -> str:
    return json.dumps(results, indent=2, sort_keys=False, default=str) + "\n"


# --- the document ----------------------------------------------------------------------------
def to_markdown(results: Mapping[str, Any]) -> str:
    doc = document(results)
    machine = results["machine"]
    total = results.get("total_seconds")
    parts = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`, code in `bench/`); every figure is also in "
        "[benchmarks.json](benchmarks.json). Do not edit by hand: re-run the benchmark "
        "(`python -m bench --render-only` rebuilds this file from the JSON). It is not part of "
        "`make test`, and the test suite holds no timing assertion.",
        "",
        "Every sentence that states a figure, a comparison or a verdict is computed from this "
        "run's results; a *Method* paragraph says how figures are produced, never what they "
        "came out as. Interpretation written by hand is kept apart, in the last section.",
        "",
        f"Run on {machine['date']}: {machine['nproc']} CPUs, Python {machine['python']} "
        f"({machine['implementation']}), {machine['platform']}"
        + (f"; whole run {total} s." if total else "."),
        "Timed on that machine, not on Lambda: absolute times are for comparison within one "
        "run. Figures are medians over repeated runs (the counts are given per section); a "
        "ratio is always against a baseline measured in the same run.",
        "",
        "## Targets",
        "",
        table(
            ("§", "Target", "Measured", "Result"),
            (
                (f"§{t['section']}", t["target"], t["measured"], verdict(t["met"]))
                for t in results["targets"]
            ),
        ),
        "",
    ]
    for number, section, figures in _present(results):
        parts += [f"## {number}. {section.title}", "", *section.body(figures, doc)]
    parts += recommendations(results) + notes()
    return "\n".join(parts).rstrip() + "\n"


def recommendations(results: Mapping[str, Any]) -> Lines:
    doc = document(results)
    items = [
        item
        for _number, section, figures in _present(results)
        for item in section.next_steps(figures, doc)
    ]
    heading = [
        "## Recommendations (each appears only when a figure of this run calls for it)",
        "",
    ]
    if items:
        return [*heading, *(f"{n}. {text}" for n, text in enumerate(items, 1)), ""]
    judged = [t for t in results["targets"] if t["met"] is not None]
    missed = [t for t in judged if not t["met"]]
    if missed:
        return [
            *heading,
            f"None generated, although {len(missed)} of {len(judged)} targets are not met "
            "(see the table at the top).",
            "",
        ]
    return [
        *heading,
        f"None: all {len(judged)} targets are met and no check in this run flagged a problem.",
        "",
    ]


def notes() -> Lines:
    return [
        NOTES_HEADING,
        "",
        "Included verbatim from `bench/notes.md`: reasoning about the figures and the code, as "
        "of the date each note gives. Nothing in this section is computed from this run; where "
        "a note and the figures above disagree, the figures are what this run measured.",
        "",
        NOTES_PATH.read_text(encoding="utf-8").strip(),
        "",
    ]
