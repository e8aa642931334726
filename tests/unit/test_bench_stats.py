"""The benchmark's pure statistics helpers (bench/stats.py). No timing is asserted here."""

from __future__ import annotations

import pytest

from bench.stats import (
    critical_path_steps,
    describe_sequence,
    median,
    percentile,
    ratio,
    run_length,
    sequential_depth,
)

pytestmark = pytest.mark.unit


def test_given_values_when_median_then_middle_or_mean_of_two_middles() -> None:
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 3, 2]) == 2.5


def test_given_nothing_when_median_then_refused() -> None:
    with pytest.raises(ValueError, match="nothing"):
        median([])


@pytest.mark.parametrize(("pct", "expected"), [(0, 1.0), (50, 50.5), (99, 99.01), (100, 100.0)])
def test_given_1_to_100_when_percentile_then_linear_between_ranks(
    pct: float, expected: float
) -> None:
    assert percentile(range(1, 101), pct) == pytest.approx(expected)


def test_given_a_bad_percentile_when_asked_then_refused() -> None:
    with pytest.raises(ValueError, match="pct"):
        percentile([1, 2], 101)


def test_given_a_zero_baseline_when_ratio_then_refused() -> None:
    assert ratio(3, 2) == 1.5
    with pytest.raises(ValueError, match="baseline"):
        ratio(1, 0)


def test_given_calls_one_after_another_when_depth_then_each_counts() -> None:
    assert sequential_depth([(0, 1), (1, 2), (2.5, 3)]) == 3


def test_given_overlapping_calls_when_depth_then_they_count_once() -> None:
    # A read, then 4 decrypts in parallel, then a write.
    calls = [(0, 1), (1.1, 2), (1.1, 2.1), (1.2, 2), (1.15, 2.05), (2.2, 3)]

    assert sequential_depth(calls) == 3


def test_given_a_pool_of_two_when_four_calls_then_two_waves() -> None:
    # Workers pick the next call as soon as they finish: chains, not synchronized waves.
    calls = [(0, 1), (0.1, 1.1), (1.0, 2.0), (1.1, 2.1)]

    assert sequential_depth(calls) == 2


def test_given_a_read_parallel_decrypts_and_a_write_when_stepped_then_each_call_gets_its_step() -> (
    None
):
    # Input in start order, as the recorder keeps it; the decrypts overlap one another.
    calls = [(0, 1), (1.1, 2), (1.1, 2.1), (1.2, 2), (2.2, 3)]

    assert critical_path_steps(calls) == [1, 2, 2, 2, 3]


def test_given_a_call_that_starts_before_another_ends_when_stepped_then_same_step() -> None:
    # The second starts while the first is still out: they overlapped, one step each.
    assert critical_path_steps([(0, 1), (0.9, 2), (2.1, 3)]) == [1, 1, 2]


def test_given_no_calls_when_depth_then_zero() -> None:
    assert sequential_depth([]) == 0


def test_given_repeated_names_when_described_then_collapsed_in_order() -> None:
    names = ["dynamodb.GetItem", "dynamodb.GetItem", "kms.Decrypt", "dynamodb.GetItem"]

    assert run_length(names) == [
        ("dynamodb.GetItem", 2),
        ("kms.Decrypt", 1),
        ("dynamodb.GetItem", 1),
    ]
    assert describe_sequence(names) == (
        "dynamodb.GetItem \u00d72 \u2192 kms.Decrypt \u2192 dynamodb.GetItem"
    )
