"""Section "Crisis safety net": recall and false-positive rate of the crisis-phrase matcher on
the labelled corpus (tests/data/crisis_corpus.csv), with every miss listed by category.

The corpus is synthetic (written for this purpose, no real people): crisis messages of each
category and ordinary ones, many of them hard negatives ("this homework is killing me").
The same evaluation backs the unit test's thresholds (tests/unit/test_crisis_matcher.py).
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from functions.logic.crisis import CrisisMatcher

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "crisis_corpus.csv"
CRISIS = "crisis"


@dataclass(frozen=True)
class LabelledMessage:
    text: str
    label: str  # "crisis" or "ordinary"
    category: str  # a CrisisCategory value, or "ordinary" / "hard_negative"


@dataclass
class Evaluation:
    crisis_total: Counter[str] = field(default_factory=Counter)
    caught: Counter[str] = field(default_factory=Counter)
    ordinary_total: Counter[str] = field(default_factory=Counter)
    flagged: Counter[str] = field(default_factory=Counter)
    negated_flagged: int = 0
    misses: list[LabelledMessage] = field(default_factory=list)
    false_positives: list[LabelledMessage] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return sum(self.caught.values()) / max(1, sum(self.crisis_total.values()))

    @property
    def false_positive_rate(self) -> float:
        return sum(self.flagged.values()) / max(1, sum(self.ordinary_total.values()))


def load_corpus(path: Path = CORPUS) -> list[LabelledMessage]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            LabelledMessage(r["text"], r["label"], r["category"]) for r in csv.DictReader(handle)
        ]


def evaluate(matcher: CrisisMatcher, corpus: list[LabelledMessage]) -> Evaluation:
    result = Evaluation()
    for message in corpus:
        match = matcher.check(message.text)
        if message.label == CRISIS:
            result.crisis_total[message.category] += 1
            if match is None:
                result.misses.append(message)
            else:
                result.caught[message.category] += 1
                result.negated_flagged += match.negated
        else:
            result.ordinary_total[message.category] += 1
            if match is not None:
                result.flagged[message.category] += 1
                result.false_positives.append(message)
    return result


def run() -> dict[str, Any]:
    corpus = load_corpus()
    matcher = CrisisMatcher()
    started = time.perf_counter()
    result = evaluate(matcher, corpus)
    elapsed = time.perf_counter() - started
    return {
        "corpus": str(CORPUS.relative_to(CORPUS.parents[2])),
        "messages": len(corpus),
        "crisis_by_category": dict(result.crisis_total),
        "caught_by_category": dict(result.caught),
        "ordinary_by_category": dict(result.ordinary_total),
        "flagged_by_category": dict(result.flagged),
        "negated_flagged": result.negated_flagged,
        "recall": result.recall,
        "false_positive_rate": result.false_positive_rate,
        "misses": [{"category": m.category, "text": m.text} for m in result.misses],
        "false_positives": [
            {"category": m.category, "text": m.text} for m in result.false_positives
        ],
        "microseconds_per_message": 1e6 * elapsed / max(1, len(corpus)),
    }
