"""Pure helpers: medians, percentiles, ratios and the sequential depth of overlapping calls."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence


def median(values: Iterable[float]) -> float:
    found = list(values)
    if not found:
        raise ValueError("median of nothing")
    return float(statistics.median(found))


def percentile(values: Iterable[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), pct in [0, 100]."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of nothing")
    if not 0 <= pct <= 100:
        raise ValueError("pct must be within 0..100")
    position = (len(ordered) - 1) * pct / 100
    low, high = math.floor(position), math.ceil(position)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


def ratio(value: float, baseline: float) -> float:
    if baseline <= 0:
        raise ValueError("baseline must be positive")
    return value / baseline


def sequential_depth(intervals: Sequence[tuple[float, float]]) -> int:
    """The longest chain of calls each starting after the previous one ended.

    Calls that overlap in time ran in parallel and count once; a call that starts after
    another finished had to wait for it (or at least did). So this is the number of
    sequential round trips on the critical path: 50 decrypts 16 at a time give 4, not 50.
    """
    return max(critical_path_steps(intervals), default=0)


def critical_path_steps(intervals: Sequence[tuple[float, float]]) -> list[int]:
    """Each call's step (1-based, in the input's order): the length of the longest chain of
    calls ending with it, each starting after the previous one ended. Two calls of one step
    overlapped in time (had one ended before the other started, their steps would differ)."""
    order = sorted(range(len(intervals)), key=lambda index: intervals[index][1])
    steps = [0] * len(intervals)
    for position, index in enumerate(order):
        start = intervals[index][0]
        before = [steps[j] for j in order[:position] if intervals[j][1] <= start]
        steps[index] = 1 + max(before, default=0)
    return steps


def run_length(names: Sequence[str]) -> list[tuple[str, int]]:
    """Consecutive equal names collapsed: [a, a, b] -> [(a, 2), (b, 1)]."""
    runs: list[tuple[str, int]] = []
    for name in names:
        if runs and runs[-1][0] == name:
            runs[-1] = (name, runs[-1][1] + 1)
        else:
            runs.append((name, 1))
    return runs


def describe_sequence(names: Sequence[str], separator: str = " → ") -> str:
    return separator.join(
        name if count == 1 else f"{name} \u00d7{count}" for name, count in run_length(names)
    )
