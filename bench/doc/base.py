"""What every section of docs/benchmarks.md shares: the section type, formats, verdicts.

The rule the sections follow (tests/unit/test_bench_report.py checks it): a sentence that
states a figure, a comparison or a verdict is formatted from the results it is given, and a
verdict is computed here (`met`) from the figure and its limit. Fixed prose is either
`method()` text (how a figure is measured, never what it came out as) or a note in
bench/notes.md, which the document shows under a heading saying it was written by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Figures = Mapping[str, Any]
Lines = list[str]

# The scale of every "per 1,000 messages" figure (bench/cost.py and bench/round_trips.py
# scale to it): a unit, not a result.
PER_THOUSAND = 1000


@dataclass(frozen=True)
class Doc:
    """The whole run's results, and where each section landed (for cross-references)."""

    results: Figures
    numbers: Mapping[str, int]

    def ref(self, key: str) -> str:
        number = self.numbers.get(key)
        return f"§{number}" if number else key

    def raw(self, name: str) -> Figures | None:
        found = self.results.get("raw", {}).get(name)
        return found or None


def _nothing(_figures: Figures, _doc: Doc) -> list[Any]:
    return []


@dataclass(frozen=True)
class Section:
    """One numbered section of the document.

    `figures` picks the section's data out of the run's results (None: the section is left
    out); `body` renders it (the heading is added for it); `targets` returns its rows of the
    targets table ({"target", "measured", "met"}); `next_steps` returns recommendations, each
    emitted only when a figure of this run calls for it.
    """

    key: str
    title: str
    figures: Callable[[Figures], Figures | None]
    body: Callable[[Figures, Doc], Lines]
    targets: Callable[[Figures, Doc], list[dict[str, Any]]] = _nothing
    next_steps: Callable[[Figures, Doc], Lines] = _nothing


def raw(name: str) -> Callable[[Figures], Figures | None]:
    """Picks results["raw"][name], what the measuring module `name` returned."""
    return lambda results: results.get("raw", {}).get(name) or None


def top(name: str) -> Callable[[Figures], Figures | None]:
    """Picks results[name], a figure assembled from several sections (the cost model)."""
    return lambda results: results.get(name) or None


# --- verdicts ------------------------------------------------------------------------------
def met(figure: float, limit: float) -> bool:
    """A target is an upper bound, judged on the figure as the document shows it."""
    return figure <= limit


def verdict(is_met: bool | None) -> str:
    return "—" if is_met is None else ("**met**" if is_met else "**not met**")


def method(*parts: str) -> str:
    """A method paragraph: how the figures are produced. It states no outcome."""
    return "**Method.** " + "".join(parts)


# --- formats -------------------------------------------------------------------------------
def usd(value: float) -> str:
    if value < 0:
        return "\u2212" + usd(-value)
    if value == 0:
        return f"${value:.0f}"
    if abs(value) >= 1:
        return f"${value:,.2f}"
    if abs(value) >= 0.01:
        return f"${value:.3f}"
    return f"${value:.5f}"


def num(value: float) -> str:
    """One decimal at most (a median of two runs is a mean)."""
    rounded = round(float(value), 1)
    return f"{rounded:,.0f}" if rounded.is_integer() else f"{rounded:,.1f}"


def qty(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def times(value: float) -> str:
    return f"{value:g}\u00d7"


def percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "—"


def short(module: str) -> str:
    return module.rsplit(".", 1)[-1]


def services(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items())


def listing(items: Sequence[str]) -> str:
    """a, b and c."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
