"""The crisis section: the phrase matcher's recall and false-positive rate on the corpus."""

from __future__ import annotations

from typing import Any

from bench.doc.base import Doc, Figures, Lines, Section, met, method, num, percent, raw, table

# The thresholds tests/unit/test_crisis_matcher.py asserts (argued in docs/crisis.md).
RECALL_FLOOR = 0.90
FPR_CEILING = 0.05


def body(data: Figures, _doc: Doc) -> Lines:
    crisis, caught = data["crisis_by_category"], data["caught_by_category"]
    ordinary, flagged = data["ordinary_by_category"], data["flagged_by_category"]
    rows = [
        (c, "crisis", n, caught.get(c, 0), percent(caught.get(c, 0), n)) for c, n in crisis.items()
    ] + [
        (c, "ordinary", n, flagged.get(c, 0), percent(flagged.get(c, 0), n))
        for c, n in ordinary.items()
    ]
    lines: Lines = [
        method(
            "Every message of the labelled corpus (`",
            data["corpus"],
            "`, synthetic, written ",
            "for this purpose) goes through `CrisisMatcher` with the built-in phrase list. ",
            "Recall: crisis messages flagged over crisis messages. False-positive rate: ordinary ",
            "messages flagged over ordinary messages (most of them are hard negatives, so this ",
            "overstates the rate on everyday traffic). Negated statements are labelled crisis: ",
            "the matcher flags them on purpose (docs/crisis.md).",
        ),
        "",
        f"On {data['messages']} messages, recall was {percent(data['recall'], 1)} "
        f"(floor {percent(RECALL_FLOOR, 1)}) and the false-positive rate "
        f"{percent(data['false_positive_rate'], 1)} (ceiling {percent(FPR_CEILING, 1)}); "
        f"{data['negated_flagged']} of the flagged crisis messages were negated statements. "
        f"Matching took {num(data['microseconds_per_message'])} µs per message.",
        "",
        table(("Category", "Label", "Messages", "Flagged", "Share flagged"), rows),
        "",
    ]
    lines += _listed("Missed crisis messages", data["misses"])
    lines += _listed("Ordinary messages flagged", data["false_positives"])
    return lines


def _listed(title: str, items: list[dict[str, str]]) -> Lines:
    if not items:
        return [f"{title}: none.", ""]
    rows = sorted((i["category"], i["text"].replace("|", "\\|")) for i in items)
    return [f"{title} ({len(items)}), by category:", "", table(("Category", "Text"), rows), ""]


def targets(data: Figures, _doc: Doc) -> list[dict[str, Any]]:
    miss_rate = 1 - data["recall"]
    return [
        {
            "target": f"Crisis recall ≥ {percent(RECALL_FLOOR, 1)} on the corpus",
            "measured": percent(data["recall"], 1),
            "met": met(miss_rate, 1 - RECALL_FLOOR),
        },
        {
            "target": f"Crisis false-positive rate ≤ {percent(FPR_CEILING, 1)} on the corpus",
            "measured": percent(data["false_positive_rate"], 1),
            "met": met(data["false_positive_rate"], FPR_CEILING),
        },
    ]


SECTION = Section(
    key="crisis",
    title="Crisis safety net: recall and false-positive rate on the labelled corpus",
    figures=raw("crisis"),
    body=body,
    targets=targets,
)
